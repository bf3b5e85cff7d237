"""EIP-2612 permit and EIP-3009 transfer/receive/cancel authorizations of DigitalCurrency.

Every signed path must run the same registry, freeze, pause and daily-limit checks as the plain
ERC-20 paths; every refusal must leave balances, allowances, nonces and authorization states as
they were (and a refused signature must still be usable once the reason for refusal is gone).
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from decimal import Decimal

import pytest
from eth_account import Account as EthAccount
from eth_account.messages import encode_typed_data

from chainpay import errors
from chainpay.currency.token import Authorization, Permit, Signature

PERMIT_TYPES = {
    "Permit": [
        {"name": "owner", "type": "address"},
        {"name": "spender", "type": "address"},
        {"name": "value", "type": "uint256"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ]
}
_AUTH_FIELDS = [
    {"name": "from", "type": "address"},
    {"name": "to", "type": "address"},
    {"name": "value", "type": "uint256"},
    {"name": "validAfter", "type": "uint256"},
    {"name": "validBefore", "type": "uint256"},
    {"name": "nonce", "type": "bytes32"},
]
AUTH_TYPES = {
    "transfer": {"TransferWithAuthorization": _AUTH_FIELDS},
    "receive": {"ReceiveWithAuthorization": _AUTH_FIELDS},
}


@pytest.fixture(autouse=True)
def _clock_at_wall_time(chain):
    """A reverted snapshot leaves the chain's latest block behind the wall clock, and the next block is
    stamped at the wall clock: mine one now, so that deadlines computed from `chain.now` hold."""
    chain.advance_time(0)


# ----------------------------------------------------------------------------------------- helpers
def nonce32(label: str) -> bytes:
    return hashlib.sha256(label.encode()).digest()


def domain(cur, chain_id=None) -> dict:
    """The EIP-712 domain the contract verifies against (built independently of the SDK)."""
    return {"name": "Digital Yuan", "version": "1", "chainId": cur.chain.chain_id if chain_id is None else chain_id,
            "verifyingContract": cur.address}


def sign_with(key: bytes, cur, types: dict, message: dict, chain_id=None) -> Signature:
    signed = EthAccount.sign_typed_data(key, domain(cur, chain_id), types, message)
    return Signature(signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big"))


def recover(cur, types: dict, message: dict, sig: Signature) -> str:
    """Who the contract will recover from `sig` over `message` in this chain's domain."""
    signable = encode_typed_data(domain(cur), types, message)
    return EthAccount.recover_message(signable, vrs=(sig.v, int.from_bytes(sig.r, "big"), int.from_bytes(sig.s, "big")))


def permit_message(p: Permit, nonce: int) -> dict:
    return {"owner": p.owner, "spender": p.spender, "value": p.value, "nonce": nonce, "deadline": p.deadline}


def auth_message(a: Authorization) -> dict:
    return {"from": a.sender, "to": a.to, "value": a.value, "validAfter": a.valid_after,
            "validBefore": a.valid_before, "nonce": a.nonce}


def submit(cur, auth: Authorization, relayer):
    """transferWithAuthorization through a relayer, or receiveWithAuthorization by the payee."""
    if auth.kind == "transfer":
        return cur.transfer_with_authorization(auth, sender=relayer)
    return cur.receive_with_authorization(auth)


def event_args(receipt, name: str) -> dict:
    return dict(receipt.event(name).args)


def _outflow(cur, who):
    try:
        return cur.outflow_today(who)
    except errors.ContractRevert as exc:  # an inactive account: record why
        return (type(exc).__name__, exc.arguments)


def observe(system, actors, auths=()) -> dict:
    """Everything a refused signed path must leave untouched."""
    cur = system.currency
    people = (actors.alice, actors.alice2, actors.bob, actors.carol, actors.stranger)
    return {
        "balances": [cur.balance_of(p) for p in people],
        "supply": cur.total_supply(),
        "nonces": [cur.nonces(p) for p in people],
        "allowances": [cur.allowance(o, s) for o in (actors.alice, actors.carol, actors.stranger)
                       for s in (actors.bob, actors.carol, actors.stranger)],
        "auth": [cur.authorization_state(a, n) for a, n in auths],
        "outflow": [_outflow(cur, p) for p in (actors.alice, actors.bob, actors.carol)],
        "paused": cur.paused(),
    }


def refused(system, actors, action, error: str, *, auths=(), **args):
    """Run `action`, expect the Solidity error `error` with exactly `args`, and no state change."""
    before = observe(system, actors, auths)
    with pytest.raises(errors.revert_class(error)) as info:
        action()
    assert info.value.arguments == args
    assert observe(system, actors, auths) == before
    return info.value


def refused_somehow(system, actors, action, *, auths=()):
    """Run `action`, expect it to be refused (any chainpay error), and no state change."""
    before = observe(system, actors, auths)
    with pytest.raises(errors.ChainpayError) as info:
        action()
    assert observe(system, actors, auths) == before
    return info.value


def set_clock(chain, target: int) -> None:
    """Mine a block at exactly `target`; the next transaction then lands at target + 1 (the chain
    must be ahead of the wall clock, which chain.advance_time(86400) at a test's start ensures)."""
    assert target - chain.now >= 2
    chain.advance_time(target - chain.now)
    if chain.now < target:  # older TesterChain.advance_time landed one second short
        chain.advance_time(target - chain.now)
    assert chain.now == target


def tx_time(chain, receipt) -> int:
    return chain.block_timestamp(receipt.block_number)


# ----------------------------------------------------------------------------------- valid paths
def test_permit_sets_allowance_submitted_by_a_relayer(system, actors, chain):
    cur = system.currency
    alice, bob, carol = actors.alice, actors.bob, actors.carol
    deadline = chain.now + 3600
    assert cur.nonces(alice) == 0
    p = cur.sign_permit(alice, carol, Decimal("250.25"), deadline)
    assert (p.owner, p.spender, p.value, p.nonce, p.deadline) == (alice.address, carol.address, 25025, 0, deadline)
    # the SDK signs exactly the EIP-712 message the contract verifies (independent signature matches)
    assert p.signature == sign_with(alice.key, cur, PERMIT_TYPES, permit_message(p, 0))

    bob_eth = chain.eth_balance(bob)
    r = cur.permit(p, sender=bob)  # bob relays and pays the gas
    assert [e.name for e in r.events] == ["Approval"]
    assert event_args(r, "Approval") == {"owner": alice.address, "spender": carol.address, "value": 25025}
    assert r.event("Approval").address == cur.address
    assert cur.allowance(alice, carol) == Decimal("250.25")
    assert cur.nonces(alice) == 1
    assert cur.nonces(bob) == 0 and cur.nonces(carol) == 0
    assert chain.eth_balance(bob) < bob_eth
    assert cur.balance_of(alice) == Decimal("1000.00")

    # the spender uses the allowance; a second permit (nonce 1) replaces it
    cur.transfer_from(alice, bob, Decimal("100"), sender=carol)
    assert cur.allowance(alice, carol) == Decimal("150.25")
    assert (cur.balance_of(alice), cur.balance_of(bob)) == (Decimal("900.00"), Decimal("1100.00"))
    p2 = cur.sign_permit(alice, carol, Decimal("7"), deadline)
    assert p2.nonce == 1
    r2 = cur.permit(p2, sender=actors.alice2)
    assert event_args(r2, "Approval") == {"owner": alice.address, "spender": carol.address, "value": 700}
    assert cur.allowance(alice, carol) == Decimal("7.00")
    assert cur.nonces(alice) == 2


def test_transfer_with_authorization_relayed(system, actors, chain):
    cur = system.currency
    alice, bob, carol = actors.alice, actors.bob, actors.carol
    n = nonce32("twa-1")
    auth = cur.sign_authorization(alice, carol, Decimal("12.34"), nonce=n, valid_after=chain.now - 10,
                                  valid_before=chain.now + 600)
    assert auth.signature == sign_with(alice.key, cur, AUTH_TYPES["transfer"], auth_message(auth))
    assert cur.authorization_state(alice, n) is False

    r = cur.transfer_with_authorization(auth, sender=bob)
    assert [e.name for e in r.events] == ["AuthorizationUsed", "Transfer"]
    assert event_args(r, "AuthorizationUsed") == {"authorizer": alice.address, "nonce": n}
    assert event_args(r, "Transfer") == {"from": alice.address, "to": carol.address, "value": 1234}
    assert cur.balance_of(alice) == Decimal("987.66")
    assert cur.balance_of(carol) == Decimal("112.34")
    assert cur.balance_of(bob) == Decimal("1000.00")  # the relayer neither pays nor receives
    assert cur.authorization_state(alice, n) is True
    assert cur.authorization_state(bob, n) is False
    assert cur.nonces(alice) == 0  # EIP-3009 nonces are separate from permit nonces
    assert cur.total_supply() == Decimal("2100.00")


def test_receive_with_authorization_by_the_payee(system, actors, chain):
    cur = system.currency
    alice, carol = actors.alice, actors.carol
    n = nonce32("rwa-1")
    auth = cur.sign_authorization(alice, carol, Decimal("40"), nonce=n, kind="receive")
    assert auth.valid_before == chain.now + 3600 and auth.valid_after == 0
    assert auth.signature == sign_with(alice.key, cur, AUTH_TYPES["receive"], auth_message(auth))
    r = cur.receive_with_authorization(auth)  # submitted by carol, the payee
    assert [e.name for e in r.events] == ["AuthorizationUsed", "Transfer"]
    assert event_args(r, "AuthorizationUsed") == {"authorizer": alice.address, "nonce": n}
    assert event_args(r, "Transfer") == {"from": alice.address, "to": carol.address, "value": 4000}
    assert (cur.balance_of(alice), cur.balance_of(carol)) == (Decimal("960.00"), Decimal("140.00"))
    assert cur.authorization_state(alice, n) is True


# --------------------------------------------------------------------------------- time windows
def test_permit_deadline_boundaries(system, actors, chain):
    cur = system.currency
    alice, bob, carol = actors.alice, actors.bob, actors.carol
    chain.advance_time(86400)  # ahead of the wall clock: each block is one second after the last
    deadline = chain.now + 100
    p = cur.sign_permit(alice, carol, Decimal("5"), deadline)
    set_clock(chain, deadline - 1)
    r = cur.permit(p, sender=bob)  # block.timestamp == deadline: still valid (EIP-2612: now <= deadline)
    assert tx_time(chain, r) == deadline
    assert cur.allowance(alice, carol) == Decimal("5.00") and cur.nonces(alice) == 1

    # a deadline well in the past
    p3 = cur.sign_permit(alice, carol, Decimal("9"), chain.now - 3600)
    refused(system, actors, lambda: cur.permit(p3, sender=bob), "ERC2612ExpiredSignature", deadline=p3.deadline)
    # a deadline equal to the chain's time has passed by the time the permit is mined: refused, nothing
    # changes (the typed error is checked in test_permit_deadline_equal_to_chain_time_typed_error)
    p2 = cur.sign_permit(alice, carol, Decimal("9"), chain.now)
    refused_somehow(system, actors, lambda: cur.permit(p2, sender=bob))
    assert chain.now == p2.deadline + 1  # the refused transaction was mined one second after the deadline
    assert cur.allowance(alice, carol) == Decimal("5.00") and cur.nonces(alice) == 1


def test_permit_deadline_equal_to_chain_time_typed_error(system, actors, chain):
    cur = system.currency
    chain.advance_time(86400)
    p = cur.sign_permit(actors.alice, actors.carol, Decimal("9"), chain.now)
    refused(system, actors, lambda: cur.permit(p, sender=actors.bob), "ERC2612ExpiredSignature", deadline=p.deadline)


@pytest.mark.parametrize("kind", ["transfer", "receive"])
def test_authorization_valid_before_boundaries(system, actors, chain, kind):
    cur = system.currency
    alice, bob, carol = actors.alice, actors.bob, actors.carol
    chain.advance_time(86400)
    vb = chain.now + 100
    a1 = cur.sign_authorization(alice, carol, Decimal("1"), valid_before=vb, nonce=nonce32("vb1"), kind=kind)
    set_clock(chain, vb - 2)
    r = submit(cur, a1, bob)  # mined at validBefore - 1: the last valid second
    assert tx_time(chain, r) == vb - 1
    assert cur.balance_of(carol) == Decimal("101.00")

    n3 = nonce32("vb3")
    a3 = cur.sign_authorization(alice, carol, Decimal("1"), valid_before=chain.now - 3600, nonce=n3, kind=kind)
    refused(system, actors, lambda: submit(cur, a3, bob), "ERC3009InvalidAuthorizationTime",
            auths=[(alice, n3)], validAfter=0, validBefore=a3.valid_before)
    # validBefore equal to the time of the block that would include it: refused, nothing changes (the
    # typed error is checked in test_authorization_valid_before_equal_to_block_time_typed_error)
    n2 = nonce32("vb2")
    a2 = cur.sign_authorization(alice, carol, Decimal("1"), valid_before=chain.now + 1, nonce=n2, kind=kind)
    refused_somehow(system, actors, lambda: submit(cur, a2, bob), auths=[(alice, n2)])
    assert chain.now == a2.valid_before  # refused in the block whose time equals validBefore
    assert cur.authorization_state(alice, n2) is False
    assert cur.balance_of(carol) == Decimal("101.00")


@pytest.mark.parametrize("kind", ["transfer", "receive"])
def test_authorization_valid_before_equal_to_block_time_typed_error(system, actors, chain, kind):
    cur = system.currency
    alice = actors.alice
    chain.advance_time(86400)
    n = nonce32("vb-exact")
    a = cur.sign_authorization(alice, actors.carol, Decimal("1"), valid_before=chain.now + 1, nonce=n, kind=kind)
    refused(system, actors, lambda: submit(cur, a, actors.bob), "ERC3009InvalidAuthorizationTime",
            auths=[(alice, n)], validAfter=0, validBefore=a.valid_before)


@pytest.mark.parametrize("kind", ["transfer", "receive"])
def test_authorization_not_yet_valid(system, actors, chain, kind):
    cur = system.currency
    alice, bob, carol = actors.alice, actors.bob, actors.carol
    chain.advance_time(86400)
    far = cur.sign_authorization(alice, carol, Decimal("2"), valid_after=chain.now + 7200,
                                 valid_before=chain.now + 9000, nonce=nonce32("far"), kind=kind)
    refused(system, actors, lambda: submit(cur, far, bob), "ERC3009InvalidAuthorizationTime",
            auths=[(alice, far.nonce)], validAfter=far.valid_after, validBefore=far.valid_before)

    va = chain.now + 100
    n = nonce32("va")
    a = cur.sign_authorization(alice, carol, Decimal("2"), valid_after=va, valid_before=va + 1000, nonce=n, kind=kind)
    set_clock(chain, va - 1)
    # mined exactly at validAfter: not yet valid (the block must be strictly later)
    refused(system, actors, lambda: submit(cur, a, bob), "ERC3009InvalidAuthorizationTime",
            auths=[(alice, n)], validAfter=va, validBefore=va + 1000)
    assert chain.now == va
    r = submit(cur, a, bob)  # one second later the same signature is good
    assert tx_time(chain, r) == va + 1
    assert event_args(r, "Transfer") == {"from": alice.address, "to": carol.address, "value": 200}
    assert cur.authorization_state(alice, n) is True
    assert (cur.balance_of(alice), cur.balance_of(carol)) == (Decimal("998.00"), Decimal("102.00"))


# ------------------------------------------------------------------------------- replay, cancel
@pytest.mark.parametrize("kind", ["transfer", "receive"])
def test_authorization_replay_refused(system, actors, kind):
    cur = system.currency
    alice, bob, carol = actors.alice, actors.bob, actors.carol
    n = nonce32("replay")
    auth = cur.sign_authorization(alice, carol, Decimal("3"), nonce=n, kind=kind)
    submit(cur, auth, bob)
    assert cur.balance_of(carol) == Decimal("103.00")
    refused(system, actors, lambda: submit(cur, auth, bob), "ERC3009UsedAuthorization",
            auths=[(alice, n)], authorizer=alice.address, nonce=n)
    # the nonce is spent for both kinds: a fresh signature of the other kind with it is refused too
    other = cur.sign_authorization(alice, carol, Decimal("3"), nonce=n, kind="receive" if kind == "transfer" else "transfer")
    refused(system, actors, lambda: submit(cur, other, bob), "ERC3009UsedAuthorization",
            auths=[(alice, n)], authorizer=alice.address, nonce=n)
    assert cur.balance_of(carol) == Decimal("103.00") and cur.balance_of(alice) == Decimal("997.00")


def test_permit_replay_refused_because_nonce_moved(system, actors, chain):
    cur = system.currency
    alice, bob, carol = actors.alice, actors.bob, actors.carol
    p = cur.sign_permit(alice, carol, Decimal("50"), chain.now + 3600)
    cur.permit(p, sender=bob)
    cur.transfer_from(alice, bob, Decimal("20"), sender=carol)  # allowance now 30
    assert cur.allowance(alice, carol) == Decimal("30.00") and cur.nonces(alice) == 1
    # replaying would restore the allowance to 50; the contract hashes nonce 1, so recovers someone else
    garbage = recover(cur, PERMIT_TYPES, permit_message(p, 1), p.signature)
    assert garbage != alice.address
    refused(system, actors, lambda: cur.permit(p, sender=bob), "ERC2612InvalidSigner",
            signer=garbage, owner=alice.address)
    assert cur.allowance(alice, carol) == Decimal("30.00") and cur.nonces(alice) == 1


def test_cancel_authorization_then_use_refused(system, actors):
    cur = system.currency
    alice, bob, carol = actors.alice, actors.bob, actors.carol
    n = nonce32("cancel")
    auth = cur.sign_authorization(alice, carol, Decimal("5"), nonce=n)
    cancel = cur.sign_cancellation(alice, n)
    r = cur.cancel_authorization(cancel, sender=bob)
    assert [e.name for e in r.events] == ["AuthorizationCanceled"]
    assert event_args(r, "AuthorizationCanceled") == {"authorizer": alice.address, "nonce": n}
    assert cur.authorization_state(alice, n) is True
    refused(system, actors, lambda: cur.transfer_with_authorization(auth, sender=bob), "ERC3009UsedAuthorization",
            auths=[(alice, n)], authorizer=alice.address, nonce=n)
    recv = cur.sign_authorization(alice, carol, Decimal("5"), nonce=n, kind="receive")
    refused(system, actors, lambda: cur.receive_with_authorization(recv), "ERC3009UsedAuthorization",
            auths=[(alice, n)], authorizer=alice.address, nonce=n)
    # cancelling twice, or cancelling a used authorization, is refused
    refused(system, actors, lambda: cur.cancel_authorization(cancel, sender=bob), "ERC3009UsedAuthorization",
            auths=[(alice, n)], authorizer=alice.address, nonce=n)
    n2 = nonce32("used-then-cancel")
    cur.transfer_with_authorization(cur.sign_authorization(alice, carol, Decimal("1"), nonce=n2), sender=bob)
    refused(system, actors, lambda: cur.cancel_authorization(cur.sign_cancellation(alice, n2), sender=bob),
            "ERC3009UsedAuthorization", auths=[(alice, n2)], authorizer=alice.address, nonce=n2)
    assert (cur.balance_of(alice), cur.balance_of(carol)) == (Decimal("999.00"), Decimal("101.00"))


def test_cancellation_with_wrong_key_or_chain_refused(system, actors, chain):
    cur = system.currency
    alice, bob = actors.alice, actors.bob
    n = nonce32("bad-cancel")
    forged = replace(cur.sign_cancellation(alice, n),
                     signature=sign_with(bob.key, cur, {"CancelAuthorization": [{"name": "authorizer", "type": "address"},
                                                                              {"name": "nonce", "type": "bytes32"}]},
                                         {"authorizer": alice.address, "nonce": n}))
    refused(system, actors, lambda: cur.cancel_authorization(forged, sender=bob), "ERC3009InvalidSignature",
            auths=[(alice, n)])
    other_chain = cur.sign_cancellation(alice, n, chain_id=chain.chain_id + 1)
    refused(system, actors, lambda: cur.cancel_authorization(other_chain, sender=bob), "ERC3009InvalidSignature",
            auths=[(alice, n)])
    assert cur.authorization_state(alice, n) is False


# ------------------------------------------------------------------------ wrong signer, chain id
@pytest.mark.parametrize("kind", ["transfer", "receive"])
def test_authorization_signed_by_another_key_refused(system, actors, kind):
    cur = system.currency
    alice, bob, carol = actors.alice, actors.bob, actors.carol
    n = nonce32("forged")
    genuine = cur.sign_authorization(alice, carol, Decimal("10"), nonce=n, kind=kind)
    # the very message alice would sign, signed with bob's key
    forged = replace(genuine, signature=sign_with(bob.key, cur, AUTH_TYPES[kind], auth_message(genuine)))
    refused(system, actors, lambda: submit(cur, forged, bob), "ERC3009InvalidSignature", auths=[(alice, n)])
    # alice's genuine signature with a changed amount
    tampered = replace(genuine, value=genuine.value * 10)
    refused(system, actors, lambda: submit(cur, tampered, bob), "ERC3009InvalidSignature", auths=[(alice, n)])
    # a receive authorization cannot be turned into a relayed transfer and vice versa (different type hash)
    swapped = replace(genuine, kind="receive" if kind == "transfer" else "transfer")
    refused(system, actors, lambda: submit(cur, swapped, bob), "ERC3009InvalidSignature", auths=[(alice, n)])
    # the genuine one still works
    submit(cur, genuine, bob)
    assert (cur.balance_of(alice), cur.balance_of(carol)) == (Decimal("990.00"), Decimal("110.00"))


def test_permit_signed_by_another_key_refused(system, actors, chain):
    cur = system.currency
    alice, bob, carol = actors.alice, actors.bob, actors.carol
    genuine = cur.sign_permit(alice, carol, Decimal("10"), chain.now + 3600)
    forged = replace(genuine, signature=sign_with(bob.key, cur, PERMIT_TYPES, permit_message(genuine, 0)))
    refused(system, actors, lambda: cur.permit(forged, sender=bob), "ERC2612InvalidSigner",
            signer=bob.address, owner=alice.address)
    tampered = replace(genuine, value=10**9)
    garbage = recover(cur, PERMIT_TYPES, permit_message(tampered, 0), tampered.signature)
    assert garbage != alice.address
    refused(system, actors, lambda: cur.permit(tampered, sender=bob), "ERC2612InvalidSigner",
            signer=garbage, owner=alice.address)
    assert cur.nonces(alice) == 0 and cur.allowance(alice, carol) == Decimal("0.00")


def test_signatures_for_another_chain_refused(system, actors, chain):
    cur = system.currency
    alice, bob, carol = actors.alice, actors.bob, actors.carol
    other = chain.chain_id + 1
    p = cur.sign_permit(alice, carol, Decimal("10"), chain.now + 3600, chain_id=other)
    garbage = recover(cur, PERMIT_TYPES, permit_message(p, 0), p.signature)
    assert garbage != alice.address
    refused(system, actors, lambda: cur.permit(p, sender=bob), "ERC2612InvalidSigner", signer=garbage,
            owner=alice.address)
    for kind in ("transfer", "receive"):
        n = nonce32("other-chain-" + kind)
        auth = cur.sign_authorization(alice, carol, Decimal("10"), nonce=n, kind=kind, chain_id=other)
        refused(system, actors, lambda: submit(cur, auth, bob), "ERC3009InvalidSignature", auths=[(alice, n)])
    assert cur.nonces(alice) == 0 and cur.balance_of(alice) == Decimal("1000.00")


def test_receive_with_authorization_only_by_the_payee(system, actors):
    cur = system.currency
    alice, bob, carol = actors.alice, actors.bob, actors.carol
    n = nonce32("front-run")
    auth = cur.sign_authorization(alice, carol, Decimal("10"), nonce=n, kind="receive")
    for submitter in (bob, alice, actors.stranger):
        refused(system, actors, lambda: cur.receive_with_authorization(auth, sender=submitter),
                "ERC20InvalidReceiver", auths=[(alice, n)], receiver=carol.address)
    r = cur.receive_with_authorization(auth, sender=carol)
    assert event_args(r, "Transfer") == {"from": alice.address, "to": carol.address, "value": 1000}


# ------------------------------------------------------------ frozen, unregistered, paused parties
HOWS = ["address_frozen", "identity_frozen", "unlinked", "never_registered"]
PATHS = ["permit", "transfer_auth", "receive_auth", "cancel"]


def _deactivate(system, actors, who, how):
    """Make `who` inactive; returns (error name, args, undo) — undo makes it active again."""
    reg = system.registry
    ident = reg.identity_of(who)
    if how == "address_frozen":
        reg.freeze_address(who)
        return "AddressFrozen", {"account": who.address}, lambda: reg.unfreeze_address(who)
    if how == "identity_frozen":
        reg.freeze_identity(ident)
        return "IdentityFrozen", {"identity": ident, "account": who.address}, lambda: reg.unfreeze_identity(ident)
    assert how == "unlinked"
    reg.unlink_address(who)  # compliance unlinks; the address keeps its balance
    return "NotRegistered", {"account": who.address}, lambda: reg.compliance_link(ident, who)


def _sign(cur, chain, path, signer, party, label):
    if path == "permit":
        return cur.sign_permit(signer, party, Decimal("10"), chain.now + 3600)
    if path == "cancel":
        return cur.sign_cancellation(signer, nonce32(label))
    kind = "transfer" if path == "transfer_auth" else "receive"
    return cur.sign_authorization(signer, party, Decimal("10"), nonce=nonce32(label), kind=kind)


def _submit(cur, path, signed, relayer):
    if path == "permit":
        return cur.permit(signed, sender=relayer)
    if path == "cancel":
        return cur.cancel_authorization(signed, sender=relayer)
    return submit(cur, signed, relayer)


def _check_effect(cur, path, signed, signer, party, receipt):
    if path == "permit":
        assert event_args(receipt, "Approval") == {"owner": signer.address, "spender": party.address, "value": 1000}
        assert cur.allowance(signer, party) == Decimal("10.00")
        assert cur.nonces(signer) == 1
    elif path == "cancel":
        assert event_args(receipt, "AuthorizationCanceled") == {"authorizer": signer.address, "nonce": signed.nonce}
        assert cur.authorization_state(signer, signed.nonce) is True
    else:
        assert event_args(receipt, "Transfer") == {"from": signer.address, "to": party.address, "value": 1000}
        assert cur.authorization_state(signer, signed.nonce) is True


@pytest.mark.parametrize("path", PATHS[:3])  # cancelling only lowers risk: see test_cancel_allowed_*
@pytest.mark.parametrize("how", HOWS)
def test_signed_path_refused_for_inactive_signer(system, actors, chain, path, how):
    """The signature is obtained while the signer is in good standing; compliance acts before it is used."""
    cur = system.currency
    bob, carol = actors.bob, actors.carol
    signer = actors.stranger if how == "never_registered" else actors.alice
    before_signer = cur.balance_of(signer)
    signed = _sign(cur, chain, path, signer, carol, f"signer-{how}-{path}")
    auths = [] if path == "permit" else [(signer, signed.nonce)]
    if how == "never_registered":
        error, args, undo = "NotRegistered", {"account": signer.address}, None
    else:
        error, args, undo = _deactivate(system, actors, signer, how)
    refused(system, actors, lambda: _submit(cur, path, signed, bob), error, auths=auths, **args)
    if undo is None:
        return
    undo()  # the refusal consumed nothing: the same signature works once the signer is active again
    receipt = _submit(cur, path, signed, bob)
    _check_effect(cur, path, signed, signer, carol, receipt)
    if path in ("transfer_auth", "receive_auth"):
        assert cur.balance_of(signer) == before_signer - 10


@pytest.mark.parametrize("path", PATHS[:3])
@pytest.mark.parametrize("how", HOWS)
def test_signed_path_refused_for_inactive_recipient_or_spender(system, actors, chain, path, how):
    cur = system.currency
    alice, bob = actors.alice, actors.bob
    party = actors.stranger if how == "never_registered" else actors.carol
    signed = _sign(cur, chain, path, alice, party, f"party-{how}-{path}")
    auths = [] if path == "permit" else [(alice, signed.nonce)]
    if how == "never_registered":
        error, args, undo = "NotRegistered", {"account": party.address}, None
    else:
        error, args, undo = _deactivate(system, actors, party, how)
    refused(system, actors, lambda: _submit(cur, path, signed, bob), error, auths=auths, **args)
    if undo is None:
        return
    undo()
    receipt = _submit(cur, path, signed, bob)
    _check_effect(cur, path, signed, alice, party, receipt)


def test_identity_freeze_covers_every_address_of_the_signer(system, actors):
    cur = system.currency
    alice, alice2, bob, carol = actors.alice, actors.alice2, actors.bob, actors.carol
    cur.transfer(alice2, Decimal("50"), sender=alice)
    n = nonce32("alice2")
    auth = cur.sign_authorization(alice2, carol, Decimal("10"), nonce=n)
    system.registry.freeze_identity(actors.alice_id)
    refused(system, actors, lambda: cur.transfer_with_authorization(auth, sender=bob), "IdentityFrozen",
            auths=[(alice2, n)], identity=actors.alice_id, account=alice2.address)
    # freezing only alice's first address leaves alice2 free
    system.registry.unfreeze_identity(actors.alice_id)
    system.registry.freeze_address(alice)
    r = cur.transfer_with_authorization(auth, sender=bob)
    assert event_args(r, "Transfer") == {"from": alice2.address, "to": carol.address, "value": 1000}
    assert cur.balance_of(alice2) == Decimal("40.00")


@pytest.mark.parametrize("how", HOWS + ["paused"])
def test_cancel_allowed_to_a_frozen_unregistered_or_paused_authorizer(system, actors, chain, how):
    """Review finding 3: cancelling an authorization only lowers risk, so a frozen, unlinked or
    never-registered authorizer may cancel, and so may anyone while the currency is paused."""
    cur = system.currency
    signer = actors.stranger if how == "never_registered" else actors.alice
    auth = cur.sign_authorization(signer, actors.carol, Decimal("10"), nonce=nonce32(f"c-{how}"))
    cancel = cur.sign_cancellation(signer, auth.nonce)
    if how == "paused":
        cur.pause()
    elif how != "never_registered":
        _deactivate(system, actors, signer, how)
    receipt = cur.cancel_authorization(cancel, sender=actors.bob)
    _check_effect(cur, "cancel", cancel, signer, actors.carol, receipt)
    if how == "paused":
        cur.unpause()
    elif how == "address_frozen":
        system.registry.unfreeze_address(signer)
    elif how == "identity_frozen":
        system.registry.unfreeze_identity(actors.alice_id)
    elif how == "unlinked":
        system.registry.compliance_link(actors.alice_id, signer)
    # back in good standing, the cancelled authorization stays dead
    with pytest.raises(errors.ERC3009UsedAuthorization):
        cur.transfer_with_authorization(auth, sender=actors.bob)


@pytest.mark.parametrize("path", PATHS[:3])
def test_signed_path_refused_while_paused(system, actors, chain, path):
    cur = system.currency
    alice, bob, carol = actors.alice, actors.bob, actors.carol
    signed = _sign(cur, chain, path, alice, carol, f"paused-{path}")
    auths = [] if path == "permit" else [(alice, signed.nonce)]
    cur.pause()
    refused(system, actors, lambda: _submit(cur, path, signed, bob), "EnforcedPause", auths=auths)
    cur.unpause()
    receipt = _submit(cur, path, signed, bob)
    _check_effect(cur, path, signed, alice, carol, receipt)


# ------------------------------------------------------------------------------------ daily limit
def test_signed_transfers_count_against_the_daily_limit(system, actors):
    cur = system.currency
    alice, alice2, bob, carol = actors.alice, actors.alice2, actors.bob, actors.carol
    cur.mint(alice, Decimal("4500"))  # balance 5,500; tier 2 limit 5,000 yuan = 500000 fen
    cur.transfer(bob, Decimal("3000"), sender=alice)
    r = cur.transfer_with_authorization(cur.sign_authorization(alice, carol, Decimal("1500"), nonce=nonce32("l1")),
                                        sender=bob)
    assert event_args(r, "Transfer")["value"] == 150000
    assert cur.outflow_today(alice).spent_today == Decimal("4500.00")
    assert cur.outflow_today(alice2).remaining_today == Decimal("500.00")

    n = nonce32("l2")
    over = cur.sign_authorization(alice, carol, Decimal("500.01"), nonce=n, kind="receive")
    refused(system, actors, lambda: cur.receive_with_authorization(over), "DailyLimitExceeded", auths=[(alice, n)],
            identity=actors.alice_id, limit=500000, spentToday=450000, amount=50001)
    n3 = nonce32("l3")
    over_relayed = cur.sign_authorization(alice, carol, Decimal("500.01"), nonce=n3)
    err = refused(system, actors, lambda: cur.transfer_with_authorization(over_relayed, sender=bob),
                  "DailyLimitExceeded", auths=[(alice, n3)],
                  identity=actors.alice_id, limit=500000, spentToday=450000, amount=50001)
    assert err.spent_today == 450000  # snake_case alias
    exact = cur.sign_authorization(alice, carol, Decimal("500"), nonce=nonce32("l4"), kind="receive")
    cur.receive_with_authorization(exact)
    assert cur.outflow_today(alice).remaining_today == Decimal("0.00")
    assert cur.balance_of(carol) == Decimal("2100.00")
    # a signed move to the identity's own other address is not outflow
    own = cur.sign_authorization(alice, alice2, Decimal("400"), nonce=nonce32("l5"))
    cur.transfer_with_authorization(own, sender=bob)
    assert cur.balance_of(alice2) == Decimal("400.00")
    assert cur.outflow_today(alice).spent_today == Decimal("5000.00")
