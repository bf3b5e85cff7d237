"""The bridging study: config loading, amounts, the bank-route model against the domain-facts figures
(with stated tolerances), determinism, the report files and the CLI."""

import csv
import random
import statistics
from decimal import Decimal

import pytest
from dataclasses import replace

from chainpay import errors
from chainpay.cli.main import main
from chainpay.studies import bank_route, bridging, report
from chainpay.studies.amounts import draw_amounts
from chainpay.studies.config import StudyConfig
from chainpay.testing import test_engine

CONFIG = StudyConfig.load()
ENGINE = test_engine()  # the fixtures' engine: the fast one where installed


# ------------------------------------------------------------------ the bank route vs docs/sources.md (section 1)
@pytest.fixture(scope="module")
def bank_sample():
    """20,000 simulated transfers with the default config and amount mix."""
    rng = random.Random(2024)
    amounts = draw_amounts(CONFIG.amounts, 20_000, rng)
    return [bank_route.simulate(CONFIG.bank_route, a, rng) for a in amounts]


def test_bank_failure_rate_is_42_percent_within_2_points(bank_sample):
    # domain-facts: 42 % of multi-hop attempts fail; tolerance 2 points (the standard error here is 0.35).
    failed = sum(not t.delivered for t in bank_sample) / len(bank_sample)
    assert abs(failed - 0.42) <= 0.02


def test_bank_mean_time_is_2_5_hours_within_5_percent(bank_sample):
    # domain-facts: "about 2.5 hours on average" for the whole path. Measured over delivered transfers
    # within one day's withdrawal limit (larger ones wait for the next day by rule, reported apart).
    single = [t.seconds for t in bank_sample if t.delivered and t.chunks == 1]
    assert abs(statistics.fmean(single) / 3600 - 2.5) <= 0.125
    assert abs(bank_route.expected_seconds_within_limit(CONFIG.bank_route) / 3600 - 2.5) <= 0.01


def test_bank_hops_stay_inside_the_stated_ranges(bank_sample):
    # withdrawal 1-30 min + top-up 2-24 h + app switches, per chunk.
    switching = CONFIG.bank_route.app_switches * CONFIG.bank_route.app_switch_seconds
    for t in bank_sample:
        if t.delivered and t.chunks == 1:
            assert 60 + 2 * 3600 + switching <= t.seconds <= 30 * 60 + 24 * 3600 + switching


def test_bank_fee_is_0_1_percent_without_the_minimum_and_more_with_it(bank_sample):
    # sources: 0.1 % withdrawal fee, whole path 0.1-0.2 %; the 1-yuan minimum is stated only for the
    # credit-line product, so it is off by default: 0.1 % of volume to rounding. Switched on, it lifts the
    # micropayment-heavy mix's volume-weighted fee to 0.2-0.4 %.
    delivered = [t for t in bank_sample if t.delivered]
    volume_pct = sum(t.fee for t in delivered) / sum(t.amount for t in delivered) * 100
    assert abs(volume_pct - Decimal("0.1")) <= Decimal("0.002")
    with_min = replace(CONFIG.bank_route, minimum_fee=True)
    rng = random.Random(2024)
    amounts = draw_amounts(CONFIG.amounts, 5_000, rng)
    sample = [bank_route.simulate(with_min, a, rng) for a in amounts]
    done = [t for t in sample if t.delivered]
    assert Decimal("0.2") <= sum(t.fee for t in done) / sum(t.amount for t in done) * 100 <= Decimal("0.4")


def test_bank_daily_limit_splits_large_amounts_across_days():
    params = CONFIG.bank_route
    assert bank_route.chunks_of(params, Decimal("12000.50")) == [Decimal(5000), Decimal(5000), Decimal("2000.50")]
    assert bank_route.chunks_of(params, Decimal(5000)) == [Decimal(5000)]
    sure = replace(params, failure_rate=0.0)
    t = bank_route.simulate(sure, Decimal(12_000), random.Random(1))
    assert t.delivered and t.chunks == 3 and 2 * 86400 + 2 * 3600 <= t.seconds <= 3 * 86400
    assert t.fee == Decimal("12.00")  # 5 + 5 + 2 yuan at 0.1 %


def test_bank_failures_leave_money_on_A_or_on_the_card():
    rng = random.Random(3)
    always = replace(CONFIG.bank_route, failure_rate=1.0)
    outcomes = [bank_route.simulate(always, Decimal(50), rng) for _ in range(400)]
    at_a = [t for t in outcomes if t.money_at == bank_route.ON_A]
    on_card = [t for t in outcomes if t.money_at == bank_route.ON_CARD]
    assert len(at_a) + len(on_card) == 400 and 160 <= len(at_a) <= 240
    assert all(t.fee == 0 for t in at_a) and all(t.fee == Decimal("0.05") for t in on_card)  # 0.1 % of 50, paid


def test_withdrawal_fee_minimum_only_when_switched_on_and_never_above_the_amount():
    assert bank_route.withdrawal_fee(CONFIG.bank_route, Decimal(10)) == Decimal("0.01")
    p = replace(CONFIG.bank_route, minimum_fee=True)
    assert bank_route.withdrawal_fee(p, Decimal(10)) == Decimal("1.00")
    assert bank_route.withdrawal_fee(p, Decimal("0.50")) == Decimal("0.50")
    assert bank_route.withdrawal_fee(p, Decimal(4321)) == Decimal("4.32")


# ------------------------------------------------------------------ amounts and config
def test_amounts_are_micropayment_heavy_with_a_tail_to_10000():
    amounts = draw_amounts(CONFIG.amounts, 10_000, random.Random(5))
    assert 0.77 <= sum(a < 100 for a in amounts) / len(amounts) <= 0.83
    assert min(amounts) >= Decimal("0.50") and max(amounts) <= 10_000
    assert max(amounts) > 5000 and all(a == a.quantize(Decimal("0.01")) for a in amounts)
    assert sum(a == Decimal(100) for a in amounts) < 10  # truncated, no spike at the micropayment bound


def test_config_overrides_a_subset_and_refuses_unknown_or_bad_keys(tmp_path):
    good = tmp_path / "c.toml"
    good.write_text("[bank_route]\nfailure_rate = 0.1\n[chain]\nblock_interval = 2\n")
    cfg = StudyConfig.load(good)
    assert cfg.bank_route.failure_rate == 0.1 and cfg.chain.block_interval == 2
    assert cfg.bank_route.withdrawal_fee_min == Decimal("1.0")  # untouched defaults stay
    for text, message in (("[bank]\nx = 1\n", "unknown section"), ("[chain]\nspeed = 1\n", "unknown keys"),
                          ("[chain]\nblock_interval = 1.5\n", "whole number"), ("[bank_route]\nfailure_rate = 2\n", "[0, 1]"),
                          ("[bank_route]\ntopup_hours = [5]\n", "pair"), ("[chain\n", "cannot read")):
        bad = tmp_path / "bad.toml"
        bad.write_text(text)
        with pytest.raises(errors.ChainpayError, match=message.replace("[", r"\[")):
            StudyConfig.load(bad)


# ------------------------------------------------------------------ the study itself
@pytest.fixture(scope="module")
def small_study():
    return bridging.run(CONFIG, 12, seed=7, faults=("connector-offline", "no-liquidity"), engine=ENGINE)


def test_every_path_has_one_row_per_transfer(small_study):
    for path in bridging.PATHS:
        assert sorted(r.transfer for r in small_study if r.path == path) == list(range(12))
    amounts = {r.transfer: r.amount for r in small_study if r.path == "bank"}
    assert all(r.amount == amounts[r.transfer] for r in small_study)


def test_on_chain_paths_really_execute_and_are_priced(small_study):
    direct = [r for r in small_study if r.path == "shared-direct"]
    assert all(r.delivered and r.seconds >= CONFIG.chain.block_interval for r in direct)
    assert len({r.seconds for r in direct}) > 1  # the user's confirmation spreads the times
    assert all(40_000 < r.gas < 100_000 and r.txs == 1 and r.gas_cost == Decimal(r.gas) / 1_000_000 for r in direct)
    revocable = [r for r in small_study if r.path == "shared-revocable"]
    assert all(r.delivered and r.seconds >= CONFIG.shared.cooling_off_seconds and r.gas > 150_000 for r in revocable)
    bridge = [r for r in small_study if r.path == "bridge" and r.delivered]
    assert bridge and all(r.gas > 300_000 and r.fee >= CONFIG.connector.fee_min for r in bridge)
    # platform balances: one transaction below the approval threshold, three through the escrow above it
    platform = [r for r in small_study if r.path == "platform-interconvert"]
    assert all(r.delivered and r.fee == 0 for r in platform)
    for r in platform:
        escrowed = r.amount >= CONFIG.shared.approval_threshold
        assert r.txs == (3 if escrowed else 1) and ("through the escrow" in r.detail) == escrowed
        assert (r.seconds >= CONFIG.shared.cooling_off_seconds) == escrowed and 60_000 < r.gas


def test_same_seed_same_results_other_seed_other_results(small_study):
    again = bridging.run(CONFIG, 12, seed=7, faults=("connector-offline", "no-liquidity"), engine=ENGINE)
    assert again == small_study
    # another seed draws other amounts (and other secrets, faults and gaps from the same seeded streams)
    other = draw_amounts(CONFIG.amounts, 12, random.Random("8-amounts"))
    assert other != [r.amount for r in small_study if r.path == "bank"]
    assert [r.amount for r in small_study if r.path == "bank"] == draw_amounts(CONFIG.amounts, 12, random.Random("7-amounts"))


def test_unknown_fault_is_refused_before_running():
    with pytest.raises(errors.InvalidInput, match="unknown fault"):
        bridging.run(CONFIG, 1, faults=("meteor",), engine=ENGINE)


def test_report_files_and_summaries(small_study, tmp_path):
    written = report.write_all(small_study, CONFIG, tmp_path, seed=7, faults=("connector-offline", "no-liquidity"))
    assert {p.name for p in tmp_path.iterdir()} == {"report.md", "results.csv", "cost_vs_amount.png", "time_cdf.png",
                                                    "failure_outcomes.png", "sensitivity.png"}
    for chart in ("cost", "time", "failures", "sensitivity"):
        assert written[chart].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and written[chart].stat().st_size > 10_000
    rows = list(csv.DictReader((tmp_path / "results.csv").open()))
    assert len(rows) == len(bridging.PATHS) * 12 and set(rows[0]) == set(report.FIELDS)
    text = (tmp_path / "report.md").read_text()
    for path in bridging.PATHS:
        s = report.summarise(small_study, path)
        assert report.LABELS[path] in text and report.RULES.get(path, "") in text
        assert f"{s.delivered:,} / {s.n:,}" in text
    bridge = report.summarise(small_study, "bridge")
    assert bridge.failures and sum(bridge.failures.values()) == bridge.n - bridge.delivered


def test_insider_drain_loses_exactly_what_the_ratio_lets_the_insider_take():
    from chainpay.studies import platform_failure

    results = platform_failure.run(CONFIG, ENGINE)
    f = CONFIG.platform_failure
    supply = f.balance * f.customers
    assert [r.ratio for r in results] == [f.full_ratio, f.old_ratio, f.bank_ratio]
    for r in results:
        assert r.supply == r.reserve_before == supply  # full backing before the insider acts
        assert r.drained == supply * (1 - r.ratio)  # everything above ratio x supply
        assert r.recovered == supply - r.drained and r.lost == r.drained  # redemption pays until the reserve is gone
        assert sum(r.money_at.values()) == supply and r.money_at["left in the reserve"] == 0
        assert r.paid_in_full == int(r.recovered // f.balance) and r.got_nothing == f.customers - r.paid_in_full
    assert (results[0].lost, results[1].lost_pct) == (0, 80.0)
    text = "\n".join(platform_failure.report_lines(results))
    assert "| 20 % reserve (before 2017) | 20,000.00 | 20,000.00 | 16,000.00 | 4,000.00 | 16,000.00 (80 %) | 4 of 20 | 16 |" in text


def test_percentile_and_duration_formatting():
    from chainpay.studies.stats import percentile

    assert percentile([1, 2, 3, 4], 50) == 2.5 and percentile([5], 95) == 5
    assert [report.duration(s) for s in (5, 600, 9000, 4 * 86400)] == ["5 s", "10.0 min", "2.50 h", "4.0 d"]


def test_cli_study_writes_the_report(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["study", "bridging", "--transfers", "3", "--out", str(out), "--seed", "2"]) == 0
    assert (out / "report.md").exists() and len((out / "results.csv").read_text().splitlines()) == 1 + len(bridging.PATHS) * 3
    assert "an insider drains the reserve" in (out / "report.md").read_text()
    assert "insider" in capsys.readouterr().out


def test_cli_study_bad_config_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[chain]\nspeed = 3\n")
    assert main(["study", "bridging", "--transfers", "1", "--config", str(bad), "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("chainpay: unknown keys in [chain]") and "\n" not in err and "Traceback" not in err


@pytest.mark.slow
def test_full_size_study_1000_transfers_every_fault(tmp_path):
    faults = ("connector-offline", "recipient-absent", "chain-halt", "no-liquidity")
    rows = bridging.run(CONFIG, 1000, seed=1, faults=faults, engine=ENGINE)
    report.write_all(rows, CONFIG, tmp_path, seed=1, faults=faults)
    bank = report.summarise(rows, "bank")
    # 42 % of attempts fail; of those users 65 % give up and the rest fail again 42 % of the time
    assert abs(bank["failure_rate"].value / 100 - 0.42 * (0.65 + 0.35 * 0.42)) < 0.05
    bridge = [r for r in rows if r.path == "bridge"]
    assert all(r.outcome in ("delivered", "refused", "refunded") for r in bridge)
    assert all(r.money_at.startswith("on A") for r in bridge if not r.delivered)  # never stranded


def test_both_engines_give_the_same_rows():
    # gas is exact on both and the clock is simulated, so every row (gas included) is identical
    fast = bridging.run(CONFIG, 6, seed=3, engine="edr")
    reference = bridging.run(CONFIG, 6, seed=3, engine="eth-tester")
    assert fast == reference
