"""Wallet classes on the currency at their exact edges (single payment, balance cap, daily limit across
UTC midnight, annual limit across the year boundary) and the waterfall / reverse waterfall through the
linked platform balance, conserving money."""

from __future__ import annotations

import calendar
import datetime
from decimal import Decimal as D

import pytest
from platform_support import A, B, assert_conserved, books
from support import expect_refusal

from chainpay import errors
from chainpay.currency import WalletClass

DAY = 86_400


@pytest.fixture
def classes(system):
    """Tier 2 (alice, bob): single 300, cap 1,500, annual 2,000 (daily stays 5,000)."""
    system.currency.set_wallet_class(2, single=D(300), balance_cap=D(1_500), annual=D(2_000))
    return system.currency


def test_wallet_class_reads_back_and_top_tier_stays_unlimited(system, classes):
    assert classes.wallet_class(2) == WalletClass(D(5_000), D(300), D(1_500), D(2_000))
    assert classes.wallet_class(3) == WalletClass(D(50_000), None, None, None)
    with pytest.raises(errors.TierMustStayUnlimited):
        classes.set_wallet_class(5, single=D(1))
    with pytest.raises(errors.revert_class("InvalidClassLimit")):
        classes._write("setWalletClass", 2, 1, 2**256 - 1, 2**256 - 1, sender=system.role("COMPLIANCE"))
    classes.set_wallet_class(2)  # all unlimited again: the tier's flag clears
    assert classes.wallet_class(2) == WalletClass(D(5_000), None, None, None)


def test_single_payment_limit_at_its_edge(system, actors, classes):
    cur = classes
    observe = lambda: (cur.balance_of(actors.alice), cur.balance_of(actors.bob))  # noqa: E731
    cur.transfer(actors.bob, D(300), sender=actors.alice)
    expect_refusal(observe, lambda: cur.transfer(actors.bob, D("300.01"), sender=actors.alice),
                   "SinglePaymentLimitExceeded", identity=actors.alice_id, limit=30000, amount=30001)


def test_balance_cap_without_a_platform_refuses(system, actors, classes):
    cur = classes
    observe = lambda: (cur.balance_of(actors.alice), cur.balance_of(actors.bob))  # noqa: E731
    cur.transfer(actors.alice, D(300), sender=actors.bob)
    cur.transfer(actors.alice, D(200), sender=actors.bob)  # alice holds exactly her cap: 1,500
    assert cur.balance_of(actors.alice) == D(1_500)
    # platform A has no balance opened: the excess has nowhere to go
    expect_refusal(observe, lambda: cur.transfer(actors.alice, D("0.01"), sender=actors.bob),
                   "UnknownPlatform", platform=A)


def test_waterfall_sends_the_excess_to_the_linked_platform_balance(system, actors, treasuries, platforms, classes):
    cur, p = classes, platforms
    receipt = cur.transfer(actors.alice, D(300), sender=actors.bob)
    assert receipt.events_named("Waterfall") == []
    cur.transfer(actors.alice, D(300), sender=actors.bob)  # 1,600 > 1,500: 100 falls to A
    assert (cur.balance_of(actors.alice), p.balance_of(actors.alice, A), p.reserve_of(A)) == (D(1_500), D(100), D(100))
    assert_conserved(system, actors, treasuries)
    # redemption into a full wallet stops at the cap: the rest flows straight back
    p.redeem(A, D(100), sender=actors.alice)
    assert (cur.balance_of(actors.alice), p.balance_of(actors.alice, A)) == (D(1_500), D(100))
    assert_conserved(system, actors, treasuries)


def test_reverse_waterfall_pulls_the_shortfall_when_opted_in(system, actors, treasuries, platforms, classes):
    cur, p = classes, platforms
    p.top_up(A, D(200), sender=actors.alice)  # alice: 800 currency, 200 at A
    cur.transfer(actors.bob, D(300), sender=actors.alice)
    cur.transfer(actors.bob, D(300), sender=actors.alice)  # 200 left
    observe = lambda: books(system, actors, treasuries)  # noqa: E731
    expect_refusal(observe, lambda: cur.transfer(actors.carol, D(250), sender=actors.alice),
                   "ERC20InsufficientBalance", sender=actors.alice.address, balance=20000, needed=25000)
    p.set_reverse_waterfall(True, sender=actors.alice)
    receipt = cur.transfer(actors.carol, D(250), sender=actors.alice)
    assert receipt.event("ReverseWaterfall")["shortfall"] == 5000
    assert (cur.balance_of(actors.alice), p.balance_of(actors.alice, A), cur.balance_of(actors.carol)) == (D(0), D(150), D(350))
    assert_conserved(system, actors, treasuries)
    expect_refusal(observe, lambda: cur.transfer(actors.carol, D(151), sender=actors.alice),
                   "ERC6909InsufficientBalance", sender=actors.alice.address, balance=15000, needed=15100, id=A)


def test_daily_limit_across_utc_midnight(system, actors):
    cur, chain = system.currency, system.chain
    cur.mint(actors.alice, D(10_000))
    day = chain.now // DAY
    chain.advance_time((day + 1) * DAY - 10 - chain.now)  # 23:59:50 (each block after it is a second later)
    cur.transfer(actors.bob, D(5_000), sender=actors.alice)  # tier 2's whole day, at 23:59:59
    with pytest.raises(errors.revert_class("DailyLimitExceeded")):
        cur.transfer(actors.bob, D("0.01"), sender=actors.alice)
    chain.advance_time((day + 1) * DAY - chain.now)  # a block at 00:00:00
    cur.transfer(actors.bob, D(5_000), sender=actors.alice)
    assert cur.outflow_today(actors.alice).spent_today == D(5_000)


def test_annual_limit_at_its_edge_and_across_the_year_boundary(system, actors, classes):
    cur, chain = classes, system.chain
    cur.set_wallet_class(2, annual=D(2_000))  # no single limit or cap now
    cur.mint(actors.alice, D(10_000))
    year = datetime.datetime.fromtimestamp(chain.now, datetime.UTC).year
    new_year = calendar.timegm((year + 1, 1, 1, 0, 0, 0))
    chain.advance_time(new_year - 3 * DAY + 3600 - chain.now)  # 29 December, 01:00
    cur.transfer(actors.bob, D(1_000), sender=actors.alice)
    chain.advance_time(DAY)
    cur.transfer(actors.bob, D(900), sender=actors.alice)
    chain.advance_time(new_year - 10 - chain.now)  # 31 December, 23:59:50
    cur.transfer(actors.bob, D(100), sender=actors.alice)  # exactly 2,000 this year
    assert cur.outflow_this_year(actors.alice) == D(2_000)
    observe = lambda: (cur.balance_of(actors.alice), cur.outflow_this_year(actors.alice))  # noqa: E731
    expect_refusal(observe, lambda: cur.transfer(actors.bob, D("0.01"), sender=actors.alice),
                   "AnnualLimitExceeded", identity=actors.alice_id, limit=200000, spentThisYear=200000, amount=1)
    chain.advance_time(new_year - chain.now)  # a block at 00:00:00 on 1 January
    assert cur.outflow_this_year(actors.alice) == 0
    cur.transfer(actors.bob, D(2_000), sender=actors.alice)
    assert cur.outflow_this_year(actors.alice) == D(2_000)


def test_a_cap_lowered_below_a_balance_sends_the_whole_payment_to_the_platform(system, actors, treasuries, platforms):
    cur, p = system.currency, platforms
    cur.set_wallet_class(2, balance_cap=D(500))  # alice already holds 1,000: above her new cap
    receipt = cur.transfer(actors.alice, D(10), sender=actors.bob)
    assert receipt.event("Waterfall")["excess"] == 1000  # all of it: nothing of her 1,000 is taken away
    assert (cur.balance_of(actors.alice), p.balance_of(actors.alice, A)) == (D(1_000), D(10))
    assert_conserved(system, actors, treasuries)
