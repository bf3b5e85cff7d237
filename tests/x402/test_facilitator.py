"""chainpay's x402 facilitator on the in-process chain: a good payment verifies and settles once; every
refusal (bad signature, wrong network, asset, payee or amount, expired, not yet valid, replayed,
unregistered, frozen, paused, over the daily limit) is the right x402 reason with nothing sent; the
official SDK's facilitator client talks to it over HTTP; refundable payments land in the escrow and are
refunded within the cooling-off."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
import uvicorn
from support import free_port

from chainpay.currency.registry import identity_id
from chainpay.x402 import Facilitator, create_facilitator_app
from chainpay.x402 import protocol as p

PRICE = 25  # base units: 0.25 yuan


@pytest.fixture
def facilitator(system, actors):
    relayer = actors.spare[0]
    system.registry.register_identity(identity_id("x402 facilitator"), 3, relayer, sender=actors.officer_a)
    return Facilitator(system.currency, relayer, escrow=system.transfers)


def payment(fac, auth, requirement: p.Requirement, **accepted_changes) -> tuple[dict, dict]:
    """(x402 payment, requirement JSON) for a chainpay-signed authorization."""
    sig = auth.signature
    accepted = {**requirement.to_json(), **accepted_changes}
    body = {"authorization": {"from": auth.sender, "to": auth.to, "value": str(auth.value),
                              "validAfter": str(auth.valid_after), "validBefore": str(auth.valid_before),
                              "nonce": "0x" + auth.nonce.hex()},
            "signature": "0x" + (sig.r + sig.s + bytes([sig.v])).hex()}
    return {"x402Version": 2, "accepted": accepted, "payload": body}, requirement.to_json()


def state(system, actors, chain):
    cur = system.currency
    return chain.block_number, cur.balance_of(actors.alice), cur.balance_of(actors.bob)


def test_a_good_payment_verifies_settles_once_and_moves_the_money(system, actors, chain, facilitator):
    cur = system.currency
    req = facilitator.requirement(actors.bob.address, PRICE)
    auth = cur.sign_authorization(actors.alice, actors.bob, Decimal("0.25"))
    pay, wire = payment(facilitator, auth, req)
    assert facilitator.verify(pay, wire) == {"isValid": True, "payer": actors.alice.address}
    before = cur.balance_of(actors.alice), cur.balance_of(actors.bob)
    settled = facilitator.settle(pay, wire)
    assert settled["success"] and settled["amount"] == "25" and settled["network"] == f"eip155:{chain.chain_id}"
    assert settled["transaction"] == facilitator.settled[-1].tx_hash
    assert facilitator.settled[-1].event("Transfer").args == {"from": actors.alice.address, "to": actors.bob.address,
                                                              "value": 25}
    assert (cur.balance_of(actors.alice), cur.balance_of(actors.bob)) == (before[0] - Decimal("0.25"),
                                                                          before[1] + Decimal("0.25"))
    again = facilitator.settle(pay, wire)  # the same authorization a second time: refused, nothing sent
    assert not again["success"] and again["errorReason"] == p.NONCE_ALREADY_USED
    assert len(facilitator.settled) == 1


def _refusals(system, actors, chain, fac):
    """(name, payment, requirement, expected reason, undo) for every refusal."""
    cur = system.currency
    req = fac.requirement(actors.bob.address, PRICE)
    sign = lambda who=actors.alice, **kw: cur.sign_authorization(who, actors.bob, Decimal("0.25"), **kw)  # noqa: E731
    nothing = lambda: None  # noqa: E731
    forged = sign()
    other = cur.sign_authorization(actors.carol, actors.bob, Decimal("0.25"))  # carol's key, alice's name
    forged = type(forged)(forged.kind, forged.sender, forged.to, forged.value, forged.valid_after,
                          forged.valid_before, forged.nonce, other.signature)
    yield "bad signature", *payment(fac, forged, req), p.INVALID_SIGNATURE, nothing
    yield "other chain's signature", *payment(fac, sign(chain_id=1), req), p.INVALID_SIGNATURE, nothing
    yield "wrong network", *payment(fac, sign(), req, network="eip155:1"), p.NETWORK_MISMATCH, nothing
    yield "wrong asset", *payment(fac, sign(), req, asset=system.channels.address), p.ASSET_MISMATCH, nothing
    wrong_payee = cur.sign_authorization(actors.alice, actors.carol, Decimal("0.25"))
    yield "wrong payee", *payment(fac, wrong_payee, req), p.RECIPIENT_MISMATCH, nothing
    cheap = cur.sign_authorization(actors.alice, actors.bob, Decimal("0.24"))
    yield "too little", *payment(fac, cheap, req), p.VALUE_MISMATCH, nothing
    yield "expired", *payment(fac, sign(valid_before=chain.now + 3), req), p.VALID_BEFORE_EXPIRED, nothing
    yield "not yet valid", *payment(fac, sign(valid_after=chain.now + 600), req), p.VALID_AFTER_FUTURE, nothing
    used = sign()
    cur.transfer_with_authorization(used, sender=actors.stranger)
    yield "replayed", *payment(fac, used, req), p.NONCE_ALREADY_USED, nothing
    yield ("unregistered payer", *payment(fac, sign(actors.spare[1]), req), p.PAYER_NOT_REGISTERED, nothing)
    yield "over the daily limit", *payment(fac, cur.sign_authorization(actors.alice, actors.bob, Decimal(999)),
                                           fac.requirement(actors.bob.address, 99900)), p.DAILY_LIMIT_EXCEEDED, nothing


def test_every_refusal_names_its_reason_and_sends_nothing(system, actors, chain, facilitator):
    cur = system.currency
    cur.set_daily_limit(2, Decimal(500), sender=actors.compliance)
    for name, pay, wire, reason, _ in list(_refusals(system, actors, chain, facilitator)):
        before = state(system, actors, chain)
        verdict = facilitator.verify(pay, wire)
        assert (verdict["isValid"], verdict.get("invalidReason")) == (False, reason), name
        settled = facilitator.settle(pay, wire)
        assert (settled["success"], settled.get("errorReason"), settled["transaction"]) == (False, reason, ""), name
        assert state(system, actors, chain) == before, name
    assert list(facilitator.settled) == []


@pytest.mark.parametrize("condition, reason", [("frozen payer", p.PAYER_FROZEN), ("frozen payee", p.PAYEE_FROZEN),
                                               ("paused", p.CURRENCY_PAUSED)])
def test_registry_and_pause_refusals(system, actors, chain, facilitator, condition, reason):
    cur, reg = system.currency, system.registry
    auth = cur.sign_authorization(actors.alice, actors.bob, Decimal("0.25"))
    pay, wire = payment(facilitator, auth, facilitator.requirement(actors.bob.address, PRICE))
    {"frozen payer": lambda: reg.freeze_address(actors.alice), "frozen payee": lambda: reg.freeze_address(actors.bob),
     "paused": lambda: cur.pause(sender=actors.pauser)}[condition]()
    before = state(system, actors, chain)
    assert facilitator.verify(pay, wire)["invalidReason"] == reason
    settled = facilitator.settle(pay, wire)
    assert (settled["success"], settled["errorReason"]) == (False, reason)
    assert "AddressFrozen" in settled["errorMessage"] or "EnforcedPause" in settled["errorMessage"]
    assert state(system, actors, chain) == before


def test_malformed_payloads_are_invalid_payload(facilitator, actors):
    req = facilitator.requirement(actors.bob.address, PRICE).to_json()
    for body in ({}, {"authorization": {"from": "0x12"}, "signature": "0x00"}, {"authorization": None}):
        verdict = facilitator.verify({"x402Version": 2, "accepted": req, "payload": body}, req)
        assert verdict["invalidReason"] == p.INVALID_PAYLOAD
    with pytest.raises(p.X402Refused) as refused:
        p.parse_payment(p.encode({"x402Version": 1, "accepted": req, "payload": {}}))
    assert refused.value.reason == p.INVALID_PAYLOAD
    with pytest.raises(p.X402Refused):
        p.decode("not base64 at all!")


def test_refundable_payment_lands_in_escrow_and_is_refunded_within_the_window(system, actors, chain, facilitator):
    cur, escrow = system.currency, system.transfers
    req = facilitator.requirement(actors.bob.address, PRICE, refundable=True)
    assert req.pay_to == facilitator.account.address and req.extra["recipient"] == actors.bob.address
    assert req.extra["escrow"] == escrow.address
    auth = cur.sign_authorization(actors.alice, facilitator.account, Decimal("0.25"))
    before = cur.balance_of(actors.alice), cur.balance_of(actors.bob)
    settled = facilitator.settle(*payment(facilitator, auth, req))
    assert settled["success"], settled
    transfer = escrow.get(settled["extra"]["escrowTransferId"])
    assert (transfer.sender, transfer.recipient, transfer.amount) == (facilitator.account.address, actors.bob.address,
                                                                     Decimal("0.25"))
    assert str(transfer.state) == settled["extra"]["escrowState"] and transfer.state.name == "PENDING"
    assert cur.balance_of(facilitator.account) == 0 and cur.balance_of(escrow.address) >= Decimal("0.25")
    facilitator.refund(transfer.id)
    assert escrow.get(transfer.id).state.name == "REVOKED"
    assert (cur.balance_of(actors.alice), cur.balance_of(actors.bob)) == before
    assert cur.balance_of(facilitator.account) == 0


def test_refundable_is_automatic_at_the_second_approval_threshold(system, actors, facilitator):
    threshold = system.currency.to_units(system.transfers.approval_threshold())
    assert not facilitator.requirement(actors.bob.address, threshold - 1).extra.get("refundable")
    assert facilitator.requirement(actors.bob.address, threshold).extra["refundable"] is True
    assert Facilitator(system.currency, actors.stranger).requirement(actors.bob.address, threshold).pay_to == \
        actors.bob.address  # without the escrow: straight to the payee


def test_refund_after_the_window_is_refused_and_changes_nothing(system, actors, chain, facilitator):
    cur = system.currency
    req = facilitator.requirement(actors.bob.address, PRICE, refundable=True)
    auth = cur.sign_authorization(actors.alice, facilitator.account, Decimal("0.25"))
    settled = facilitator.settle(*payment(facilitator, auth, req))
    chain.advance_time(system.transfers.cooling_off_for(Decimal("0.25")) + 1)
    before = chain.block_number, cur.balance_of(actors.alice)
    with pytest.raises(Exception) as refused:
        facilitator.refund(settled["extra"]["escrowTransferId"])
    assert type(refused.value).__name__ == "CoolingOffOver"
    assert (chain.block_number, cur.balance_of(actors.alice)) == before


def test_the_official_facilitator_client_talks_to_chainpay_facilitator(system, actors, chain, facilitator):
    from x402 import PaymentPayload, PaymentRequirements
    from x402.http import FacilitatorConfig, HTTPFacilitatorClientSync

    lock = threading.RLock()
    facilitator.lock = lock
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_facilitator_app(facilitator), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline
        time.sleep(0.02)
    try:
        client = HTTPFacilitatorClientSync(FacilitatorConfig(url=f"http://127.0.0.1:{port}"))
        supported = client.get_supported()
        (kind,) = supported.kinds
        assert (kind.scheme, kind.network, kind.x402_version) == ("exact", f"eip155:{chain.chain_id}", 2)
        assert kind.extra == {"name": system.currency.name, "version": "1"}
        assert supported.signers == {"eip155:*": [facilitator.account.address]}
        req = facilitator.requirement(actors.bob.address, PRICE)
        with lock:
            good = system.currency.sign_authorization(actors.alice, actors.bob, Decimal("0.25"))
            expired = system.currency.sign_authorization(actors.alice, actors.bob, Decimal("0.25"),
                                                         valid_before=chain.now + 2)
        pay, wire = payment(facilitator, good, req)
        verdict = client.verify(PaymentPayload.model_validate(pay), PaymentRequirements.model_validate(wire))
        assert (verdict.is_valid, verdict.payer) == (True, actors.alice.address)
        bad, _ = payment(facilitator, expired, req)
        verdict = client.verify(PaymentPayload.model_validate(bad), PaymentRequirements.model_validate(wire))
        assert (verdict.is_valid, verdict.invalid_reason) == (False, p.VALID_BEFORE_EXPIRED)
        settled = client.settle(PaymentPayload.model_validate(pay), PaymentRequirements.model_validate(wire))
        assert settled.success and settled.transaction == facilitator.settled[-1].tx_hash and settled.amount == "25"
        replay = client.settle(PaymentPayload.model_validate(pay), PaymentRequirements.model_validate(wire))
        assert (replay.success, replay.error_reason) == (False, p.NONCE_ALREADY_USED)
        client.close()
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_refundable_payment_to_a_frozen_recipient_is_refused_before_anything_is_sent(system, actors, chain,
                                                                                      facilitator):
    cur = system.currency
    req = facilitator.requirement(actors.bob.address, PRICE, refundable=True)
    auth = cur.sign_authorization(actors.alice, facilitator.account, Decimal("0.25"))
    system.registry.freeze_address(actors.bob)  # the escrow leg would fail: so nothing is sent at all
    before = state(system, actors, chain)
    settled = facilitator.settle(*payment(facilitator, auth, req))
    assert (settled["success"], settled["errorReason"]) == (False, p.PAYEE_FROZEN)
    assert state(system, actors, chain) == before and cur.balance_of(facilitator.account) == 0
    assert not cur.authorization_state(actors.alice, auth.nonce)  # the authorization is still unused


def test_a_restarted_facilitator_refunds_from_the_escrow_record(system, actors, chain, facilitator):
    cur = system.currency
    req = facilitator.requirement(actors.bob.address, PRICE, refundable=True)
    auth = cur.sign_authorization(actors.alice, facilitator.account, Decimal("0.25"))
    settled = facilitator.settle(*payment(facilitator, auth, req))
    before = cur.balance_of(actors.alice)
    fresh = Facilitator(cur, facilitator.account, escrow=system.transfers)  # knows nothing of this run
    fresh.refund(settled["extra"]["escrowTransferId"])
    assert cur.balance_of(actors.alice) == before + Decimal("0.25")
    plain = system.transfers.send(actors.bob, Decimal(1), sender=actors.alice, memo="not x402")
    with pytest.raises(Exception) as refused:
        fresh.refund(plain.id)
    assert "not a refundable x402 payment" in str(refused.value)
