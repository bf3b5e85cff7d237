"""Revocable transfers: every state transition, every illegal one, the daily-limit give-back,
the 72-hour dispute fallback and delivery to a recipient frozen meanwhile.

Times are exact: each test first steps the chain a day ahead of the wall clock (see
TesterChain.set_next_block_time) and then stamps the blocks it cares about.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from eth_utils import keccak
from support import expect_refusal

from chainpay import errors
from chainpay.transfers.client import TransferState

HOUR = 3600
COOLING_OFF = 2 * HOUR
DISPUTE_WINDOW = 72 * HOUR
KYC_OFFICER_ROLE = keccak(text="KYC_OFFICER")
COMPLIANCE_ROLE = keccak(text="COMPLIANCE")


@pytest.fixture
def t(system):
    system.chain.advance_time(86400)
    return system.transfers


def raw_send(system, sender, to, units: int, memo: str = "") -> object:
    """send() straight to the contract, bypassing the SDK's own validation."""
    system.currency.approve(system.transfers.address, system.currency.from_units(units), sender=sender)
    return system.transfers._write("send", system.chain.account(to).address, units, memo,
                                   sender=system.chain.account(sender))


def observe(system, actors):
    """Everything a refused call must leave untouched."""
    cur, t = system.currency, system.transfers
    people = (actors.alice, actors.alice2, actors.bob, actors.carol)
    return {
        "balances": [cur.balance_of(p) for p in people],
        "escrow": cur.balance_of(t.address),
        "held": t.total_held(),
        "count": t.transfer_count(),
        "transfers": [t.get(i) for i in range(1, t.transfer_count() + 1)],
        "outflow": [_outflow(cur, p) for p in (actors.alice, actors.bob)],
    }


def _outflow(currency, who):
    try:
        return currency.outflow_today(who)
    except errors.ContractRevert as exc:  # a frozen account has no outflow view
        return exc.error_name


def block_time(system, receipt) -> int:
    return system.chain.block_timestamp(receipt.block_number)


def make_large_sender(system, actors, balance=Decimal(20_000)):
    """alice at tier 3 (50,000 yuan a day) with enough money for transfers above the threshold."""
    system.registry.set_tier(actors.alice_id, 3)
    system.currency.mint(actors.alice, balance - Decimal(1000))


# ------------------------------------------------------------------------------------------- send
def test_send_escrows_the_amount_and_starts_the_cooling_off(system, actors, t):
    cur = system.currency
    rec = t.send(actors.bob, Decimal("12.50"), sender=actors.alice, memo="rent 房租")
    sent_at = block_time(system, rec.receipt)
    assert (rec.id, rec.sender, rec.recipient, rec.amount, rec.memo) == (
        1, actors.alice.address, actors.bob.address, Decimal("12.50"), "rent 房租")
    assert rec.state is TransferState.PENDING
    assert rec.release_at == sent_at + COOLING_OFF and rec.dispute_deadline is None
    ev = rec.receipt.event("TransferSent")
    assert ev.args == {"id": 1, "from": actors.alice.address, "to": actors.bob.address, "amount": 1250,
                       "releaseAt": sent_at + COOLING_OFF, "needsApproval": False, "memo": "rent 房租"}
    assert cur.balance_of(actors.alice) == Decimal("987.50")
    assert cur.balance_of(actors.bob) == Decimal(1000)
    assert cur.balance_of(t.address) == t.total_held() == Decimal("12.50")
    # the amount left the sender's identity today
    assert cur.outflow_today(actors.alice).spent_today == Decimal("12.50")
    assert t.get(1) == rec and t.pending_for(actors.bob) == [rec] and t.pending_for(actors.alice) == [rec]
    assert t.pending_for(actors.carol) == []


def test_send_with_a_prior_approve_instead_of_a_permit(system, actors, t):
    rec = t.send(actors.bob, Decimal(5), sender=actors.alice, use_permit=False)
    names = [e.name for e in rec.receipt.events]
    assert names == ["TransferSent", "Transfer", "EscrowPulled"]  # the allowance was set by a separate approve()
    assert rec.state is TransferState.PENDING and system.currency.allowance(actors.alice, t.address) == 0


def test_cooling_off_follows_the_amount_bands(system, actors, t):
    t.set_cooling_off([(0, 600), (Decimal(100), HOUR), (Decimal(500), 86400)])
    assert t.cooling_off_bands() == [(Decimal(0), 600), (Decimal(100), HOUR), (Decimal(500), 86400)]
    assert [t.cooling_off_for(a) for a in (Decimal("0.01"), Decimal("99.99"), 100, 499, 500, 10**6)] == [
        600, 600, HOUR, HOUR, 86400, 86400]
    small = t.send(actors.bob, Decimal(50), sender=actors.alice)
    big = t.send(actors.bob, Decimal(500), sender=actors.alice)
    assert small.release_at - block_time(system, small.receipt) == 600
    assert big.release_at - block_time(system, big.receipt) == 86400


@pytest.mark.parametrize("bands", [
    [],  # none
    [(1, 60)],  # first band not at 0
    [(0, 60), (10, 70), (10, 80)],  # not strictly ascending
    [(0, 60), (5, 70), (3, 80)],
    [(0, 30 * 86400 + 1)],  # longer than MAX_PERIOD
    [(i, 60) for i in range(9)],  # more than MAX_BANDS
])
def test_invalid_cooling_off_bands_are_refused(system, actors, t, bands):
    before = t.cooling_off_bands()
    with pytest.raises(errors.revert_class("InvalidCoolingOff")):
        t.set_cooling_off(bands)
    assert t.cooling_off_bands() == before == [(Decimal(0), COOLING_OFF)]


def test_send_refusals_change_nothing(system, actors, t):
    look = lambda: observe(system, actors)  # noqa: E731
    escrow = t.address
    expect_refusal(look, lambda: t.send(actors.alice, 1, sender=actors.alice), "InvalidRecipient", to=actors.alice.address)
    expect_refusal(look, lambda: t.send(escrow, 1, sender=actors.alice), "InvalidRecipient", to=escrow)
    expect_refusal(look, lambda: t.send(actors.stranger, 1, sender=actors.alice), "NotRegistered",
                   account=actors.stranger.address)
    expect_refusal(look, lambda: t.send(actors.bob, 1, sender=actors.stranger), "NotRegistered",
                   account=actors.stranger.address)
    expect_refusal(look, lambda: t.send(actors.bob, 1001, sender=actors.alice), "ERC20InsufficientBalance",
                   sender=actors.alice.address, balance=100000, needed=100100)
    system.registry.freeze_address(actors.bob)
    expect_refusal(look, lambda: t.send(actors.bob, 1, sender=actors.alice), "AddressFrozen", account=actors.bob.address)
    system.registry.unfreeze_address(actors.bob)
    system.registry.freeze_identity(actors.alice_id)
    expect_refusal(look, lambda: t.send(actors.bob, 1, sender=actors.alice2), "IdentityFrozen",
                   identity=actors.alice_id, account=actors.alice2.address)
    system.registry.unfreeze_identity(actors.alice_id)
    system.currency.pause(sender=actors.pauser)
    expect_refusal(look, lambda: t.send(actors.bob, 1, sender=actors.alice), "EnforcedPause")


def test_send_counts_against_the_daily_limit(system, actors, t):
    system.currency.set_daily_limit(2, Decimal(100))
    t.send(actors.bob, Decimal(60), sender=actors.alice)
    expect_refusal(lambda: observe(system, actors), lambda: t.send(actors.bob, Decimal(41), sender=actors.alice),
                   "DailyLimitExceeded", identity=actors.alice_id, limit=10000, spentToday=6000, amount=4100)
    # the other address of the same identity shares the limit
    system.currency.transfer(actors.alice2, Decimal(50), sender=actors.alice)
    with pytest.raises(errors.revert_class("DailyLimitExceeded")):
        t.send(actors.bob, Decimal(41), sender=actors.alice2)


def test_invalid_input_is_refused_before_anything_is_sent(system, actors, t):
    before = observe(system, actors)
    block = system.chain.block_number
    for bad in (Decimal(0), Decimal("0.001"), 1.5, -1, "ten"):
        with pytest.raises(errors.InvalidAmount):
            t.send(actors.bob, bad, sender=actors.alice)
    with pytest.raises(errors.InvalidInput, match="141 bytes"):
        t.send(actors.bob, 1, sender=actors.alice, memo="x" * 141)
    with pytest.raises(errors.InvalidInput, match="bytes"):
        t.send(actors.bob, 1, sender=actors.alice, memo="款" * 47)  # 141 bytes of UTF-8
    for bad_id in (0, -1, True, "1"):
        with pytest.raises(errors.InvalidInput):
            t.revoke(bad_id, sender=actors.alice)
    assert system.chain.block_number == block and observe(system, actors) == before
    assert t.send(actors.bob, 1, sender=actors.alice, memo="款" * 46).memo == "款" * 46  # 138 bytes fit


def test_the_contract_itself_refuses_what_the_sdk_screens(system, actors, t):
    look = lambda: observe(system, actors)  # noqa: E731
    expect_refusal(look, lambda: raw_send(system, actors.alice, actors.bob, 0), "ZeroAmount")
    expect_refusal(look, lambda: raw_send(system, actors.alice, actors.bob, 1, "x" * 141), "MemoTooLong",
                   length=141, max=140)
    expect_refusal(look, lambda: raw_send(system, actors.alice, "0x" + "00" * 20, 1), "InvalidRecipient",
                   to="0x" + "00" * 20)
    system.currency.mint(actors.alice, Decimal(10**27))  # 10**29 base units: beyond uint96
    expect_refusal(look, lambda: raw_send(system, actors.alice, actors.bob, 2**96), "AmountTooLarge",
                   amount=2**96, max=2**96 - 1)


def test_unknown_ids_are_refused(system, actors, t):
    look = lambda: observe(system, actors)  # noqa: E731
    for action in (lambda: t.get(7), lambda: t.release(7, sender=actors.bob), lambda: t.revoke(7, sender=actors.alice),
                   lambda: t.approve(7), lambda: t.dispute(7, sender=actors.alice),
                   lambda: t.resolve(7, to_recipient=True), lambda: t.return_expired_dispute(7, sender=actors.bob)):
        expect_refusal(look, action, "UnknownTransfer", id=7)


# ------------------------------------------------------------------------------------------- release
def test_release_is_refused_one_second_early_and_succeeds_exactly_on_time(system, actors, t):
    chain, cur = system.chain, system.currency
    rec = t.send(actors.bob, Decimal(30), sender=actors.alice)
    chain.set_next_block_time(rec.release_at - 1)
    expect_refusal(lambda: observe(system, actors), lambda: t.release(rec.id, sender=actors.stranger), "NotYetDue",
                   id=rec.id, releaseAt=rec.release_at)
    chain.set_next_block_time(rec.release_at)
    done = t.release(rec.id, sender=actors.stranger)  # anyone, e.g. a keeper
    assert block_time(system, done.receipt) == rec.release_at
    assert done.state is TransferState.RELEASED
    assert done.receipt.event("TransferReleased").args == {"id": rec.id, "to": actors.bob.address, "amount": 3000}
    assert cur.balance_of(actors.bob) == Decimal(1030) and cur.balance_of(actors.alice) == Decimal(970)
    assert cur.balance_of(t.address) == t.total_held() == 0
    assert t.pending_for(actors.bob) == []
    # double release, and every party action after release
    look = lambda: observe(system, actors)  # noqa: E731
    released = int(TransferState.RELEASED)
    expect_refusal(look, lambda: t.release(rec.id, sender=actors.bob), "WrongState", id=rec.id, state=released)
    expect_refusal(look, lambda: t.revoke(rec.id, sender=actors.alice), "WrongState", id=rec.id, state=released)
    expect_refusal(look, lambda: t.reject(rec.id, sender=actors.bob), "WrongState", id=rec.id, state=released)
    expect_refusal(look, lambda: t.dispute(rec.id, sender=actors.alice), "WrongState", id=rec.id, state=released)


def test_release_to_a_recipient_frozen_meanwhile_returns_the_money(system, actors, t):
    cur = system.currency
    rec = t.send(actors.bob, Decimal(30), sender=actors.alice)
    system.registry.freeze_address(actors.bob)
    system.chain.set_next_block_time(rec.release_at)
    done = t.release(rec.id, sender=actors.stranger)
    assert done.state is TransferState.RETURNED
    reason = done.receipt.event("TransferReturned")["reason"]
    assert errors.decode_revert(reason).error_name == "AddressFrozen"
    assert errors.decode_revert(reason).values == (actors.bob.address,)
    assert cur.balance_of(actors.alice) == Decimal(1000) and cur.balance_of(actors.bob) == Decimal(1000)
    assert cur.balance_of(t.address) == t.total_held() == 0
    # returned on the day it was sent: the outflow is given back
    assert cur.outflow_today(actors.alice).spent_today == 0


@pytest.mark.parametrize("how, error", [("identity", "IdentityFrozen"), ("unlink", "NotRegistered")])
def test_release_to_a_recipient_removed_or_identity_frozen_returns_the_money(system, actors, t, how, error):
    rec = t.send(actors.bob, Decimal(30), sender=actors.alice)
    if how == "identity":
        system.registry.freeze_identity(actors.bob_id)
    else:
        system.currency.transfer(actors.alice, Decimal(1000), sender=actors.bob)  # empty it first
        system.registry.unlink_address(actors.bob)
    system.chain.advance_time(COOLING_OFF)
    done = t.release(rec.id, sender=actors.carol)
    assert done.state is TransferState.RETURNED
    assert errors.decode_revert(done.receipt.event("TransferReturned")["reason"]).error_name == error
    assert system.currency.balance_of(t.address) == t.total_held() == 0


def test_release_many_settles_only_what_is_due(system, actors, t):
    cur, chain = system.currency, system.chain
    first = t.send(actors.bob, Decimal(10), sender=actors.alice)
    second = t.send(actors.carol, Decimal(20), sender=actors.alice)
    carols = t.send(actors.bob, Decimal(5), sender=actors.carol)
    chain.advance_time(COOLING_OFF)
    late = t.send(actors.bob, Decimal(40), sender=actors.alice)  # not yet due
    t.release(second.id, sender=actors.bob)  # already delivered by another keeper
    batch = t.release_many([first.id, second.id, late.id, carols.id, 99], sender=actors.stranger)
    assert (batch.released, batch.returned, batch.settled) == ((first.id, carols.id), (), 2)
    assert [t.get(i).state for i in (first.id, second.id, late.id, carols.id)] == [
        TransferState.RELEASED, TransferState.RELEASED, TransferState.PENDING, TransferState.RELEASED]
    assert cur.balance_of(actors.bob) == Decimal(1015)
    assert cur.balance_of(t.address) == t.total_held() == Decimal(40)
    assert t.release_many([], sender=actors.stranger).receipts == ()


def test_a_transfer_that_can_go_nowhere_stays_pending_and_never_blocks_a_batch(system, actors, t):
    cur, reg = system.currency, system.registry
    stuck = t.send(actors.bob, Decimal(10), sender=actors.carol)
    fine = t.send(actors.bob, Decimal(20), sender=actors.alice)
    system.chain.advance_time(COOLING_OFF)
    reg.freeze_address(actors.bob)
    reg.freeze_address(actors.carol)  # neither recipient nor sender can receive
    with pytest.raises(errors.revert_class("AddressFrozen")) as exc:
        t.release(stuck.id, sender=actors.stranger)  # alone: the sender's error says why
    assert exc.value.values == (actors.carol.address,)
    batch = t.release_many([stuck.id, fine.id], sender=actors.stranger)
    assert (batch.released, batch.returned) == ((), (fine.id,))  # the other one still settles
    assert t.get(stuck.id).state is TransferState.PENDING and t.total_held() == Decimal(10)
    reg.unfreeze_address(actors.bob)
    assert t.release(stuck.id, sender=actors.stranger).state is TransferState.RELEASED
    assert cur.balance_of(t.address) == t.total_held() == 0


def test_deliver_due_releases_everything_due_in_batches(system, actors, t):
    cur, chain = system.currency, system.chain
    ids = [t.send(actors.bob, Decimal(i + 1), sender=actors.alice).id for i in range(7)]
    chain.advance_time(COOLING_OFF)
    not_due = t.send(actors.bob, Decimal(100), sender=actors.alice)
    returned = t.send(actors.carol, Decimal(1), sender=actors.alice)  # carol is frozen before it is due
    chain.advance_time(1)
    delivery = t.deliver_due(sender=actors.stranger, batch_size=3)
    assert delivery.released == tuple(ids) and delivery.returned == ()
    assert len(delivery.receipts) == 3 and delivery.gas_used == sum(r.gas_used for r in delivery.receipts)
    assert cur.balance_of(actors.bob) == Decimal(1000 + 28)
    assert {r.id for r in t.pending_for(actors.alice)} == {not_due.id, returned.id}
    assert t.deliver_due(sender=actors.stranger).settled == 0  # nothing else due yet
    system.registry.freeze_address(actors.carol)
    chain.advance_time(COOLING_OFF)
    later = t.deliver_due(sender=actors.stranger)
    assert (later.released, later.returned) == ((not_due.id,), (returned.id,))
    assert t.pending_for(actors.alice) == [] and t.total_held() == 0
    with pytest.raises(errors.InvalidInput):
        t.deliver_due(sender=actors.stranger, batch_size=0)


# ------------------------------------------------------------------------------------------- revoke / reject
def test_sender_revokes_within_the_window_and_gets_the_limit_back(system, actors, t):
    cur = system.currency
    # one UTC day for the whole story (the give-back is same-day only): start at the next day's 01:00
    system.chain.set_next_block_time((system.chain.now // 86400 + 1) * 86400 + 3600)
    cur.transfer(actors.bob, Decimal(100), sender=actors.alice)  # spent today before the mis-sent transfer
    rec = t.send(actors.carol, Decimal(300), sender=actors.alice, memo="meant for bob")
    assert cur.outflow_today(actors.alice).spent_today == Decimal(400)
    system.chain.set_next_block_time(rec.release_at - 1)  # the last second of the window
    done = t.revoke(rec.id, sender=actors.alice)
    assert done.state is TransferState.REVOKED
    assert [e.name for e in done.receipt.events] == ["TransferRevoked", "Transfer", "OutflowRestored"]
    assert done.receipt.event("OutflowRestored").args == {"account": actors.alice.address, "identity": actors.alice_id,
                                                          "amount": 30000}
    assert cur.balance_of(actors.alice) == Decimal(900) and cur.balance_of(actors.carol) == Decimal(100)
    assert cur.outflow_today(actors.alice).spent_today == Decimal(100)  # the earlier payment still counts
    assert cur.balance_of(t.address) == t.total_held() == 0


def test_revoke_refusals(system, actors, t):
    rec = t.send(actors.bob, Decimal(30), sender=actors.alice)
    look = lambda: observe(system, actors)  # noqa: E731
    expect_refusal(look, lambda: t.revoke(rec.id, sender=actors.bob), "NotSender", id=rec.id, caller=actors.bob.address)
    # alice's other address is the same person but not the sender of record
    expect_refusal(look, lambda: t.revoke(rec.id, sender=actors.alice2), "NotSender", id=rec.id,
                   caller=actors.alice2.address)
    system.chain.set_next_block_time(rec.release_at)  # the window has closed at releaseAt exactly
    expect_refusal(look, lambda: t.revoke(rec.id, sender=actors.alice), "CoolingOffOver", id=rec.id,
                   releaseAt=rec.release_at)


def test_recipient_rejects_and_the_sender_is_refunded(system, actors, t):
    cur = system.currency
    rec = t.send(actors.bob, Decimal(30), sender=actors.alice)
    look = lambda: observe(system, actors)  # noqa: E731
    expect_refusal(look, lambda: t.reject(rec.id, sender=actors.alice), "NotRecipient", id=rec.id,
                   caller=actors.alice.address)
    done = t.reject(rec.id, sender=actors.bob)
    assert done.state is TransferState.REJECTED and done.receipt.events_named("TransferRejected")
    assert cur.balance_of(actors.alice) == Decimal(1000) and cur.outflow_today(actors.alice).spent_today == 0
    system.chain.advance_time(COOLING_OFF)
    expect_refusal(look, lambda: t.release(rec.id, sender=actors.bob), "WrongState", id=rec.id,
                   state=int(TransferState.REJECTED))


def test_a_revoke_on_a_later_utc_day_gives_no_limit_back(system, actors, t):
    chain, cur = system.chain, system.currency
    day = (chain.now // 86400 + 1) * 86400
    chain.set_next_block_time(day + 23 * HOUR)  # 23:00 UTC
    rec = t.send(actors.bob, Decimal(300), sender=actors.alice)
    chain.set_next_block_time(day + 86400 + 10)  # 00:00:10 the next day, inside the 2-hour window
    cur.transfer(actors.bob, Decimal(50), sender=actors.alice)  # today's outflow so far
    done = t.revoke(rec.id, sender=actors.alice)
    assert done.state is TransferState.REVOKED and not done.receipt.events_named("OutflowRestored")
    assert cur.outflow_today(actors.alice).spent_today == Decimal(50)
    assert cur.balance_of(actors.alice) == Decimal(950)


def test_restore_outflow_is_only_for_escrow_contracts(system, actors, t):
    cur = system.currency
    cur.transfer(actors.bob, Decimal(10), sender=actors.alice)
    today = system.chain.now // 86400
    fn = cur.artifact.fn("restoreOutflow")
    for caller in (actors.alice, actors.compliance, actors.admin):
        with pytest.raises(errors.revert_class("AccessControlUnauthorizedAccount")) as exc:
            system.chain.send(caller, cur.address, fn.encode([actors.alice.address, 1000, today]))
        assert exc.value.values[0] == caller.address
    assert cur.outflow_today(actors.alice).spent_today == Decimal(10)
    assert cur.has_role("ESCROW", t.address) and not cur.has_role("ESCROW", actors.admin)
    # a holder gives back nothing it did not take itself (review finding 12), and nothing for another day
    cur.grant_role("ESCROW", actors.spare[0])
    assert not system.chain.send(actors.spare[0], cur.address, fn.encode([actors.alice.address, 500, today - 1])).events
    assert not system.chain.send(actors.spare[0], cur.address, fn.encode([actors.alice.address, 5000, today])).events
    assert cur.outflow_today(actors.alice).spent_today == Decimal(10)


# ------------------------------------------------------------------------------------------- second approval
def test_large_transfer_waits_for_the_senders_second_device(system, actors, t):
    make_large_sender(system, actors)
    device = actors.spare[1]
    system.registry.set_approver(actors.alice_id, device, sender=actors.officer_a)
    assert system.registry.approver_of(actors.alice) == device.address
    assert system.registry.approver_of(actors.alice2) == device.address  # per identity, not per address
    rec = t.send(actors.bob, Decimal(6000), sender=actors.alice, memo="car")
    assert rec.state is TransferState.AWAITING_APPROVAL and rec.release_at is None
    assert rec.receipt.event("TransferSent")["needsApproval"] is True
    look = lambda: observe(system, actors)  # noqa: E731
    awaiting = int(TransferState.AWAITING_APPROVAL)
    system.chain.advance_time(10 * 86400)  # time alone never releases it
    expect_refusal(look, lambda: t.release(rec.id, sender=actors.bob), "WrongState", id=rec.id, state=awaiting)
    for intruder in (actors.stranger, actors.bob, actors.alice, actors.alice2, actors.officer_a, actors.admin):
        expect_refusal(look, lambda i=intruder: t.approve(rec.id, sender=i), "NotApprover", id=rec.id,
                       caller=intruder.address)
    approved = t.approve(rec.id, sender=device)
    approved_at = block_time(system, approved.receipt)
    assert approved.state is TransferState.PENDING and approved.release_at == approved_at + COOLING_OFF
    assert approved.receipt.event("TransferApproved").args == {"id": rec.id, "approver": device.address,
                                                                "releaseAt": approved_at + COOLING_OFF}
    expect_refusal(look, lambda: t.approve(rec.id, sender=device), "WrongState", id=rec.id,
                   state=int(TransferState.PENDING))
    system.chain.set_next_block_time(approved.release_at)
    assert t.release(rec.id, sender=actors.stranger).state is TransferState.RELEASED
    assert system.currency.balance_of(actors.bob) == Decimal(7000)


def test_compliance_approves_when_no_device_is_bound(system, actors, t):
    make_large_sender(system, actors)
    rec = t.send(actors.bob, Decimal(5000), sender=actors.alice)  # exactly the threshold: needs approval
    assert rec.state is TransferState.AWAITING_APPROVAL
    with pytest.raises(errors.revert_class("NotApprover")):
        t.approve(rec.id, sender=actors.stranger)
    assert t.approve(rec.id).state is TransferState.PENDING  # compliance, the default sender


def test_a_sender_bound_as_its_own_approver_still_cannot_approve(system, actors, t):
    make_large_sender(system, actors)
    system.registry.set_approver(actors.alice_id, actors.alice)
    rec = t.send(actors.bob, Decimal(6000), sender=actors.alice)
    with pytest.raises(errors.revert_class("NotApprover")):
        t.approve(rec.id, sender=actors.alice)
    system.registry.set_approver(actors.alice_id, actors.alice2)  # her second address as the device: allowed
    assert t.approve(rec.id, sender=actors.alice2).state is TransferState.PENDING


def test_just_below_the_threshold_needs_no_approval_and_the_threshold_is_policy(system, actors, t):
    make_large_sender(system, actors)
    assert t.approval_threshold() == Decimal(5000)
    assert t.send(actors.bob, Decimal("4999.99"), sender=actors.alice).state is TransferState.PENDING
    ev = t.set_approval_threshold(Decimal(100)).event("ApprovalThresholdChanged")
    assert ev.args == {"previousThreshold": 500000, "newThreshold": 10000}
    assert t.send(actors.bob, Decimal(100), sender=actors.alice).state is TransferState.AWAITING_APPROVAL
    assert t.get(1).state is TransferState.PENDING  # earlier transfers keep their state


def test_large_transfers_can_be_revoked_or_rejected_while_awaiting_approval(system, actors, t):
    make_large_sender(system, actors)
    a = t.send(actors.bob, Decimal(6000), sender=actors.alice)
    b = t.send(actors.bob, Decimal(7000), sender=actors.alice)
    system.chain.advance_time(5 * 86400)
    assert t.revoke(a.id, sender=actors.alice).state is TransferState.REVOKED
    assert t.reject(b.id, sender=actors.bob).state is TransferState.REJECTED
    assert system.currency.balance_of(actors.alice) == Decimal(20_000) and t.total_held() == 0


def test_set_approver_rules(system, actors, t):
    reg = system.registry
    device = actors.spare[1]
    ev = reg.set_approver(actors.alice_id, device, sender=actors.officer_a).event("ApproverChanged")
    assert ev.args == {"identity": actors.alice_id, "previousApprover": "0x" + "00" * 20, "newApprover": device.address}
    assert reg.identity_info(actors.alice_id).approver == device.address
    look = lambda: reg.identity_info(actors.alice_id)  # noqa: E731
    # platform B linked alice2 but did not register alice: not its customer for a second factor
    expect_refusal(look, lambda: reg.set_approver(actors.alice_id, actors.bob, sender=actors.officer_b),
                   "NotYourCustomer", officer=actors.officer_b.address, officerInstitution=2, customerInstitution=1)
    expect_refusal(look, lambda: reg.set_approver(actors.alice_id, actors.bob, sender=actors.stranger),
                   "AccessControlUnauthorizedAccount", account=actors.stranger.address,
                   neededRole=KYC_OFFICER_ROLE)
    expect_refusal(look, lambda: reg.set_approver(b"\x01" * 32, actors.bob), "UnknownIdentity", identity=b"\x01" * 32)
    reg.set_approver(actors.alice_id, None)  # compliance clears it
    assert reg.approver_of(actors.alice) is None and reg.approver_of(actors.stranger) is None


# ------------------------------------------------------------------------------------------- disputes
def test_dispute_then_compliance_pays_the_recipient(system, actors, t):
    rec = t.send(actors.bob, Decimal(30), sender=actors.alice)
    disputed = t.dispute(rec.id, sender=actors.bob)
    opened = block_time(system, disputed.receipt)
    assert disputed.state is TransferState.DISPUTED and disputed.dispute_deadline == opened + DISPUTE_WINDOW
    assert disputed.receipt.event("TransferDisputed").args == {"id": rec.id, "by": actors.bob.address,
                                                               "deadline": opened + DISPUTE_WINDOW}
    look = lambda: observe(system, actors)  # noqa: E731
    disputed_state = int(TransferState.DISPUTED)
    system.chain.advance_time(COOLING_OFF + 60)  # past releaseAt: a disputed transfer does not release...
    expect_refusal(look, lambda: t.release(rec.id, sender=actors.bob), "WrongState", id=rec.id, state=disputed_state)
    expect_refusal(look, lambda: t.revoke(rec.id, sender=actors.alice), "WrongState", id=rec.id, state=disputed_state)
    expect_refusal(look, lambda: t.dispute(rec.id, sender=actors.alice), "WrongState", id=rec.id, state=disputed_state)
    assert t.release_many([rec.id], sender=actors.bob).settled == 0  # ...not even in a batch
    for outsider in (actors.stranger, actors.alice, actors.bob, actors.admin):
        expect_refusal(look, lambda o=outsider: t.resolve(rec.id, to_recipient=True, sender=o),
                       "AccessControlUnauthorizedAccount", account=outsider.address,
                       neededRole=COMPLIANCE_ROLE)
    done = t.resolve(rec.id, to_recipient=True)
    assert done.state is TransferState.RESOLVED_TO_RECIPIENT
    assert done.receipt.event("DisputeResolved").args == {"id": rec.id, "by": actors.compliance.address,
                                                          "toRecipient": True}
    assert system.currency.balance_of(actors.bob) == Decimal(1030) and t.total_held() == 0


def test_dispute_resolved_to_the_sender(system, actors, t):
    rec = t.send(actors.bob, Decimal(30), sender=actors.alice)
    t.dispute(rec.id, sender=actors.alice)
    done = t.resolve(rec.id, to_recipient=False)
    assert done.state is TransferState.RESOLVED_TO_SENDER
    assert system.currency.balance_of(actors.alice) == Decimal(1000)
    assert system.currency.outflow_today(actors.alice).spent_today == 0
    with pytest.raises(errors.InvalidInput):
        t.resolve(rec.id, to_recipient="yes")


def test_dispute_refusals(system, actors, t):
    rec = t.send(actors.bob, Decimal(30), sender=actors.alice)
    look = lambda: observe(system, actors)  # noqa: E731
    expect_refusal(look, lambda: t.dispute(rec.id, sender=actors.carol), "NotParty", id=rec.id,
                   caller=actors.carol.address)
    expect_refusal(look, lambda: t.resolve(rec.id, to_recipient=True), "WrongState", id=rec.id,
                   state=int(TransferState.PENDING))
    system.chain.set_next_block_time(rec.release_at)
    expect_refusal(look, lambda: t.dispute(rec.id, sender=actors.bob), "CoolingOffOver", id=rec.id,
                   releaseAt=rec.release_at)


def test_an_unresolved_dispute_returns_to_the_sender_after_72_hours(system, actors, t):
    chain, cur = system.chain, system.currency
    assert t.dispute_window() == DISPUTE_WINDOW
    rec = t.send(actors.bob, Decimal(30), sender=actors.alice)
    deadline = t.dispute(rec.id, sender=actors.bob).dispute_deadline
    look = lambda: observe(system, actors)  # noqa: E731
    chain.set_next_block_time(deadline - 1)
    expect_refusal(look, lambda: t.return_expired_dispute(rec.id, sender=actors.stranger), "DisputeStillOpen",
                   id=rec.id, deadline=deadline)
    chain.set_next_block_time(deadline)
    expect_refusal(look, lambda: t.resolve(rec.id, to_recipient=True), "DisputeDeadlinePassed", id=rec.id,
                   deadline=deadline)
    chain.advance_time(1)
    done = t.return_expired_dispute(rec.id, sender=actors.stranger)  # anyone
    assert done.state is TransferState.DISPUTE_EXPIRED and done.receipt.events_named("DisputeExpired")
    assert cur.balance_of(actors.alice) == Decimal(1000) and cur.balance_of(t.address) == t.total_held() == 0
    assert not done.receipt.events_named("OutflowRestored")  # three days later: nothing to give back


def test_dispute_window_is_policy_for_new_disputes(system, actors, t):
    a = t.send(actors.bob, Decimal(1), sender=actors.alice)
    first = t.dispute(a.id, sender=actors.bob)
    ev = t.set_dispute_window(HOUR).event("DisputeWindowChanged")
    assert ev.args == {"previousWindow": DISPUTE_WINDOW, "newWindow": HOUR}
    b = t.send(actors.bob, Decimal(1), sender=actors.alice)
    second = t.dispute(b.id, sender=actors.alice)
    assert second.dispute_deadline - block_time(system, second.receipt) == HOUR
    assert t.get(a.id).dispute_deadline == first.dispute_deadline  # unchanged
    for bad in (0, 30 * 86400 + 1):
        with pytest.raises(errors.InvalidInput if bad == 0 else errors.revert_class("InvalidDisputeWindow")):
            t.set_dispute_window(bad)
    assert t.dispute_window() == HOUR


# ------------------------------------------------------------------------------------------- policy guards
POLICY_CALLS = {
    "setCoolingOff": lambda t, who: t.set_cooling_off([(0, 60)], sender=who),
    "setApprovalThreshold": lambda t, who: t.set_approval_threshold(1, sender=who),
    "setDisputeWindow": lambda t, who: t.set_dispute_window(60, sender=who),
    "recoverUnheld": lambda t, who: t.recover_unheld(who, sender=who),
    "grantRole": lambda t, who: t.grant_role("COMPLIANCE", who, sender=who),
}


def policy(t):
    return (t.cooling_off_bands(), t.approval_threshold(), t.dispute_window(), t.has_role("COMPLIANCE", t.chain.accounts[10]))


@pytest.mark.parametrize("fn", list(POLICY_CALLS))
@pytest.mark.parametrize("caller", ["stranger", "admin", "alice", "issuer"])
def test_policy_is_compliance_only(system, actors, t, fn, caller):
    who = getattr(actors, caller)
    if fn == "grantRole":  # role administration is the admin's, not compliance's
        if caller == "admin":
            return
        needed = b"\x00" * 32
    else:
        needed = COMPLIANCE_ROLE
    expect_refusal(lambda: policy(t), lambda: POLICY_CALLS[fn](t, who), "AccessControlUnauthorizedAccount",
                   account=who.address, neededRole=needed)


# ------------------------------------------------------------------------------------------- escrow bookkeeping
def test_money_paid_to_the_escrow_directly_can_be_recovered_but_never_escrowed_money(system, actors, t):
    cur = system.currency
    t.send(actors.bob, Decimal(30), sender=actors.alice)
    cur.transfer(t.address, Decimal(7), sender=actors.carol)  # a mis-sent direct payment
    assert cur.balance_of(t.address) == Decimal(37) and t.total_held() == Decimal(30)
    with pytest.raises(errors.revert_class("AccessControlUnauthorizedAccount")):
        t.recover_unheld(actors.stranger, sender=actors.stranger)
    receipt = t.recover_unheld(actors.carol)
    assert receipt.event("UnheldRecovered").args == {"to": actors.carol.address, "amount": 700}
    assert cur.balance_of(t.address) == t.total_held() == Decimal(30)
    assert cur.balance_of(actors.carol) == Decimal(100)
    assert not t.recover_unheld(actors.carol).events  # nothing left to recover


def test_the_escrow_is_a_registered_identity_of_the_contracts_institution(system, actors):
    from chainpay.system import CONTRACTS_INSTITUTION

    info = system.registry.account_info(system.transfers.address)
    assert info.active and info.tier == 5 and info.linked_by == CONTRACTS_INSTITUTION
    assert system.registry.institution_info(CONTRACTS_INSTITUTION).name == "chainpay contracts"
    assert system.registry.officer_institution(actors.admin) == 0  # the admin was an officer only while registering
    assert not system.registry.has_role("KYC_OFFICER", actors.admin)


def test_history_lists_final_transfers_too(system, actors, t):
    a = t.send(actors.bob, Decimal(1), sender=actors.alice, memo="one")
    b = t.send(actors.alice, Decimal(2), sender=actors.bob, memo="two")
    t.revoke(a.id, sender=actors.alice)
    assert [(r.id, r.state, r.memo) for r in t.history_for(actors.alice)] == [
        (a.id, TransferState.REVOKED, "one"), (b.id, TransferState.PENDING, "two")]
    assert [r.id for r in t.pending_for(actors.alice)] == [b.id]
    assert t.history_for(actors.carol) == []
