"""The study's connector rebalances (chainpay/studies/segments.py, Treasury): transfers flow A to B only,
so without it the connector's liquidity on B runs out (at transfer ~2,172 of the 10,000-transfer study);
with it the connector's gains on A go back to B through the two issuers, money in circulation unchanged."""

import random
from decimal import Decimal

import pytest

from chainpay.studies import bridging
from chainpay.studies.amounts import draw_amounts
from chainpay.studies.config import StudyConfig
from chainpay.studies.segments import Crossings, Treasury
from chainpay.testing import test_engine

ENGINE = test_engine()
LIQUIDITY = 3000  # small, so that 120 transfers of the default amount mix exhaust it several times
N = 120


def _run(below: float):
    config = StudyConfig.load().with_overrides({"connector.liquidity": LIQUIDITY, "connector.rebalance_below": below})
    amounts = draw_amounts(config.amounts, N, random.Random("1-amounts"))
    net = bridging.bridge_network(config, ENGINE)
    moves = []
    original = Treasury.top_up

    def watched(treasury, amount):
        original(treasury, amount)
        moves.append(treasury.moves)

    try:
        supply = net.total_supply()
        run = Crossings(net, config)
        net.advance(bridging.EPOCH - net.now)
        Treasury.top_up = watched
        rows = []
        bridging._bridge_segment(run, config, amounts, 0, N, None, random.Random("1-bridge"),
                                 random.Random("1-bridge-latency"), 1, rows, lambda *_: None)
        held = (net.a.currency.balance_of(net.connector.a), net.b.currency.balance_of(net.connector.b))
        return rows, supply, net.total_supply(), held, moves, amounts
    finally:
        Treasury.top_up = original
        net.close()


@pytest.fixture(scope="module")
def without():
    return _run(0)


@pytest.fixture(scope="module")
def with_treasury():
    return _run(0.25)


def _short(row):
    return row.outcome == "refused" and "not enough liquidity" in row.detail


def test_without_rebalancing_the_liquidity_runs_out(without):
    rows, *_ = without
    assert sum(_short(r) for r in rows) >= 10


def test_rebalancing_keeps_every_transfer_within_the_liquidity_crossing(with_treasury):
    rows, supply_before, supply_after, (on_a, on_b), moves, amounts = with_treasury
    assert moves[-1] >= 2
    # only an amount larger than all the connector's liquidity can still be refused for it
    assert all(r.amount > LIQUIDITY * Decimal("0.75") for r in rows if _short(r))
    assert sum(r.delivered for r in rows) > 0.9 * N
    assert supply_after == supply_before  # redeemed on A, issued on B: nothing created
    # the connector holds its liquidity on both sides plus the fees it earned, spread across A and B
    fees = sum(r.fee for r in rows if r.delivered)
    assert on_a + on_b == 2 * LIQUIDITY + fees


def test_rows_before_the_first_rebalance_are_unchanged(without, with_treasury):
    rows_without, rows_with = without[0], with_treasury[0]
    first = with_treasury[4].index(1)  # the transfer before which the treasury first moved money
    assert first > 0
    assert rows_without[:first] == rows_with[:first]
