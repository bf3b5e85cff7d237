"""HashedTimelockBridge on its own chain: locking rules (connector white list, same-name rule,
timelock bounds), claims and refunds with their exact errors, events and conserved balances."""

from decimal import Decimal

import pytest
from bridge_support import ledger, moved, person, step
from support import expect_refusal

from chainpay import errors
from chainpay.bridge.client import MAX_LOCK_DURATION, MIN_LOCK_DURATION, LockState, Secret, hashlock_of

HOUR = 3600


def _state(net):
    """Everything a refused bridge call could have touched on chain A or B."""
    return ledger(net), net.a.bridge.lock_count(), net.b.bridge.lock_count(), net.a.bridge.total_locked(), net.b.bridge.total_locked()


def _outbound(net, who, amount=Decimal("10.00"), secret=None, duration=4 * HOUR, **kw):
    secret = secret or Secret.new()
    record = net.a.bridge.lock(net.connector.a, amount, secret.hashlock, net.now + duration, who.identity, sender=who.a, **kw)
    return record, secret


def _inbound(net, to, amount=Decimal("10.00"), secret=None, duration=2 * HOUR, identity=None):
    secret = secret or Secret.new()
    record = net.b.bridge.lock(to.b, amount, secret.hashlock, net.now + duration, identity or to.identity,
                               sender=net.connector.b)
    return record, secret


def test_hashlock_is_sha256_of_a_32_byte_preimage():
    secret = Secret.new()
    assert len(secret.preimage) == 32 and secret.hashlock == hashlock_of(secret.preimage)
    assert hashlock_of(bytes(32)).hex() == "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925"
    with pytest.raises(errors.InvalidInput):
        hashlock_of(b"short")


def test_a_full_crossing_moves_value_and_conserves_the_sum_across_both_chains(net):
    alice = person(net, 0)
    before = ledger(net)
    out, secret = _outbound(net, alice, Decimal("10.02"))
    assert out.state is LockState.OPEN and not out.inbound
    assert (out.locker, out.recipient, out.amount, out.identity) == (alice.a.address, net.connector.a.address, Decimal("10.02"), alice.identity)
    locked = out.receipt.event("Locked")
    assert locked.args == {"id": out.id, "hashlock": secret.hashlock, "locker": alice.a.address,
                           "recipient": net.connector.a.address, "amount": 1002, "timelock": out.timelock,
                           "identity": alice.identity, "inbound": False}
    assert net.a.bridge.total_locked() == Decimal("10.02")
    assert out == net.a.bridge.get(out.id)  # lock() builds its record from the event: the chain's own
    step(net)
    inb, _ = _inbound(net, alice, Decimal("10.00"), secret)
    assert inb.inbound and inb.recipient == alice.b.address and inb == net.b.bridge.get(inb.id)
    step(net)
    claimed = net.b.bridge.claim(inb.id, secret.preimage, sender=alice.b)
    assert claimed.state is LockState.CLAIMED and claimed == net.b.bridge.get(inb.id)
    assert claimed.receipt.event("Claimed").args == {"id": inb.id, "hashlock": secret.hashlock, "recipient": alice.b.address,
                                                     "preimage": secret.preimage}
    # The connector learns the preimage from chain B's event and claims on A.
    [event] = net.b.bridge.events("Claimed")
    net.a.bridge.claim(out.id, event["preimage"], sender=net.connector.a)
    after = ledger(net)
    assert moved(before, after) == {alice.name: Decimal("-0.02"), "connector": Decimal("0.02")}
    assert net.a.bridge.total_locked() == net.b.bridge.total_locked() == 0
    assert net.a.currency.balance_of(alice.a) == Decimal("19989.98") and net.b.currency.balance_of(alice.b) == Decimal("10.00")


def test_anyone_may_submit_the_preimage_but_only_the_recipient_is_paid(net):
    alice, bob = person(net, 0), person(net, 1)
    inb, secret = _inbound(net, alice)
    before = ledger(net)
    net.b.bridge.claim(inb.id, secret.preimage, sender=bob.b)
    assert moved(before, ledger(net)) == {alice.name: Decimal("10.00"), "bridges": Decimal("-10.00")}


def test_outbound_lock_must_pay_a_white_listed_connector(net):
    alice, bob = person(net, 0), person(net, 1)
    secret = Secret.new()
    expect_refusal(lambda: _state(net),
                   lambda: net.a.bridge.lock(bob.a, Decimal(5), secret.hashlock, net.now + 4 * HOUR, alice.identity, sender=alice.a),
                   "NotConnector", account=bob.a.address)


def test_outbound_lock_must_name_the_lockers_own_identity(net):
    alice, bob = person(net, 0), person(net, 1)
    secret = Secret.new()
    expect_refusal(lambda: _state(net),
                   lambda: net.a.bridge.lock(net.connector.a, Decimal(5), secret.hashlock, net.now + 4 * HOUR, bob.identity, sender=alice.a),
                   "IdentityMismatch", named=bob.identity, actual=alice.identity)


def test_same_name_rule_inbound_lock_pays_only_the_named_identitys_account(net):
    alice, bob = person(net, 0), person(net, 1)
    secret = Secret.new()
    # The connector names alice's identity but points at bob's account on B: refused.
    expect_refusal(lambda: _state(net),
                   lambda: net.b.bridge.lock(bob.b, Decimal(5), secret.hashlock, net.now + 2 * HOUR, alice.identity, sender=net.connector.b),
                   "IdentityMismatch", named=alice.identity, actual=bob.identity)


def test_inbound_lock_to_an_unregistered_account_is_refused(net):
    stranger = net.b.chain.accounts[0]  # the admin: never registered as a customer
    secret = Secret.new()
    expect_refusal(lambda: _state(net),
                   lambda: net.b.bridge.lock(stranger, Decimal(5), secret.hashlock, net.now + 2 * HOUR, person(net, 0).identity,
                                             sender=net.connector.b),
                   "NotRegistered", account=stranger.address)


def test_a_connector_cannot_lock_for_another_connector(net):
    other = person(net, 2)
    net.b.bridge.add_connector(other.b)
    secret = Secret.new()
    expect_refusal(lambda: _state(net),
                   lambda: net.b.bridge.lock(other.b, Decimal(5), secret.hashlock, net.now + 2 * HOUR, other.identity, sender=net.connector.b),
                   "InvalidRecipient", to=other.b.address)


def test_same_name_rule_is_checked_again_at_claim(net):
    alice, bob = person(net, 0), person(net, 1)
    inb, secret = _inbound(net, alice)
    registry = net.b.registry
    registry.unlink_address(alice.b)  # compliance removes the address, an officer links it to bob (bob consents)
    registry.link_address(bob.identity, alice.b, sender=net.b.officer, consenting=bob.b)
    expect_refusal(lambda: _state(net), lambda: net.b.bridge.claim(inb.id, secret.preimage, sender=alice.b),
                   "IdentityMismatch", named=alice.identity, actual=bob.identity)


def test_a_frozen_recipient_cannot_claim(net):
    alice = person(net, 0)
    inb, secret = _inbound(net, alice)
    net.b.registry.freeze_address(alice.b)
    expect_refusal(lambda: _state(net), lambda: net.b.bridge.claim(inb.id, secret.preimage, sender=net.connector.b),
                   "AddressFrozen", account=alice.b.address)


def test_timelock_bounds_are_exact(net):
    alice = person(net, 0)
    step(net, 86400)
    bridge, secret = net.a.bridge, Secret.new()
    for offset in (MIN_LOCK_DURATION - 1, MAX_LOCK_DURATION + 1):
        t = net.a.chain.now + 10
        net.a.chain.set_next_block_time(t)
        expect_refusal(lambda: _state(net),
                       lambda: bridge.lock(net.connector.a, Decimal(5), secret.hashlock, t + offset, alice.identity, sender=alice.a),
                       "InvalidTimelock", timelock=t + offset, earliest=t + MIN_LOCK_DURATION, latest=t + MAX_LOCK_DURATION)
    for offset in (MIN_LOCK_DURATION, MAX_LOCK_DURATION):
        t = net.a.chain.now + 10
        net.a.chain.set_next_block_time(t)
        assert bridge.lock(net.connector.a, Decimal(5), Secret.new().hashlock, t + offset, alice.identity, sender=alice.a).timelock == t + offset


def test_zero_amount_self_and_bridge_recipients_are_refused(net):
    alice = person(net, 0)
    bridge, h, t = net.a.bridge, Secret.new().hashlock, net.now + 4 * HOUR
    expect_refusal(lambda: _state(net), lambda: bridge._write("lock", net.connector.a.address, 0, h, t, alice.identity, sender=alice.a),
                   "ZeroAmount")
    for to in (alice.a.address, bridge.address):
        expect_refusal(lambda: _state(net), lambda: bridge._write("lock", to, 100, h, t, alice.identity, sender=alice.a),
                       "InvalidRecipient", to=to)


def test_sdk_refuses_bad_input_before_sending(net):
    alice = person(net, 0)
    before = _state(net)
    bridge, h, t = net.a.bridge, Secret.new().hashlock, net.now + 4 * HOUR
    with pytest.raises(errors.InvalidAmount):
        bridge.lock(net.connector.a, 1.5, h, t, alice.identity, sender=alice.a)
    with pytest.raises(errors.InvalidInput):
        bridge.lock(net.connector.a, Decimal(1), b"\x01" * 31, t, alice.identity, sender=alice.a)
    with pytest.raises(errors.InvalidInput):
        bridge.lock(net.connector.a, Decimal(1), h, float(t), alice.identity, sender=alice.a)
    with pytest.raises(errors.InvalidInput):
        bridge.claim(0, bytes(32), sender=alice.a)
    assert _state(net) == before


def test_wrong_preimage_and_late_claim_are_refused(net):
    alice = person(net, 0)
    inb, secret = _inbound(net, alice, duration=2 * HOUR)
    expect_refusal(lambda: _state(net), lambda: net.b.bridge.claim(inb.id, Secret.new().preimage, sender=alice.b),
                   "WrongPreimage", id=inb.id)
    step(net, 2 * HOUR)
    expect_refusal(lambda: _state(net), lambda: net.b.bridge.claim(inb.id, secret.preimage, sender=alice.b),
                   "LockExpired", id=inb.id, timelock=inb.timelock)


def test_refund_only_after_the_timelock_and_only_once(net):
    alice = person(net, 0)
    before = ledger(net)
    out, secret = _outbound(net, alice, Decimal("7.50"), duration=HOUR)
    expect_refusal(lambda: _state(net), lambda: net.a.bridge.refund(out.id, sender=alice.a),
                   "LockNotExpired", id=out.id, timelock=out.timelock)
    step(net, HOUR)
    refunded = net.a.bridge.refund(out.id, sender=net.connector.a)  # anyone may trigger it; the locker is paid
    assert refunded.state is LockState.REFUNDED
    assert refunded.receipt.event("Refunded").args == {"id": out.id, "hashlock": secret.hashlock, "locker": alice.a.address}
    assert ledger(net) == before
    expect_refusal(lambda: _state(net), lambda: net.a.bridge.refund(out.id, sender=alice.a),
                   "WrongState", id=out.id, state=int(LockState.REFUNDED))
    expect_refusal(lambda: _state(net), lambda: net.a.bridge.claim(out.id, secret.preimage, sender=alice.a),
                   "WrongState", id=out.id, state=int(LockState.REFUNDED))


def test_a_claimed_lock_cannot_be_claimed_again_or_refunded(net):
    alice = person(net, 0)
    inb, secret = _inbound(net, alice, duration=HOUR)
    net.b.bridge.claim(inb.id, secret.preimage, sender=alice.b)
    step(net, HOUR)
    for action in (lambda: net.b.bridge.claim(inb.id, secret.preimage, sender=alice.b),
                   lambda: net.b.bridge.refund(inb.id, sender=net.connector.b)):
        expect_refusal(lambda: _state(net), action, "WrongState", id=inb.id, state=int(LockState.CLAIMED))


def test_unknown_lock(net):
    expect_refusal(lambda: _state(net), lambda: net.a.bridge.refund(99, sender=net.connector.a), "UnknownLock", id=99)
    with pytest.raises(errors.revert_class("UnknownLock")):
        net.a.bridge.get(99)


def test_the_daily_outflow_threshold_applies_to_outbound_locks(net):
    alice = person(net, 0)
    net.a.currency.set_daily_limit(3, Decimal(100))
    _outbound(net, alice, Decimal(60))
    expect_refusal(lambda: _state(net), lambda: _outbound(net, alice, Decimal(50)),
                   "DailyLimitExceeded", identity=alice.identity, limit=10000, spentToday=6000, amount=5000)


def test_only_the_admin_white_lists_connectors(net):
    alice = person(net, 0)
    bridge = net.a.bridge
    expect_refusal(lambda: bridge.is_connector(alice.a), lambda: bridge.add_connector(alice.a, sender=alice.a),
                   "AccessControlUnauthorizedAccount", account=alice.a.address, neededRole=bytes(32))
    assert bridge.is_connector(net.connector.a)
    bridge.add_connector(alice.a)
    assert bridge.is_connector(alice.a)


def test_a_lock_without_allowance_fails_on_the_currency_and_changes_nothing(net):
    alice = person(net, 0)
    secret = Secret.new()
    expect_refusal(lambda: _state(net),
                   lambda: net.a.bridge._write("lock", net.connector.a.address, 100, secret.hashlock, net.now + 4 * HOUR,
                                               alice.identity, sender=alice.a),
                   "ERC20InsufficientAllowance", spender=net.a.bridge.address, allowance=0, needed=100)
