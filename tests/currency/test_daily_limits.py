"""Per-identity daily outflow limits of DigitalCurrency (UTC calendar days, by tier).

Fixture facts: decimals = 2 (1 yuan = 100 base units); alice and alice2 are one identity of tier 2
(5,000 yuan = 500000 a day), bob is tier 2, carol is tier 1 (1,000 yuan = 100000 a day).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from eth_utils import keccak
from support import expect_refusal

from chainpay import errors
from chainpay.currency.registry import identity_id

DAY = 86400
UNLIMITED = 2**256 - 1
ZERO = "0x0000000000000000000000000000000000000000"


# ----------------------------------------------------------------------------------------- helpers
def _outflow(cur, who):
    try:
        return cur.outflow_today(who)
    except errors.ContractRevert as exc:
        return (type(exc).__name__, exc.arguments)


def observe(system, actors) -> dict:
    cur = system.currency
    people = (actors.alice, actors.alice2, actors.bob, actors.carol, actors.issuer)
    return {
        "balances": [cur.balance_of(p) for p in people],
        "supply": cur.total_supply(),
        "allowances": [cur.allowance(o, s) for o in (actors.alice, actors.carol) for s in (actors.bob, actors.carol)],
        "outflow": [_outflow(cur, p) for p in people],
        "limits": [cur.daily_limit(t) for t in range(1, 6)],
    }


def refused(system, actors, action, error: str, **args):
    """Run `action`, expect Solidity error `error` with exactly `args`, and no state change."""
    return expect_refusal(lambda: observe(system, actors), action, error, **args)


def set_clock(chain, target: int) -> None:
    """Mine a block at exactly `target`; the next transaction lands at target + 1."""
    assert target - chain.now >= 2
    chain.advance_time(target - chain.now)
    if chain.now < target:  # older TesterChain.advance_time landed one second short
        chain.advance_time(target - chain.now)
    assert chain.now == target


def next_day_start(chain) -> int:
    """00:00:00 UTC of the chain's next day, after moving the chain a day ahead of the wall clock
    (then every block is exactly one second after the previous one)."""
    chain.advance_time(DAY)
    now = chain.now
    return now - now % DAY + DAY


def tx_time(chain, receipt) -> int:
    return chain.block_timestamp(receipt.block_number)


def outflow(cur, who):
    o = cur.outflow_today(who)
    return o.spent_today, o.remaining_today


# --------------------------------------------------------------------------- one identity, one limit
def test_addresses_of_one_identity_share_one_limit(system, actors):
    cur = system.currency
    alice, alice2, bob, carol = actors.alice, actors.alice2, actors.bob, actors.carol
    cur.mint(alice, Decimal("4000"))  # 5,000
    cur.mint(alice2, Decimal("3000"))
    assert outflow(cur, alice) == (Decimal("0.00"), Decimal("5000.00"))

    cur.transfer(bob, Decimal("3000"), sender=alice)
    assert outflow(cur, alice) == outflow(cur, alice2) == (Decimal("3000.00"), Decimal("2000.00"))
    assert cur.daily_allowance_left(alice2) == Decimal("2000.00")

    refused(system, actors, lambda: cur.transfer(carol, Decimal("2000.01"), sender=alice2), "DailyLimitExceeded",
            identity=actors.alice_id, limit=500000, spentToday=300000, amount=200001)
    r = cur.transfer(carol, Decimal("2000"), sender=alice2)
    assert dict(r.event("Transfer").args) == {"from": alice2.address, "to": carol.address, "value": 200000}
    assert outflow(cur, alice) == outflow(cur, alice2) == (Decimal("5000.00"), Decimal("0.00"))
    err = refused(system, actors, lambda: cur.transfer(bob, Decimal("0.01"), sender=alice), "DailyLimitExceeded",
                  identity=actors.alice_id, limit=500000, spentToday=500000, amount=1)
    assert (err.identity, err.limit, err.spent_today, err.amount) == (actors.alice_id, 500000, 500000, 1)
    assert (cur.balance_of(alice), cur.balance_of(alice2)) == (Decimal("2000.00"), Decimal("1000.00"))

    # other identities keep their own limits: bob (same tier) and carol (tier 1)
    assert outflow(cur, bob) == (Decimal("0.00"), Decimal("5000.00"))
    cur.transfer(alice, Decimal("4000"), sender=bob)
    assert outflow(cur, bob) == (Decimal("4000.00"), Decimal("1000.00"))
    cur.transfer(bob, Decimal("1000"), sender=carol)
    refused(system, actors, lambda: cur.transfer(bob, Decimal("0.01"), sender=carol), "DailyLimitExceeded",
            identity=actors.carol_id, limit=100000, spentToday=100000, amount=1)
    assert outflow(cur, alice) == (Decimal("5000.00"), Decimal("0.00"))  # receiving restores nothing


# ---------------------------------------------------------------------------------- UTC day boundary
def test_limit_resets_at_utc_midnight(system, actors, chain):
    cur = system.currency
    alice, bob = actors.alice, actors.bob
    cur.mint(alice, Decimal("20000"))
    day = next_day_start(chain)
    set_clock(chain, day + DAY - 10)  # 23:59:50 UTC
    r = cur.transfer(bob, Decimal("5000"), sender=alice)
    assert tx_time(chain, r) == day + DAY - 9
    assert outflow(cur, alice) == (Decimal("5000.00"), Decimal("0.00"))
    refused(system, actors, lambda: cur.transfer(bob, Decimal("0.01"), sender=alice), "DailyLimitExceeded",
            identity=actors.alice_id, limit=500000, spentToday=500000, amount=1)
    refused(system, actors, lambda: cur.transfer(bob, Decimal("0.01"), sender=actors.alice2), "DailyLimitExceeded",
            identity=actors.alice_id, limit=500000, spentToday=500000, amount=1)
    assert chain.now < day + DAY

    set_clock(chain, day + DAY + 5)  # 00:00:05 the next day
    assert outflow(cur, alice) == (Decimal("0.00"), Decimal("5000.00"))
    assert cur.daily_allowance_left(actors.alice2) == Decimal("5000.00")
    cur.transfer(bob, Decimal("5000"), sender=alice)
    assert outflow(cur, alice) == (Decimal("5000.00"), Decimal("0.00"))
    refused(system, actors, lambda: cur.transfer(bob, Decimal("0.01"), sender=alice), "DailyLimitExceeded",
            identity=actors.alice_id, limit=500000, spentToday=500000, amount=1)
    assert (cur.balance_of(alice), cur.balance_of(bob)) == (Decimal("11000.00"), Decimal("11000.00"))


def test_last_and_first_second_of_a_day_count_on_different_days(system, actors, chain):
    cur = system.currency
    alice, bob = actors.alice, actors.bob
    cur.mint(alice, Decimal("20000"))
    day = next_day_start(chain)
    set_clock(chain, day + DAY - 2)
    r1 = cur.transfer(bob, Decimal("3000"), sender=alice)
    assert tx_time(chain, r1) == day + DAY - 1  # 23:59:59
    assert outflow(cur, alice) == (Decimal("3000.00"), Decimal("2000.00"))
    r2 = cur.transfer(bob, Decimal("4000"), sender=alice)  # 3,000 + 4,000 would exceed one day's 5,000
    assert tx_time(chain, r2) == day + DAY  # 00:00:00 the next day
    assert dict(r2.event("Transfer").args) == {"from": alice.address, "to": bob.address, "value": 400000}
    assert outflow(cur, alice) == (Decimal("4000.00"), Decimal("1000.00"))
    refused(system, actors, lambda: cur.transfer(bob, Decimal("1000.01"), sender=alice), "DailyLimitExceeded",
            identity=actors.alice_id, limit=500000, spentToday=400000, amount=100001)
    cur.transfer(bob, Decimal("1000"), sender=alice)
    assert outflow(cur, alice) == (Decimal("5000.00"), Decimal("0.00"))
    assert cur.balance_of(alice) == Decimal("13000.00")


def test_refusal_in_the_first_second_of_a_day(system, actors, chain):
    """Over the new day's limit at 00:00:00 is refused; the next second the limit allows 5,000."""
    cur = system.currency
    alice, bob = actors.alice, actors.bob
    cur.mint(alice, Decimal("20000"))
    day = next_day_start(chain)
    set_clock(chain, day + DAY - 2)
    cur.transfer(bob, Decimal("5000"), sender=alice)  # 23:59:59: the whole day's limit
    before = observe(system, actors)
    with pytest.raises(errors.revert_class("DailyLimitExceeded")) as info:
        cur.transfer(bob, Decimal("5000.01"), sender=alice)  # 00:00:00
    assert chain.now == day + DAY
    assert (info.value.identity, info.value.limit, info.value.amount) == (actors.alice_id, 500000, 500001)
    after = observe(system, actors)
    assert after["balances"] == before["balances"] and after["allowances"] == before["allowances"]
    assert outflow(cur, alice) == (Decimal("0.00"), Decimal("5000.00"))  # the new day: nothing recorded
    cur.transfer(bob, Decimal("5000"), sender=alice)
    assert outflow(cur, alice) == (Decimal("5000.00"), Decimal("0.00"))


def test_refusal_at_midnight_reports_the_new_days_spending(system, actors, chain):
    cur = system.currency
    alice, bob = actors.alice, actors.bob
    cur.mint(alice, Decimal("20000"))
    day = next_day_start(chain)
    set_clock(chain, day + DAY - 2)
    cur.transfer(bob, Decimal("5000"), sender=alice)  # 23:59:59
    balances = (cur.balance_of(alice), cur.balance_of(bob))
    # Refused at 00:00:00 of the next day: the error must report the new day's spending (0), which a
    # replay of the failed transaction on its parent block (23:59:59) used to get wrong.
    with pytest.raises(errors.DailyLimitExceeded) as info:
        cur.transfer(bob, Decimal("5000.01"), sender=alice)
    assert info.value.arguments == {"identity": actors.alice_id, "limit": 500000, "spentToday": 0, "amount": 500001}
    assert chain.now == day + DAY  # the refused transaction's block sits at midnight
    assert (cur.balance_of(alice), cur.balance_of(bob)) == balances
    assert outflow(cur, alice) == (Decimal("0.00"), Decimal("5000.00"))  # the new day is untouched


# ------------------------------------------------------------------------- moves within an identity
def test_moves_between_addresses_of_one_identity_are_not_outflow(system, actors):
    cur = system.currency
    alice, alice2, bob, carol = actors.alice, actors.alice2, actors.bob, actors.carol
    for _ in range(3):  # 6,000 yuan moved back and forth, more than the 5,000 limit
        cur.transfer(alice2, Decimal("1000"), sender=alice)
        cur.transfer(alice, Decimal("1000"), sender=alice2)
    cur.transfer(alice, Decimal("1000"), sender=alice)  # to oneself
    assert outflow(cur, alice) == (Decimal("0.00"), Decimal("5000.00"))
    # by a spender too
    cur.approve(carol, Decimal("500"), sender=alice)
    cur.transfer_from(alice, alice2, Decimal("500"), sender=carol)
    assert outflow(cur, alice) == (Decimal("0.00"), Decimal("5000.00"))
    assert outflow(cur, carol) == (Decimal("0.00"), Decimal("1000.00"))
    assert (cur.balance_of(alice), cur.balance_of(alice2)) == (Decimal("500.00"), Decimal("500.00"))

    # even with outflow forbidden, the identity may still rearrange its own addresses
    cur.set_daily_limit(2, Decimal(0))
    refused(system, actors, lambda: cur.transfer(bob, Decimal("0.01"), sender=alice2), "DailyLimitExceeded",
            identity=actors.alice_id, limit=0, spentToday=0, amount=1)
    cur.transfer(alice, Decimal("500"), sender=alice2)
    assert (cur.balance_of(alice), cur.balance_of(alice2)) == (Decimal("1000.00"), Decimal("0.00"))


# ------------------------------------------------------------------------- compliance changes limits
def test_lowering_a_limit_below_todays_spending(system, actors):
    cur = system.currency
    alice, bob = actors.alice, actors.bob
    cur.mint(alice, Decimal("5000"))
    cur.transfer(bob, Decimal("3000"), sender=alice)
    r = cur.set_daily_limit(2, Decimal("2000"))
    assert [e.name for e in r.events] == ["DailyLimitChanged"]
    assert dict(r.event("DailyLimitChanged").args) == {"tier": 2, "previousLimit": 500000, "newLimit": 200000}
    assert cur.daily_limit(2) == Decimal("2000.00")
    assert cur.daily_limit(1) == Decimal("1000.00")  # other tiers untouched
    assert outflow(cur, alice) == (Decimal("3000.00"), Decimal("0.00"))  # no underflow: remaining is 0
    refused(system, actors, lambda: cur.transfer(bob, Decimal("0.01"), sender=alice), "DailyLimitExceeded",
            identity=actors.alice_id, limit=200000, spentToday=300000, amount=1)
    refused(system, actors, lambda: cur.transfer(bob, Decimal("3000"), sender=alice), "DailyLimitExceeded",
            identity=actors.alice_id, limit=200000, spentToday=300000, amount=300000)
    # bob (tier 2, nothing sent) is held to the new limit at once
    refused(system, actors, lambda: cur.transfer(alice, Decimal("2000.01"), sender=bob), "DailyLimitExceeded",
            identity=actors.bob_id, limit=200000, spentToday=0, amount=200001)
    cur.transfer(alice, Decimal("2000"), sender=bob)
    assert outflow(cur, bob) == (Decimal("2000.00"), Decimal("0.00"))


def test_raising_a_limit_allows_more_at_once(system, actors):
    cur = system.currency
    alice, bob = actors.alice, actors.bob
    cur.mint(alice, Decimal("9000"))  # 10,000
    cur.transfer(bob, Decimal("3000"), sender=alice)
    r = cur.set_daily_limit(2, Decimal("10000"))
    assert dict(r.event("DailyLimitChanged").args) == {"tier": 2, "previousLimit": 500000, "newLimit": 1000000}
    assert outflow(cur, alice) == (Decimal("3000.00"), Decimal("7000.00"))
    cur.transfer(bob, Decimal("7000"), sender=alice)  # more than the old limit left, in one payment
    assert outflow(cur, alice) == (Decimal("10000.00"), Decimal("0.00"))
    refused(system, actors, lambda: cur.transfer(bob, Decimal("0.01"), sender=actors.alice2), "DailyLimitExceeded",
            identity=actors.alice_id, limit=1000000, spentToday=1000000, amount=1)
    assert (cur.balance_of(alice), cur.balance_of(bob)) == (Decimal("0.00"), Decimal("11000.00"))


def test_unlimited_tier(system, actors):
    cur = system.currency
    alice, bob = actors.alice, actors.bob
    assert cur.daily_limit(5) is None  # default: tier 5 has no limit
    r = cur.set_daily_limit(2, None)
    assert dict(r.event("DailyLimitChanged").args) == {"tier": 2, "previousLimit": 500000, "newLimit": UNLIMITED}
    assert cur.daily_limit(2) is None
    assert cur._read("dailyLimit", 2) == UNLIMITED
    assert cur.outflow_today(alice).remaining_today is None
    assert cur.daily_allowance_left(alice) is None
    cur.mint(alice, Decimal("999000"))
    cur.transfer(bob, Decimal("600000"), sender=alice)
    cur.transfer(bob, Decimal("400000"), sender=alice)
    assert (cur.balance_of(alice), cur.balance_of(bob)) == (Decimal("0.00"), Decimal("1001000.00"))
    assert cur.daily_allowance_left(bob) is None
    # unlimited back to a limit; carol's tier 1 was never affected
    r = cur.set_daily_limit(2, Decimal("5000"))
    assert dict(r.event("DailyLimitChanged").args) == {"tier": 2, "previousLimit": UNLIMITED, "newLimit": 500000}
    assert cur.daily_limit(2) == Decimal("5000.00")
    assert cur.daily_limit(1) == Decimal("1000.00")
    r = cur.set_daily_limit(5, None)
    assert dict(r.event("DailyLimitChanged").args) == {"tier": 5, "previousLimit": UNLIMITED, "newLimit": UNLIMITED}


def test_outflow_while_unlimited_still_counts_today(system, actors):
    cur = system.currency
    alice, bob = actors.alice, actors.bob
    cur.mint(alice, Decimal("9000"))
    cur.transfer(bob, Decimal("3000"), sender=alice)
    cur.set_daily_limit(2, None)
    cur.transfer(bob, Decimal("1000"), sender=alice)
    cur.set_daily_limit(2, Decimal("5000"))
    assert outflow(cur, alice) == (Decimal("4000.00"), Decimal("1000.00"))
    refused(system, actors, lambda: cur.transfer(bob, Decimal("1000.01"), sender=alice), "DailyLimitExceeded",
            identity=actors.alice_id, limit=500000, spentToday=400000, amount=100001)


def test_zero_limit_forbids_all_outflow(system, actors):
    cur = system.currency
    bob, carol = actors.bob, actors.carol
    r = cur.set_daily_limit(1, Decimal(0))
    assert dict(r.event("DailyLimitChanged").args) == {"tier": 1, "previousLimit": 100000, "newLimit": 0}
    assert cur.daily_limit(1) == Decimal("0.00")  # zero, not "unlimited"
    assert outflow(cur, carol) == (Decimal("0.00"), Decimal("0.00"))
    refused(system, actors, lambda: cur.transfer(bob, Decimal("0.01"), sender=carol), "DailyLimitExceeded",
            identity=actors.carol_id, limit=0, spentToday=0, amount=1)
    refused(system, actors, lambda: cur.transfer(bob, Decimal("100"), sender=carol), "DailyLimitExceeded",
            identity=actors.carol_id, limit=0, spentToday=0, amount=10000)
    cur.approve(bob, Decimal("50"), sender=carol)
    refused(system, actors, lambda: cur.transfer_from(carol, bob, Decimal("50"), sender=bob), "DailyLimitExceeded",
            identity=actors.carol_id, limit=0, spentToday=0, amount=5000)
    # carol can still receive, and be paid by the issuer
    cur.transfer(carol, Decimal("10"), sender=bob)
    cur.mint(carol, Decimal("5"))
    assert cur.balance_of(carol) == Decimal("115.00")


def test_invalid_limits_refused(system, actors):
    cur = system.currency
    refused(system, actors, lambda: cur.set_daily_limit(2, Decimal("10.5")), "InvalidDailyLimit", limit=1050)
    refused(system, actors, lambda: cur.set_daily_limit(2, Decimal("0.01")), "InvalidDailyLimit", limit=1)
    too_big = (2**48 - 1) * 100  # 2**48 - 1 units is the internal "unlimited" marker
    refused(system, actors, lambda: cur.set_daily_limit(2, Decimal(2**48 - 1)), "InvalidDailyLimit", limit=too_big)
    refused(system, actors, lambda: cur.set_daily_limit(2, Decimal(2**60)), "InvalidDailyLimit", limit=2**60 * 100)
    for tier in (0, 6, 255):
        refused(system, actors, lambda: cur.set_daily_limit(tier, Decimal("100")), "InvalidTierForLimit", tier=tier)
        refused(system, actors, lambda: cur.set_daily_limit(tier, None), "InvalidTierForLimit", tier=tier)
    refused(system, actors, lambda: cur.set_daily_limit(2, Decimal("100"), sender=actors.alice),
            "AccessControlUnauthorizedAccount", account=actors.alice.address, neededRole=keccak(text="COMPLIANCE"))
    refused(system, actors, lambda: cur.set_daily_limit(2, Decimal("100"), sender=actors.issuer),
            "AccessControlUnauthorizedAccount", account=actors.issuer.address, neededRole=keccak(text="COMPLIANCE"))
    # the SDK refuses more decimals than the token has before sending anything
    block = system.chain.block_number
    with pytest.raises(errors.InvalidAmount):
        cur.set_daily_limit(2, Decimal("10.505"))
    assert system.chain.block_number == block
    # the largest finite limit is accepted
    r = cur.set_daily_limit(3, Decimal(2**48 - 2))
    assert dict(r.event("DailyLimitChanged").args) == {"tier": 3, "previousLimit": 5000000, "newLimit": (2**48 - 2) * 100}
    assert cur.daily_limit(3) == Decimal(2**48 - 2)
    assert cur.daily_limit(2) == Decimal("5000.00")


# ----------------------------------------------------------------------------------- exemptions
def test_issuer_mint_and_burn_are_exempt(system, actors):
    cur, reg = system.currency, system.registry
    carol, issuer = actors.carol, actors.issuer
    r = cur.mint(carol, Decimal("10000000"))  # ten thousand times carol's tier-1 limit
    assert dict(r.event("Transfer").args) == {"from": ZERO, "to": carol.address, "value": 1_000_000_000}
    assert cur.balance_of(carol) == Decimal("10000100.00")
    assert outflow(cur, carol) == (Decimal("0.00"), Decimal("1000.00"))

    bank_id = identity_id("central bank treasury")
    reg.register_identity(bank_id, 1, issuer, sender=actors.officer_a)  # tier 1: 1,000 yuan a day
    cur.mint(issuer, Decimal("2000000"))
    r = cur.burn(Decimal("1500000"))
    assert dict(r.event("Transfer").args) == {"from": issuer.address, "to": ZERO, "value": 150_000_000}
    assert cur.balance_of(issuer) == Decimal("500000.00")
    assert cur.total_supply() == Decimal("10502100.00")
    assert outflow(cur, issuer) == (Decimal("0.00"), Decimal("1000.00"))
    # the issuer's own payments are outflow like anyone's
    refused(system, actors, lambda: cur.transfer(actors.bob, Decimal("1000.01"), sender=issuer), "DailyLimitExceeded",
            identity=bank_id, limit=100000, spentToday=0, amount=100001)
    cur.transfer(actors.bob, Decimal("1000"), sender=issuer)
    assert outflow(cur, issuer) == (Decimal("1000.00"), Decimal("0.00"))
    cur.burn(Decimal("400000"))  # burning past the spent limit still works
    assert cur.balance_of(issuer) == Decimal("99000.00")


def test_transfer_from_counts_against_the_owners_identity(system, actors):
    cur = system.currency
    alice, alice2, bob, carol = actors.alice, actors.alice2, actors.bob, actors.carol
    cur.mint(alice, Decimal("5000"))  # 6,000
    cur.approve(carol, Decimal("6000"), sender=alice)
    r = cur.transfer_from(alice, bob, Decimal("3000"), sender=carol)  # carol's own limit is 1,000
    assert dict(r.event("Transfer").args) == {"from": alice.address, "to": bob.address, "value": 300000}
    assert outflow(cur, alice) == (Decimal("3000.00"), Decimal("2000.00"))
    assert outflow(cur, carol) == (Decimal("0.00"), Decimal("1000.00"))
    refused(system, actors, lambda: cur.transfer_from(alice, bob, Decimal("2000.01"), sender=carol),
            "DailyLimitExceeded", identity=actors.alice_id, limit=500000, spentToday=300000, amount=200001)
    assert cur.allowance(alice, carol) == Decimal("3000.00")
    cur.transfer_from(alice, carol, Decimal("2000"), sender=carol)  # to the spender itself: alice's outflow
    assert outflow(cur, alice) == (Decimal("5000.00"), Decimal("0.00"))
    assert outflow(cur, carol) == (Decimal("0.00"), Decimal("1000.00"))
    cur.transfer_from(alice, alice2, Decimal("1000"), sender=carol)  # within alice's identity: allowed at the limit
    assert cur.allowance(alice, carol) == Decimal("0.00")
    # carol's own limit is intact and separate
    cur.transfer(bob, Decimal("1000"), sender=carol)
    refused(system, actors, lambda: cur.transfer(bob, Decimal("0.01"), sender=carol), "DailyLimitExceeded",
            identity=actors.carol_id, limit=100000, spentToday=100000, amount=1)
    assert [cur.balance_of(p) for p in (alice, alice2, bob, carol)] == [
        Decimal("0.00"), Decimal("1000.00"), Decimal("5000.00"), Decimal("1100.00")]
