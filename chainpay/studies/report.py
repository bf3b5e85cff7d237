"""Write the bridging study's results: results.csv, report.md and its charts."""

from __future__ import annotations

import csv
import statistics
from decimal import Decimal
from pathlib import Path
from typing import Sequence

from . import charts, costs, sensitivity
from .bridging import ON_CHAIN, PATHS, SIMULATED, Row
from .charts import LABELS
from .config import StudyConfig
from .stats import FEW, Summary, summarise

__all__ = ["LABELS", "duration", "summarise", "write_all", "write_csv", "write_report"]

RULES = {
    "bank": "real-name bank card (outside the chain's view); 5,000 yuan/day withdrawal limit; no revocation; no shared ledger",
    "shared-direct": "white-listed institutions register every party (KYC, tiers); per-identity daily thresholds; freezes; "
                     "pause; every transfer on the tamper-evident ledger; no delay or revocation",
    "shared-revocable": "all of shared-direct, plus delayed arrival with revocation (cooling-off), a second factor at or "
                        "above the approval threshold, disputes with a 72 h deadline",
    "platform-interconvert": "balances issued only against 100 % reserve in the currency; white-listed platforms; the "
                             "same-name rule; per-identity daily thresholds; freezes; pause; delayed arrival with "
                             "revocation and a second factor at or above the approval threshold",
    "bridge": "white-listed connectors only; the same-name rule (paid only to an account of the sender's identity, checked "
              "on chain B at lock and claim); daily thresholds on the outbound lock; freezes on both chains; both legs on "
              "each chain's ledger; no revocation (refund only after T_A)",
}
BANDS = ((Decimal(0), Decimal(10)), (Decimal(10), Decimal(100)), (Decimal(100), Decimal(1000)), (Decimal(1000), None))
FIELDS = ("seed", "transfer", "path", "amount", "outcome", "attempts", "seconds", "fee", "gas", "txs", "gas_cost",
          "fee_pct", "gas_pct", "money_at", "detail")
REFERENCES = (
    "the sources' bank route: about 2.5 h over 4 app switches, 42 % of attempts failing, 0.1-0.2 % in fees",
    "mBridge-style cross-border claims: settlement from days to seconds, cost down by up to half",
    "a cross-border multi-ledger HTLC trial: 6.48 payments per second, under 30 s end to end",
    "the G20 retail targets: cost at most 1 %, 75 % of payments credited within one hour",
)


def duration(seconds: float | None) -> str:
    if seconds is None or seconds != seconds:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    if seconds < 3 * 86400:
        return f"{seconds / 3600:.2f} h"
    return f"{seconds / 86400:.1f} d"


def _time(s: Summary, metric: str) -> str:
    e = s[metric]
    text = duration(e.value)
    return text if e.half_width is None or text == "-" else f"{text} ± {duration(e.half_width)}"


def write_csv(rows: Sequence[Row], path: Path) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(FIELDS)
        for r in rows:
            writer.writerow([r.seed, r.transfer, r.path, r.amount, r.outcome, r.attempts, f"{r.seconds:.0f}", r.fee, r.gas,
                             r.txs, r.gas_cost, f"{r.fee_pct:.6f}", f"{r.gas_pct:.6f}", r.money_at, r.detail])
    return path


def headline_table(summaries: Sequence[Summary]) -> list[str]:
    lines = ["| path | arrived | failure rate % | mean time | p50 | p95 | within 1 h % | cost % of volume (fees + gas) "
             "| of which fees | median transfer's cost % | cost % of delivered volume |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for s in summaries:
        lines.append(f"| {LABELS[s.path]} | {s.delivered:,} / {s.n:,} | {s['failure_rate'].fmt('.1f')} | {_time(s, 'mean_s')} | "
                     f"{_time(s, 'p50_s')} | {_time(s, 'p95_s')} | {s['within_hour_pct'].fmt('.1f')} | "
                     f"{s['cost_pct'].fmt('.3f')} | {s['fee_pct'].fmt('.3f')} | {s['median_cost_pct'].fmt('.2f')} | "
                     f"{s['delivered_cost_pct'].fmt('.3f')} |")
    return lines


def band_table(rows: Sequence[Row], paths: Sequence[str]) -> list[str]:
    head = "| path | " + " | ".join(_band_name(b) for b in BANDS) + " |"
    lines = [head, "|---|" + "---:|" * len(BANDS)]
    for path in paths:
        cells = []
        for low, high in BANDS:
            costs = [r.fee_pct + r.gas_pct for r in rows if r.path == path and r.amount >= low
                     and (high is None or r.amount < high)]
            flag = " (few)" if len(costs) < FEW else ""
            cells.append(f"{statistics.median(costs):.2f} % (n={len(costs)}{flag})" if costs else "-")
        lines.append(f"| {LABELS[path]} | " + " | ".join(cells) + " |")
    return lines


def _band_name(band) -> str:
    low, high = band
    return f">= {low:,} yuan" if high is None else f"{low:,}-{high:,} yuan"


def _minimum_fee_rows(rows: Sequence[Row], config: StudyConfig) -> list[str]:
    """The bank route under both settings of the minimum-fee switch (same seeds)."""
    lines = ["| 1-yuan minimum on the wallet withdrawal | cost % of volume | median transfer's cost % |", "|---|---:|---:|"]
    for setting in (False, True):
        bank = [r for r in sensitivity.reprice(rows, config.with_overrides({"bank_route.minimum_fee": setting}))
                if r.path == "bank"]
        s = summarise(bank, "bank")
        mark = " (this run)" if setting == config.bank_route.minimum_fee else ""
        lines.append(f"| {'on' if setting else 'off'}{mark} | {s['cost_pct'].fmt('.3f')} | {s['median_cost_pct'].fmt('.2f')} |")
    return lines


def _liquidity_line(rows: Sequence[Row], config: StudyConfig) -> str:
    """The connector's locked liquidity: each inbound lock held from the request until the crossing ends
    (an upper bound: the connector locks a block or two after the request)."""
    bridge = [r for r in rows if r.path == "bridge" and r.txs > 1]
    per_seed = [costs.Liquidity.of([(r.started, r.started + r.seconds, float(r.amount)) for r in bridge if r.seed == s],
                                   config.connector.liquidity_rate) for s in sorted({r.seed for r in bridge})]
    if not per_seed:
        return "- connector liquidity: no crossing locked any"
    volume = float(sum(r.amount for r in rows if r.path == "bridge"))
    cost = sum(x.cost for x in per_seed)
    return (f"- connector liquidity: peak {max(x.peak for x in per_seed):,.2f} yuan locked at once, time-weighted "
            f"{statistics.fmean(x.time_weighted for x in per_seed):,.2f} yuan; priced at {config.connector.liquidity_rate:.1%} "
            f"a year it costs {cost:,.6f} yuan ({cost / volume * 100 if volume else 0:.6f} % of the bridge's volume; "
            "crossings here run one after another, so the peak is the largest amount, not a concurrent load)")


def write_report(rows: Sequence[Row], config: StudyConfig, out: Path, *, seed: int, faults: Sequence[str],
                 figures: dict[str, Path], swings=None, failure=None) -> Path:
    paths = [p for p in PATHS if any(r.path == p for r in rows)]
    summaries = [summarise(rows, p) for p in paths]
    seeds = sorted({r.seed for r in rows})
    first = [r for r in rows if r.seed == seeds[0]]
    n = max((r.transfer for r in first), default=-1) + 1
    amounts = [r.amount for r in first if r.path == paths[0]]
    micro = sum(1 for a in amounts if a < 100)
    c = config
    lines = [
        "# Moving money between two payment platforms: today's routes against on-chain paths", "",
        f"{n:,} transfers per replicate, {len(seeds)} replicate(s) (seeds {seeds[0]}-{seeds[-1]}), the same amounts "
        f"through every path: {micro:,} under 100 yuan ({micro / max(n, 1):.0%}), median "
        f"{statistics.median(amounts) if amounts else 0:.2f} yuan, largest {max(amounts, default=0)} yuan. "
        f"Faults injected into the bridge: {', '.join(faults) if faults else 'as configured'}.", "",
        "**Accounting.** Every figure is over all attempted transfers and their volume (one denominator for every path), "
        "and counts every fee paid, delivered or not (a user who retries pays again); the last column is the cost over "
        "delivered volume only. Times are of transfers that arrived. "
        + ("± is the 95 % confidence interval across replicates (Student's t)." if len(seeds) > 1 else
           "± is a 95 % interval from the spread across this run's transfers (rates and mean times only; run with "
           "--replicates K for intervals on every figure)."), "",
        f"**Assumptions that drive the result.** Gas costs {c.chain.gas_price_yuan_per_million} yuan per million gas plus "
        f"{c.chain.operator_cost_per_tx} yuan per transaction (permissioned networks often charge 0 for gas; the sensitivity "
        f"below shows 0 to 5); the 1-yuan minimum fee is {'on' if c.bank_route.minimum_fee else 'off'} (the sources state "
        f"it only for the credit-line product: both settings are shown); after a failed attempt "
        f"{c.behaviour.give_up_share:.0%} of users give up, the rest try again (at most {c.behaviour.max_attempts} attempts).",
        "", "## Headline", "", *headline_table(summaries), "",
        "Median cost of a transfer by amount (fees + gas, every attempt; `few`: under "
        f"{FEW} transfers in the bucket, read with care):", "", *band_table(rows, paths), "",
        "The bank-card route under both settings of the minimum fee:", "", *_minimum_fee_rows(rows, c), "",
    ]
    if swings is not None:
        base, found = swings
        lines += ["## What the headline depends on", "",
                  f"Headline: the median transfer's cost on the bridge minus on the bank-card route = {base:+.2f} points "
                  f"({'the bridge is cheaper' if base < 0 else 'the bank route is cheaper'}). Each assumption set low and "
                  "high, the others as configured:", "",
                  "| assumption | low | headline | high | headline | flips? |", "|---|---:|---:|---:|---:|---|"]
        for s in found:
            flips = "yes" if (s.at_low < 0) != (s.at_high < 0) else "no"
            lines.append(f"| {s.label} | {s.low} | {s.at_low:+.2f} | {s.high} | {s.at_high:+.2f} | {flips} |")
        lines += ["", f"![sensitivity]({figures['sensitivity'].name})", ""]
    if failure:
        from .platform_failure import report_lines

        lines += report_lines(failure)
    lines += ["## Against public reference points", ""]
    lines += [f"- {ref}" for ref in REFERENCES]
    by = {s.path: s for s in summaries}
    for path in ON_CHAIN:
        if path in by:
            s = by[path]
            lines.append(f"- here, {LABELS[path]}: {s['within_hour_pct'].fmt('.1f')} % within one hour, cost "
                         f"{s['cost_pct'].fmt('.3f')} % of volume, p50 {duration(s['p50_s'].value)}")
    lines += ["", "## Per path", ""]
    for s in summaries:
        lines += [f"### {LABELS[s.path]}", ""]
        lines.append(f"- arrived {s.delivered:,} of {s.n:,}; time mean {_time(s, 'mean_s')}, p50 {_time(s, 'p50_s')}, "
                     f"p95 {_time(s, 'p95_s')}")
        if s.path == "bank":
            single = [float(r.seconds) for r in rows if r.path == "bank" and r.delivered
                      and r.detail.startswith("1 withdrawal,") and r.attempts == 1]
            if single:
                lines.append(f"- within one day's withdrawal limit, first attempt ({len(single):,}): mean "
                             f"{duration(statistics.fmean(single))}; larger amounts wait a day per further withdrawal")
        lines.append(f"- cost: fees {s['fee_pct'].fmt('.3f')} % and gas {s['gas_pct'].fmt('.3f')} % of the volume attempted; "
                     f"{s.gas_mean:,.0f} gas and {s.txs_mean:.1f} transactions per transfer on average")
        where = "; ".join(f"{count:,} {place}" for place, count in s.failures.items())
        lines.append(f"- after a transfer that did not arrive the money is: {where}" if where else "- every transfer arrived")
        if s.path == "bridge":
            lines.append(_liquidity_line(rows, c))
        if s.path in RULES:
            lines.append(f"- rules enforced: {RULES[s.path]}")
        if s.path in SIMULATED and s.path != "bank":
            r = c.routes[s.path.replace("-", "_")]
            lines.append(f"- model: time lognormal with mean {r.minutes:g} min (sigma {r.spread}), fee "
                         f"{r.fee_low * 100:g}-{r.fee_high * 100:g} %, {r.success_rate:.0%} of attempts arrive")
        lines.append("")
    lines += [
        "## Charts", "", f"![time to arrive]({figures['time'].name})", "", f"![cost against amount]({figures['cost'].name})", "",
        f"![where the money ends]({figures['failures'].name})", "",
        "## How each path is measured", "",
        f"- **bank-card route**: simulated per attempt (withdrawal 1-30 min at 0.1 %; top-up in the 2-24 h window, mostly "
        f"just after the 2 h floor so the whole path averages 2.5 h; 4 app switches; at most 5,000 yuan withdrawn a day; "
        f"{c.bank_route.failure_rate:.0%} of attempts fail, half at the withdrawal, half at the top-up with the money left on "
        "the card and its fee paid; a retry after a failed top-up starts from the card).",
        "- **measured alternatives**: each route's published time and fee, a lognormal spread around the time, and the "
        "success rate where one is published (else assumed reliable, as each route's line says).",
        "- **on chain**: the transactions really execute on in-process chains; time is the chain's block timestamps "
        f"(blocks every {c.chain.block_interval} s; watchers poll every {c.chain.poll_interval} s, seeing an event after a "
        f"uniform share of that) plus the user's confirmation (lognormal, median {c.chain.confirm_seconds:g} s). Modelled "
        f"failures: recipient frozen {c.shared.frozen_rate:.1%} (refused before anything is sent), mis-sent "
        f"{c.shared.missent_rate:.1%} (revoked in the cooling-off on the delayed path; gone on the direct one); bridge "
        f"faults at their configured rates.",
        "- Gas counts every transaction a transfer needs, whoever sends it (sender, connector, keeper, refunds).",
        "", "Every parameter is in `chainpay/studies/bridging.toml` with its source; `results.csv` has one row per "
        "transfer, path and replicate.", "",
    ]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path


def write_all(rows: Sequence[Row], config: StudyConfig, out: Path, *, seed: int, faults: Sequence[str],
              failure=None) -> dict[str, Path]:
    """results.csv, the charts and report.md in `out` (created if needed)."""
    out.mkdir(parents=True, exist_ok=True)
    csv_path = write_csv(rows, out / "results.csv")
    figures = {"time": charts.time_cdf(rows, out / "time_cdf.png"), "cost": charts.cost_vs_amount(rows, out / "cost_vs_amount.png"),
               "failures": charts.failure_outcomes(rows, out / "failure_outcomes.png")}
    swings = None
    if any(r.path == "bridge" for r in rows) and any(r.path == "bank" for r in rows):
        swings = sensitivity.swings(rows, config)
        figures["sensitivity"] = charts.tornado(*swings, out / "sensitivity.png")
    report = write_report(rows, config, out, seed=seed, faults=faults, figures=figures, swings=swings, failure=failure)
    return {"report": report, "csv": csv_path, **figures}
