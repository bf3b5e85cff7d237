"""The study as a research instrument: fees of failed transfers counted, one denominator, the measured
routes against their sources, give-up behaviour, the minimum-fee switch, confidence intervals,
modelled on-chain failures, the sensitivity of the headline and Dask sweeps equal to serial runs."""

import math
import random
import statistics
from dataclasses import replace
from decimal import Decimal

import pytest

from chainpay import errors
from chainpay.studies import bank_route, bridging, costs, routes, sensitivity, sweep
from chainpay.studies.config import StudyConfig
from chainpay.testing import test_engine
from chainpay.studies.stats import mean_ci, summarise

CONFIG = StudyConfig.load()
ENGINE = test_engine()  # the fixtures' engine: the fast one where installed
SIMULATED = bridging.SIMULATED


def _rows(config, amounts, path="bank", seed=1):
    return bridging._simulated(config, amounts, seed, [path], lambda *a: None)


# ------------------------------------------------------------------ accounting
def test_fees_of_failed_transfers_are_counted_by_hand():
    # Every attempt fails at the top-up (fee paid, money on the card) and nobody retries: the fee of the
    # first withdrawal (at most 5,000 a day) is paid and nothing arrives.
    config = CONFIG.with_overrides({"bank_route.failure_rate": 1, "bank_route.failure_at_withdrawal_share": 0,
                                    "behaviour.give_up_share": 1})
    amounts = [Decimal("100"), Decimal("2000"), Decimal("7000")]
    rows = _rows(config, amounts)
    assert [r.fee for r in rows] == [Decimal("0.10"), Decimal("2.00"), Decimal("5.00")]  # 0.1 % of 100, 2,000, 5,000
    assert all(r.money_at == "on the bank card (the top-up failed)" and r.attempts == 1 for r in rows)
    s = summarise(rows, "bank")
    assert s["fee_pct"].value == pytest.approx(7.10 / 9100 * 100)  # over all attempted volume
    assert math.isnan(s["delivered_cost_pct"].value) and s.delivered == 0
    assert s["failure_rate"].value == 100


def test_a_retry_pays_again_and_a_retry_from_the_card_pays_no_second_withdrawal():
    config = CONFIG.with_overrides({"bank_route.failure_rate": 1, "bank_route.failure_at_withdrawal_share": 0,
                                    "behaviour.give_up_share": 0, "behaviour.max_attempts": 3})
    [row] = _rows(config, [Decimal("1000")])
    assert row.attempts == 3 and row.fee == Decimal("1.00") and not row.delivered  # the money stayed on the card
    config = config.with_overrides({"bank_route.failure_at_withdrawal_share": 1})  # fails at the withdrawal: no fee
    [row] = _rows(config, [Decimal("1000")])
    assert row.attempts == 3 and row.fee == 0 and row.money_at.startswith("on A")
    route = CONFIG.with_overrides({"routes.intermediary.success_rate": 0, "behaviour.give_up_share": 0})
    [row] = _rows(route, [Decimal("100")], "intermediary")
    assert row.attempts == 2 and row.fee == 0  # a refused attempt over a route costs nothing


def test_one_denominator_for_every_path():
    rows = bridging.run(CONFIG, 40, seed=3, paths=SIMULATED, engine=ENGINE)
    volume = sum(r.amount for r in rows if r.path == "bank")
    for path in SIMULATED:
        s = summarise(rows, path)
        mine = [r for r in rows if r.path == path]
        assert s.n == 40
        assert s["cost_pct"].value == pytest.approx(float(sum(r.fee + r.gas_cost for r in mine) / volume * 100))


# ------------------------------------------------------------------ the routes against their sources
@pytest.mark.parametrize("name, minutes, fee_low, fee_high", [
    ("official_direct", 23, 0.1, 0.1), ("online_bank", 41, 0.2, 0.2), ("union_app", 68, 0, 0),
    ("intermediary", 60, 8, 15), ("merchant_gateway", 23.8, 0.8, 1.2)])
def test_measured_routes_reproduce_their_figures(name, minutes, fee_low, fee_high):
    rng = random.Random(11)
    params = CONFIG.routes[name]
    attempts = [routes._route_attempt(params, Decimal(1000), rng) for _ in range(4000)]
    mean_minutes = statistics.fmean(s for _, s, _ in attempts) / 60
    assert abs(mean_minutes / minutes - 1) <= 0.05  # the published time is the mean, within 5 %
    rates = [float(fee) / 10 for ok, _, fee in attempts if ok]  # % of 1,000 yuan
    assert fee_low - 0.001 <= min(rates) and max(rates) <= fee_high + 0.001
    assert abs(statistics.fmean(rates) - (fee_low + fee_high) / 2) <= max(0.02 * fee_high, 0.001)


def test_third_party_channels_succeed_under_3_percent_and_take_over_2_hours():
    rng = random.Random(5)
    attempts = [routes._route_attempt(CONFIG.routes["third_party"], Decimal(100), rng) for _ in range(20_000)]
    assert abs(sum(ok for ok, _, _ in attempts) / len(attempts) - 0.03) <= 0.004
    assert statistics.fmean(s for _, s, _ in attempts) > 2 * 3600


def test_65_percent_give_up_after_a_first_failure():
    config = CONFIG.with_overrides({"bank_route.failure_rate": 1})
    rows = _rows(config, [Decimal(50)] * 4000)
    gave_up_at_once = sum(r.attempts == 1 for r in rows) / len(rows)
    assert abs(gave_up_at_once - 0.65) <= 0.025 and max(r.attempts for r in rows) == 2


# ------------------------------------------------------------------ switches and intervals
def test_minimum_fee_switch_changes_exactly_the_fees_it_should():
    off = bridging.run(CONFIG, 60, seed=4, paths=SIMULATED, engine=ENGINE)
    on = bridging.run(CONFIG.with_overrides({"bank_route.minimum_fee": True}), 60, seed=4, paths=SIMULATED, engine=ENGINE)
    assert [r for r in off if r.path != "bank"] == [r for r in on if r.path != "bank"]
    changed = 0
    for a, b in zip([r for r in off if r.path == "bank"], [r for r in on if r.path == "bank"]):
        assert replace(a, fee=b.fee) == b  # same draws, same outcomes: only the fee moves
        if a.fee != b.fee:
            changed += 1
            assert b.fee > a.fee and b.fee >= min(Decimal(1), b.amount) * (1 if a.attempts == 1 else 0)
        else:
            assert a.fee == 0 or a.amount >= 1000  # withdrawn and under 1,000: the minimum binds
    assert changed > 20


def test_confidence_intervals_shrink_as_replicates_grow():
    def half_width(k):
        rows = bridging.run_replicates(CONFIG, 30, 1, k, paths=("bank",), engine=ENGINE)
        return summarise(rows, "bank")["failure_rate"].half_width

    few, many = half_width(4), half_width(16)
    assert few is not None and many is not None and many < few * 0.7
    assert mean_ci([1.0]).half_width is None and mean_ci([1.0, 3.0]).half_width == pytest.approx(12.706)


def test_sensitivity_reprices_without_rerunning_and_flags_the_minimum_fee(tmp_path):
    rows = bridging.run(CONFIG, 6, seed=2, paths=("bank", "bridge"), engine=ENGINE)
    assert sensitivity.reprice(rows, CONFIG) == rows  # as configured, repricing changes nothing
    free = sensitivity.reprice(rows, CONFIG.with_overrides({"chain.gas_price_yuan_per_million": 0}))
    assert all(r.gas_cost == 0 for r in free) and [r.gas for r in free] == [r.gas for r in rows]
    base, found = sensitivity.swings(rows, CONFIG)
    assert base == pytest.approx(sensitivity.headline(rows))
    gas = next(s for s in found if s.label.startswith("gas price"))
    assert gas.at_low < base < gas.at_high


def test_liquidity_kpi():
    kpi = costs.Liquidity.of([(0, 100, 10.0), (50, 150, 20.0), (200, 300, 5.0)], rate=0.0365)
    assert kpi.peak == 30.0 and kpi.yuan_seconds == 10 * 100 + 20 * 100 + 5 * 100
    assert kpi.time_weighted == pytest.approx(3500 / 300)
    assert kpi.cost == pytest.approx(3500 / (365 * 86400) * 0.0365)


# ------------------------------------------------------------------ modelled on-chain failures
def test_frozen_recipients_are_refused_before_anything_is_sent():
    rows = bridging.run(CONFIG.with_overrides({"shared.frozen_rate": 1}), 3, seed=1, paths=bridging.ON_CHAIN, engine=ENGINE)
    assert len(rows) == 3 * len(bridging.ON_CHAIN)
    assert all(r.outcome == "refused" and r.gas == 0 and r.txs == 0 and r.money_at.startswith("on A") for r in rows)


def test_mis_sent_transfers_are_revoked_on_the_delayed_path_and_lost_on_the_direct_one():
    rows = bridging.run(CONFIG.with_overrides({"shared.missent_rate": 1}), 3, seed=1,
                        paths=("shared-direct", "shared-revocable"), engine=ENGINE)
    direct = [r for r in rows if r.path == "shared-direct"]
    delayed = [r for r in rows if r.path == "shared-revocable"]
    assert all(r.outcome == "lost" and r.money_at == bridging.WRONG_PERSON and r.gas > 40_000 for r in direct)
    assert all(r.outcome == "revoked" and r.money_at.startswith("on A") and r.txs == 2 and
               r.seconds < CONFIG.shared.cooling_off_seconds for r in delayed)


def test_an_interconversion_cannot_be_mis_sent():
    rows = bridging.run(CONFIG.with_overrides({"shared.missent_rate": 1}), 3, seed=1,
                        paths=("platform-interconvert",), engine=ENGINE)
    assert len(rows) == 3 and all(r.delivered and r.money_at == bank_route.ON_B and "same-name rule" in r.detail for r in rows)


def test_bridge_fault_rates_from_the_config():
    rows = bridging.run(CONFIG.with_overrides({"faults.no_liquidity": 1}), 2, seed=1, paths=("bridge",), engine=ENGINE)
    assert all(r.outcome == "refused" and "no-liquidity" in r.detail for r in rows)
    with pytest.raises(errors.ChainpayError, match="add up to more than 1"):
        CONFIG.with_overrides({"faults.no_liquidity": 0.6, "faults.chain_halt": 0.6})


# ------------------------------------------------------------------ sweeps
def test_sweep_grid_is_checked_before_anything_runs():
    with pytest.raises(errors.ChainpayError, match="no study parameter"):
        sweep.plan(CONFIG, {"chain.warp_speed": ["1"]}, 1, 1, engine=ENGINE)
    with pytest.raises(errors.InvalidInput, match="KEY=V1,V2"):
        sweep.parse_grid(["chain.gas_price_yuan_per_million"])
    tasks = sweep.plan(CONFIG, sweep.parse_grid(["chain.gas_price_yuan_per_million=0,2", "bank_route.minimum_fee=false,true"]),
                       3, 5)
    assert len(tasks) == 12 and {t.seed for t in tasks} == {1, 2, 3}


def test_dask_sweep_on_two_workers_equals_a_serial_run():
    grid = sweep.parse_grid(["chain.gas_price_yuan_per_million=0,2", "bank_route.minimum_fee=false,true"])
    tasks = sweep.plan(CONFIG, grid, 1, 3, paths=("bank", "official-direct", "shared-direct"), engine=ENGINE)
    parallel = sweep.run(tasks, workers=2)
    serial = sweep.run_serial(tasks)
    assert len(parallel) == 4 * 3
    assert [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()} for r in parallel] == \
           [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()} for r in serial]
    free = [r for r in serial if r["path"] == "shared-direct" and r["chain.gas_price_yuan_per_million"] == "0"]
    assert all(r["gas_pct"] == 0 for r in free)
