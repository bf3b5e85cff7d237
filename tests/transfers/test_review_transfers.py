"""Security review (issue 11) on the revocable-transfer escrow: finding 7 (compliance holds the
escrowed money of a frozen party), finding 8 (a pause does not run down dispute deadlines) and
finding 11 (no contract recipient that is not chainpay's own)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chainpay import errors
from chainpay.currency.registry import identity_id
from chainpay.transfers import TransferState
from support import expect_refusal

HOUR = 3600


@pytest.fixture
def t(system):
    system.chain.advance_time(86400)
    return system.transfers


def view(system, actors, *ids):
    cur, t = system.currency, system.transfers
    return ([t.get(i) for i in ids], [cur.balance_of(w) for w in (actors.alice, actors.bob, t.address)],
            t.total_held())


# ------------------------------------------------------------------ finding 7
def test_compliance_holds_a_frozen_senders_due_transfer(system, actors, t):
    """The review: a stolen (then frozen) account's pending transfer was still released to the thief's
    recipient. Now compliance holds it, even after its cooling-off, and it never reaches the recipient."""
    reg, cur = system.registry, system.currency
    rec = t.send(actors.bob, Decimal(200), sender=actors.alice)
    snap = lambda: view(system, actors, rec.id)  # noqa: E731
    expect_refusal(snap, lambda: t.hold(rec.id), "PartiesActive", id=rec.id)  # nobody frozen: no hold
    reg.freeze_identity(actors.alice_id)
    system.chain.advance_time(3 * HOUR)  # the cooling-off is over: the keeper could release it now
    expect_refusal(snap, lambda: t.hold(rec.id, sender=actors.bob), "AccessControlUnauthorizedAccount",
                   account=actors.bob.address, neededRole=t._read("COMPLIANCE_ROLE"))
    held = t.hold(rec.id)
    assert held.state is TransferState.DISPUTED
    assert held.receipt.event("TransferDisputed")["by"] == actors.compliance.address
    bob_before = cur.balance_of(actors.bob)
    assert t.release_many([rec.id], sender=actors.carol).settled == 0  # the keeper's batch skips it
    with pytest.raises(errors.WrongState):
        t.release(rec.id, sender=actors.carol)
    assert cur.balance_of(actors.bob) == bob_before
    # the money goes back to the victim's account once compliance has restored it
    with pytest.raises(errors.IdentityFrozen):
        t.resolve(rec.id, to_recipient=False)
    reg.unfreeze_identity(actors.alice_id)
    done = t.resolve(rec.id, to_recipient=False)
    assert done.state is TransferState.RESOLVED_TO_SENDER and t.total_held() == 0


def test_compliance_holds_a_transfer_to_a_frozen_recipient_awaiting_approval(system, actors, t):
    t.set_approval_threshold(Decimal(100))
    rec = t.send(actors.bob, Decimal(200), sender=actors.alice)  # over the threshold: awaits approval
    assert rec.state is TransferState.AWAITING_APPROVAL
    system.registry.freeze_address(actors.bob)
    assert t.hold(rec.id).state is TransferState.DISPUTED
    with pytest.raises(errors.WrongState):
        t.hold(rec.id)


# ------------------------------------------------------------------ finding 8
def test_a_pause_longer_than_the_dispute_window_does_not_decide_the_dispute(system, actors, t):
    """The review: paused for longer than 72 h, every open dispute expired to the sender, since
    compliance could not resolve during the pause. Now the deadline moves by the time paused."""
    cur, chain = system.currency, system.chain
    rec = t.send(actors.bob, Decimal(100), sender=actors.alice)
    start = chain.now + 10
    chain.set_next_block_time(start)
    disputed = t.dispute(rec.id, sender=actors.bob)
    assert disputed.dispute_deadline == start + 72 * HOUR
    chain.set_next_block_time(start + HOUR)
    cur.pause()
    chain.set_next_block_time(start + 101 * HOUR)  # paused for 100 h
    cur.unpause()
    assert t.get(rec.id).dispute_deadline == start + 172 * HOUR
    snap = lambda: view(system, actors, rec.id)  # noqa: E731
    expect_refusal(snap, lambda: t.return_expired_dispute(rec.id, sender=actors.alice), "DisputeStillOpen",
                   id=rec.id, deadline=start + 172 * HOUR)
    chain.set_next_block_time(start + 171 * HOUR)  # 71 unpaused hours after the dispute: compliance decides
    done = t.resolve(rec.id, to_recipient=True)
    assert done.state is TransferState.RESOLVED_TO_RECIPIENT


def test_after_the_moved_deadline_anyone_returns_the_dispute(system, actors, t):
    cur, chain = system.currency, system.chain
    rec = t.send(actors.bob, Decimal(100), sender=actors.alice)
    start = chain.now + 10
    chain.set_next_block_time(start)
    t.dispute(rec.id, sender=actors.alice)
    chain.set_next_block_time(start + 10)
    cur.pause()
    chain.set_next_block_time(start + 10 + 5 * HOUR)
    cur.unpause()
    deadline = start + 77 * HOUR
    chain.set_next_block_time(deadline)
    expect_refusal(lambda: view(system, actors, rec.id), lambda: t.resolve(rec.id, to_recipient=True),
                   "DisputeDeadlinePassed", id=rec.id, deadline=deadline)
    assert t.return_expired_dispute(rec.id, sender=actors.carol).state is TransferState.DISPUTE_EXPIRED


# ------------------------------------------------------------------ finding 11
def test_a_contract_recipient_must_be_chainpays_own(system, actors, t):
    """Money sent to a registered contract that is not one of chainpay's could be stuck forever."""
    reg = system.registry
    stranger_contract = system.chain.deploy("BaselineERC20", [1], actors.admin).contract_address
    reg.register_identity(identity_id("a contract posing as a person"), 1, stranger_contract, sender=actors.officer_a)
    expect_refusal(lambda: view(system, actors), lambda: t.send(stranger_contract, Decimal(1), sender=actors.alice),
                   "InvalidRecipient", to=stranger_contract)
    rec = t.send(system.channels.address, Decimal(1), sender=actors.alice)  # a chainpay contract is accepted
    assert rec.state is TransferState.PENDING
