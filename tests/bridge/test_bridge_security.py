"""Regression tests for the security review's bridge findings (issue 11): each reproduces the attack
on the two-chain network and shows it no longer does harm, with every holding summed across BOTH
chains before and after.

- 2: a claim on B that is mined but reverts publishes the preimage; the wallet never sends such a
  claim, and a connector paid on A delivers on B or returns the money on A instead of keeping both.
- 9: a stranger's dust lock under the victim's hashlock no longer makes the connector refuse the deal.
- 10: the two chains have their own chain ids: a signature for A is refused on B.
- 11: money paid to the bridge outside any lock can be recovered; open locks cannot.
"""

from decimal import Decimal

import pytest

from bridge_support import ledger, moved, person, step
from chainpay import errors
from chainpay.bridge import LockState, Secret
from chainpay.bridge.connector import ConnectorPolicy, DealState
from chainpay.bridge.crossing import cross
from support import expect_refusal

POLICY = ConnectorPolicy()


def _open_crossing(net, connector, who, amount=Decimal(50), sender=True):
    """Quote, the sender's lock on A, the connector's lock on B: (secret, outbound, deal)."""
    secret = Secret.new()
    quote = connector.quote(amount, who.b, who.identity, secret.hashlock, sender=who.a if sender else None)
    out = net.a.bridge.lock(quote.pay_to, quote.total, secret.hashlock, quote.min_timelock, who.identity, sender=who.a)
    step(net)
    connector.poll()
    deal = connector.deals[secret.hashlock]
    assert deal.state is DealState.INBOUND_LOCKED
    return secret, out, deal


def _leak_through_a_reverted_claim(net, who, inbound_id, preimage) -> bytes:
    """A claim on B mined after T_B (sent without the wallet's checks, or held up in the mempool):
    it reverts, yet its calldata puts the preimage on chain B for anyone to read."""
    data = net.b.bridge.artifact.fn("claim").encode((inbound_id, preimage))
    with pytest.raises(errors.revert_class("LockExpired")) as failed:
        net.b.chain.send(who.b, net.b.bridge.address, data)
    return _calldata(net.b.chain, failed.value.tx_hash)[-32:]


def _calldata(chain, tx_hash: str) -> bytes:
    """A mined transaction's input, on either in-process engine."""
    if hasattr(chain, "tester"):  # eth-tester
        data = chain.tester.get_transaction_by_hash(tx_hash)["data"]
    else:  # EDR answers JSON-RPC
        data = chain.rpc("eth_getTransactionByHash", [tx_hash])["input"]
    return data if isinstance(data, bytes) else bytes.fromhex(data.removeprefix("0x"))


# ----------------------------------------------------------------- finding 2: preimage leak


def test_wallet_never_sends_a_claim_that_would_revert(net, connector):
    alice = person(net, 0)
    secret, _, deal = _open_crossing(net, connector, alice)
    bridge, pauser = net.b.bridge, net.b.system.role("PAUSER")
    net.b.currency.pause(sender=pauser)
    blocks = net.b.chain.block_number
    with pytest.raises(errors.revert_class("EnforcedPause")):
        bridge.claim(deal.inbound.id, secret.preimage, sender=alice.b)
    assert net.b.chain.block_number == blocks  # nothing was sent: the preimage is still secret
    net.b.currency.unpause(sender=pauser)
    net.b.registry.freeze_address(alice.b, sender=net.b.system.role("COMPLIANCE"))
    blocks = net.b.chain.block_number
    with pytest.raises(errors.revert_class("AddressFrozen")):
        bridge.claim(deal.inbound.id, secret.preimage, sender=alice.b)
    assert net.b.chain.block_number == blocks
    net.b.registry.unfreeze_address(alice.b, sender=net.b.system.role("COMPLIANCE"))
    # Too close to T_B: it could be mined at or after T_B. Refused with the contract's own error.
    step(net, deal.inbound.timelock - net.now - 30)
    blocks = net.b.chain.block_number
    with pytest.raises(errors.revert_class("LockExpired")) as late:
        bridge.claim(deal.inbound.id, secret.preimage, sender=alice.b)
    assert (late.value.id, late.value.timelock) == (deal.inbound.id, deal.inbound.timelock)
    assert net.b.chain.block_number == blocks
    assert bridge.get(deal.inbound.id).state is LockState.OPEN
    with pytest.raises(errors.InvalidInput):
        bridge.claim(deal.inbound.id, secret.preimage, sender=alice.b, margin=-1)


@pytest.mark.parametrize("frozen_on_b", [False, True], ids=["delivered-on-B", "returned-on-A"])
def test_a_leaked_preimage_never_leaves_the_person_paid_out_and_unpaid(net, connector, frozen_on_b):
    alice, mallory = person(net, 0), person(net, 1)
    before = ledger(net)
    secret, out, deal = _open_crossing(net, connector, alice)
    if frozen_on_b:  # the recipient cannot be paid on B at all: the money must go back on A
        net.b.registry.freeze_address(alice.b, sender=net.b.system.role("COMPLIANCE"))
    step(net, deal.inbound.timelock - net.now)
    leaked = _leak_through_a_reverted_claim(net, alice, deal.inbound.id, secret.preimage)
    assert leaked == secret.preimage
    # Anyone now claims the sender's lock on A (it pays the connector) ...
    net.a.bridge.claim(out.id, leaked, sender=mallory.a)
    step(net)
    connector.poll()  # ... and the connector, paid on A, owes the delivery: no refund to itself only
    assert deal.state is (DealState.RETURNED if frozen_on_b else DealState.DELIVERED)
    after = ledger(net)
    if frozen_on_b:
        assert moved(before, after) == {}  # the whole 50.05 back on A, the B lock back to the connector
        assert net.a.currency.balance_of(alice.a) == before[alice.name] and net.b.currency.balance_of(alice.b) == 0
    else:
        assert moved(before, after) == {alice.name: Decimal("-0.05"), "connector": Decimal("0.05")}
        assert net.b.currency.balance_of(alice.b) == Decimal(50)
    assert net.a.bridge.total_locked() == net.b.bridge.total_locked() == 0
    connector.poll()  # settled once: no second payment
    assert ledger(net) == after


def test_a_connector_paid_on_A_before_T_B_claims_its_own_lock_for_the_recipient(net, connector):
    alice, mallory = person(net, 0), person(net, 1)
    before = ledger(net)
    secret, out, deal = _open_crossing(net, connector, alice)
    net.a.bridge.claim(out.id, secret.preimage, sender=mallory.a)  # the preimage leaked some other way
    step(net)
    connector.poll()
    assert deal.state is DealState.SETTLED
    assert net.b.bridge.get(deal.inbound.id).state is LockState.CLAIMED
    assert moved(before, ledger(net)) == {alice.name: Decimal("-0.05"), "connector": Decimal("0.05")}


def test_crossing_wallet_that_would_claim_too_late_refunds_instead(net, connector):
    # The recipient's wallet sees the connector's lock only after T_B - margin: it does not claim
    # (nothing leaks), both legs refund, the person is whole.
    alice = person(net, 0)
    before = ledger(net)
    result = cross(net, connector, alice, Decimal(30), fault="recipient-absent")
    assert result.outcome == "refunded" and ledger(net) == before


# ----------------------------------------------------------------- finding 9: hashlock squatting


@pytest.mark.parametrize("named_sender", [True, False], ids=["quote-names-sender", "identity-only"])
def test_a_strangers_dust_lock_under_the_victims_hashlock_does_not_block_the_crossing(net, connector, named_sender):
    alice, mallory = person(net, 0), person(net, 1)
    before = ledger(net)
    secret = Secret.new()
    quote = connector.quote(Decimal(50), alice.b, alice.identity, secret.hashlock, sender=alice.a if named_sender else None)
    # Mallory copies H from alice's pending transaction and gets a dust lock to the connector in first.
    dust = net.a.bridge.lock(quote.pay_to, Decimal("0.01"), secret.hashlock, quote.min_timelock, mallory.identity,
                             sender=mallory.a)
    real = net.a.bridge.lock(quote.pay_to, quote.total, secret.hashlock, quote.min_timelock, alice.identity, sender=alice.a)
    assert dust.id < real.id
    step(net)
    connector.poll()
    deal = connector.deals[secret.hashlock]
    assert deal.state is DealState.INBOUND_LOCKED and deal.outbound.id == real.id
    step(net)
    net.b.bridge.claim(deal.inbound.id, secret.preimage, sender=alice.b)
    step(net)
    connector.poll()
    assert deal.state is DealState.SETTLED
    step(net, dust.timelock - net.now)
    net.a.bridge.refund(dust.id, sender=mallory.a)  # the squatter gets its dust back, nothing more
    assert moved(before, ledger(net)) == {alice.name: Decimal("-0.05"), "connector": Decimal("0.05")}


def test_the_connector_ignores_a_lock_for_less_than_quoted_and_lets_the_quote_expire(net, connector):
    alice = person(net, 0)
    secret = Secret.new()
    quote = connector.quote(Decimal(10), alice.b, alice.identity, secret.hashlock, sender=alice.a)
    net.a.bridge.lock(quote.pay_to, quote.amount, secret.hashlock, quote.min_timelock, alice.identity, sender=alice.a)
    step(net)
    connector.poll()
    deal = connector.deals[secret.hashlock]
    assert deal.state is DealState.QUOTED and "did not match the quote" in deal.reason
    step(net, POLICY.quote_ttl)
    connector.poll()
    assert deal.state is DealState.EXPIRED and net.b.bridge.lock_count() == 0


def test_a_quote_naming_a_sender_of_another_person_is_refused(net, connector):
    alice, bob = person(net, 0), person(net, 1)
    with pytest.raises(errors.ChainpayError, match="same-name"):
        connector.quote(Decimal(10), alice.b, alice.identity, Secret.new().hashlock, sender=bob.a)
    assert connector.deals == {}


# ----------------------------------------------------------------- finding 10: cross-chain replay


def test_each_chain_has_its_own_chain_id_and_a_signature_for_A_is_refused_on_B(net):
    assert net.a.chain.chain_id != net.b.chain.chain_id
    connector, victim_on_b = net.connector, person(net, 2)
    # The connector's address is the same on both chains, and person-0's address on A is person-2's on B.
    assert person(net, 0).a.address == victim_on_b.b.address
    auth = net.a.currency.sign_authorization(connector.a, person(net, 0).a, Decimal(1000))
    before = ledger(net)
    with pytest.raises(errors.revert_class("ERC3009InvalidSignature")):
        net.b.currency.transfer_with_authorization(auth, sender=victim_on_b.b)
    permit = net.a.currency.sign_permit(connector.a, victim_on_b.b, Decimal(1000), net.now + 3600)
    with pytest.raises(errors.revert_class("ERC2612InvalidSigner")):
        net.b.currency.permit(permit, sender=victim_on_b.b)
    assert ledger(net) == before
    assert net.b.currency.allowance(connector.b, victim_on_b.b) == 0
    net.a.currency.transfer_with_authorization(auth, sender=victim_on_b.b)  # valid where it was signed
    assert moved(before, ledger(net)) == {"connector": Decimal(-1000), person(net, 0).name: Decimal(1000)}


# ----------------------------------------------------------------- finding 11: unheld money


def test_money_paid_to_the_bridge_outside_a_lock_is_recovered_and_open_locks_are_not(net, connector):
    alice, bob = person(net, 0), person(net, 1)
    bridge, admin = net.a.bridge, net.a.system.role("DEFAULT_ADMIN")
    _open_crossing(net, connector, alice)
    locked = bridge.total_locked()
    net.a.currency.transfer(bridge.address, Decimal("7.50"), sender=bob.a)  # a mistaken direct payment
    expect_refusal(lambda: (net.a.currency.balance_of(bridge.address), net.a.currency.balance_of(bob.a)),
                   lambda: bridge.recover_unheld(bob.a, sender=bob.a), "AccessControlUnauthorizedAccount",
                   account=bob.a.address, neededRole=bytes(32))
    before = net.a.currency.balance_of(bob.a)
    receipt = bridge.recover_unheld(bob.a, sender=admin)
    assert receipt.event("UnheldRecovered").args == {"to": bob.a.address, "amount": 750}
    assert net.a.currency.balance_of(bob.a) == before + Decimal("7.50")
    assert net.a.currency.balance_of(bridge.address) == bridge.total_locked() == locked
    nothing = bridge.recover_unheld(bob.a, sender=admin)  # open locks are never "unheld"
    assert nothing.events_named("UnheldRecovered") == [] and bridge.total_locked() == locked
