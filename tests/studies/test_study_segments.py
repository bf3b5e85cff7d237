"""The on-chain paths move to fresh chains every `segment` transfers (at the next UTC midnight of the
simulated clock) so that memory stays bounded (EDR keeps every block's state). The rows must be those
of one chain: same outcomes, times, places and draws; gas equal up to calldata bytes (a permit's
signature and a lock or transfer id differ on the warmed-up chain: 4 gas per zero byte, 16 per non-zero)."""

from dataclasses import replace

import pytest

from chainpay.studies import bridging
from chainpay.studies.config import StudyConfig
from chainpay.studies.segments import holdings
from chainpay.testing import test_engine

ENGINE = test_engine()
SHARED = ("shared-direct", "shared-revocable", "platform-interconvert")
# every shared outcome: delivered, refused (frozen), lost and revoked (mis-sent), second factor (large)
CONFIG = StudyConfig.load().with_overrides({"shared.missent_rate": 0.1, "shared.frozen_rate": 0.05})
CALLDATA_SLACK = 48  # a few bytes of signature and id, 12 gas each
# every bridge outcome: delivered, refunded (connector offline, recipient absent, chain halt), refused
BRIDGE_CONFIG = StudyConfig.load().with_overrides({
    "faults.connector_offline": 0.05, "faults.recipient_absent": 0.05, "faults.chain_halt": 0.03,
    "faults.no_liquidity": 0.03, "shared.frozen_rate": 0.03})


@pytest.fixture(scope="module")
def runs():
    warm_ups = []
    original = bridging.warm_up_shared

    def counting(env, config, before, held):
        original(env, config, before, held)
        # what the fresh chain holds once warmed up: each B wallet must hold what it held before
        warm_ups.append((before, held, [env.system.currency.balance_of(at_b) for _, at_b, _ in env.wallets]))

    one = bridging.run(CONFIG, 240, seed=2, paths=SHARED, engine=ENGINE, segment=10**9)
    bridging.warm_up_shared = counting
    try:
        many = bridging.run(CONFIG, 240, seed=2, paths=SHARED, engine=ENGINE, segment=40)
    finally:
        bridging.warm_up_shared = original
    return one, many, warm_ups


@pytest.fixture(scope="module")
def bridge_runs():
    warm_ups = []
    original = bridging.warm_up_bridge

    def counting(run, before, held):
        original(run, before, held)
        # every balance and the connector's standing allowance, as the previous network left them
        warm_ups.append((before, held, holdings(run.net)))

    one = bridging.run(BRIDGE_CONFIG, 170, seed=2, paths=("bridge",), engine=ENGINE, segment=10**9)
    bridging.warm_up_bridge = counting
    try:
        many = bridging.run(BRIDGE_CONFIG, 170, seed=2, paths=("bridge",), engine=ENGINE, segment=30)
    finally:
        bridging.warm_up_bridge = original
    return one, many, warm_ups


def test_segments_start_at_utc_midnight(runs):
    one, _, warm_ups = runs
    days = [day for day, _, _ in warm_ups]
    assert len(days) >= 2  # ~144 transfers a simulated day: at least two fresh chains after the first
    assert all(day % bridging.DAY == 0 for day in days)
    assert sorted(days) == days and len(set(days)) == len(days)


def test_a_warmed_up_chain_holds_what_the_previous_one_left(runs, bridge_runs):
    for _, held, now_held in runs[2] + bridge_runs[2]:
        assert now_held == held
    assert any(key[0] == "allowance" and amount > 0 for _, held, _ in bridge_runs[2] for key, amount in held.items())


def test_segmented_rows_are_one_chains_rows(runs):
    one, many, _ = runs
    assert len(one) == len(many) == 3 * 240
    assert {r.outcome for r in one} >= {"delivered", "refused", "lost", "revoked"}
    assert any("second factor" in r.detail for r in one)
    for a, b in zip(one, many):
        assert replace(a, gas=0, gas_cost=0) == replace(b, gas=0, gas_cost=0)
        assert abs(a.gas - b.gas) <= CALLDATA_SLACK, (a, b)


def test_segmented_bridge_rows_are_one_networks_rows(bridge_runs):
    one, many, warm_ups = bridge_runs
    assert warm_ups and all(day % bridging.DAY == 0 for day, _, _ in warm_ups)
    assert len(one) == len(many) == 170
    assert {r.outcome for r in one} >= {"delivered", "refunded", "refused"}
    for a, b in zip(one, many):
        assert replace(a, gas=0, gas_cost=0) == replace(b, gas=0, gas_cost=0)
        assert abs(a.gas - b.gas) <= CALLDATA_SLACK, (a, b)


def test_runs_within_one_segment_are_unchanged():
    # the default segment is larger than the default study: a 1,000-transfer run is one chain, as before
    assert bridging.SEGMENT >= 1000 and bridging.SHARED_SEGMENT >= 1000
