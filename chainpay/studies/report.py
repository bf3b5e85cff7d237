"""Write the bridging study's results: results.csv, report.md and three PNG charts."""

from __future__ import annotations

import csv
import statistics
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Sequence

from . import bank_route
from .bridging import PATHS, Row
from .config import StudyConfig

LABELS = {
    "bank": "bank route (simulated)",
    "shared-direct": "shared currency, direct",
    "shared-revocable": "shared currency, delayed arrival",
    "bridge": "cross-chain bridge (HTLC)",
}
COLOURS = {"bank": "#b2182b", "shared-direct": "#2166ac", "shared-revocable": "#67a9cf", "bridge": "#1b7837"}
RULES = {
    "bank": "real-name bank card (outside the chain's view); 5,000 yuan/day withdrawal limit; no revocation; "
            "no shared ledger",
    "shared-direct": "white-listed institutions register every party (KYC, tiers); per-identity daily thresholds; "
                     "freezes; pause; every transfer on the tamper-evident ledger; no delay or revocation",
    "shared-revocable": "all of shared-direct, plus delayed arrival with revocation (cooling-off), a second factor "
                        "at or above the approval threshold, disputes with a 72 h deadline",
    "bridge": "white-listed connectors only; the same-name rule (paid only to an account of the sender's identity, "
              "checked on chain B at lock and claim); daily thresholds on the outbound lock; freezes on both chains; "
              "both legs on each chain's ledger; no revocation (refund only after T_A)",
}
BANDS = ((Decimal(0), Decimal(10)), (Decimal(10), Decimal(100)), (Decimal(100), Decimal(1000)), (Decimal(1000), None))
FIELDS = ("transfer", "path", "amount", "outcome", "seconds", "fee", "gas", "gas_cost", "fee_pct", "gas_pct", "money_at", "detail")


@dataclass(frozen=True)
class Summary:
    path: str
    n: int
    delivered: int
    mean_s: float | None
    p50_s: float | None
    p95_s: float | None
    fee_pct: float  # total fees / total amount delivered
    gas_pct: float  # total gas cost / total amount delivered
    median_cost_pct: float | None  # the median transfer's (fee + gas) %
    mean_gas: float
    failures: dict[str, int]  # where the money is after a failure -> count

    @property
    def failure_rate(self) -> float:
        return 1 - self.delivered / self.n if self.n else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation between closest ranks."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def summarise(rows: Sequence[Row], path: str) -> Summary:
    mine = [r for r in rows if r.path == path]
    done = [r for r in mine if r.delivered]
    times = [float(r.seconds) for r in done]
    volume = sum((r.amount for r in done), Decimal(0))
    costs = [r.fee_pct + r.gas_pct for r in done]
    return Summary(
        path, len(mine), len(done),
        statistics.fmean(times) if times else None,
        percentile(times, 50) if times else None,
        percentile(times, 95) if times else None,
        float(sum((r.fee for r in done), Decimal(0)) / volume * 100) if volume else 0.0,
        float(sum((r.gas_cost for r in done), Decimal(0)) / volume * 100) if volume else 0.0,
        statistics.median(costs) if costs else None,
        statistics.fmean(r.gas for r in mine) if mine else 0.0,
        dict(Counter(r.money_at for r in mine if not r.delivered).most_common()),
    )


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    if seconds < 3 * 86400:
        return f"{seconds / 3600:.2f} h"
    return f"{seconds / 86400:.1f} d"


def write_csv(rows: Sequence[Row], path: Path) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(FIELDS)
        for r in rows:
            writer.writerow([r.transfer, r.path, r.amount, r.outcome, f"{r.seconds:.0f}", r.fee, r.gas, r.gas_cost,
                             f"{r.fee_pct:.6f}", f"{r.gas_pct:.6f}", r.money_at, r.detail])
    return path


def headline_table(summaries: Sequence[Summary]) -> list[str]:
    lines = ["| path | delivered | failure rate | mean time | p50 | p95 | fees (% of volume) | gas (% of volume) | median transfer's cost |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for s in summaries:
        median = "-" if s.median_cost_pct is None else f"{s.median_cost_pct:.2f} %"
        lines.append(f"| {LABELS[s.path]} | {s.delivered:,} / {s.n:,} | {s.failure_rate:.1%} | {duration(s.mean_s)} | "
                     f"{duration(s.p50_s)} | {duration(s.p95_s)} | {s.fee_pct:.3f} % | {s.gas_pct:.3f} % | {median} |")
    return lines


def _band_table(rows: Sequence[Row]) -> list[str]:
    head = "| path | " + " | ".join(_band_name(b) for b in BANDS) + " |"
    lines = [head, "|---|" + "---:|" * len(BANDS)]
    for path in PATHS:
        cells = []
        for low, high in BANDS:
            costs = [r.fee_pct + r.gas_pct for r in rows if r.path == path and r.delivered
                     and r.amount >= low and (high is None or r.amount < high)]
            cells.append(f"{statistics.median(costs):.2f} % (n={len(costs)})" if costs else "-")
        lines.append(f"| {LABELS[path]} | " + " | ".join(cells) + " |")
    return lines


def _band_name(band) -> str:
    low, high = band
    return f">= {low:,} yuan" if high is None else f"{low:,}-{high:,} yuan"


def write_report(rows: Sequence[Row], config: StudyConfig, out: Path, *, seed: int, faults: Sequence[str],
                 charts: dict[str, Path]) -> Path:
    summaries = [summarise(rows, p) for p in PATHS]
    n = max((r.transfer for r in rows), default=-1) + 1
    amounts = [r.amount for r in rows if r.path == "bank"]
    micro = sum(1 for a in amounts if a < 100)
    c = config
    lines = [
        "# Moving money between two payment platforms: the bank route against on-chain paths",
        "",
        f"{n:,} transfers (seed {seed}), the same amounts through every path: {micro:,} under 100 yuan "
        f"({micro / n:.0%}), median {statistics.median(amounts) if amounts else 0:.2f} yuan, largest {max(amounts, default=0)} yuan. "
        f"Faults injected into the bridge: {', '.join(faults) if faults else 'none'}"
        + (f" ({c.faults.share:.0%} of bridge transfers each)." if faults else "."),
        "",
        "Time runs from the request to the money arriving (delivered transfers only). Cost is fees plus gas, "
        f"as a share of the volume delivered; gas is priced at {c.chain.gas_price_yuan_per_million} yuan per million gas "
        f"(an assumption: rescale the gas column for another price). Blocks every {c.chain.block_interval} s, "
        f"wallets and the connector look every {c.chain.poll_interval} s.",
        "",
        "## Headline",
        "",
        *headline_table(summaries),
        "",
        "Fees are volume-weighted (what a platform's books show); the median transfer's cost shows what a typical, "
        "small transfer pays. By amount (median cost of a delivered transfer, fees + gas):",
        "",
        *_band_table(rows),
        "",
        "## Per path",
        "",
    ]
    for s in summaries:
        lines += [f"### {LABELS[s.path]}", ""]
        lines.append(f"- delivered {s.delivered:,} of {s.n:,} ({1 - s.failure_rate:.1%}); time mean {duration(s.mean_s)}, "
                     f"p50 {duration(s.p50_s)}, p95 {duration(s.p95_s)}")
        if s.path == "bank":
            single = [float(r.seconds) for r in rows if r.path == "bank" and r.delivered and r.detail == bank_route.withdrawals_detail(1)]
            if single:
                lines.append(f"- within one day's withdrawal limit ({len(single):,} delivered): mean {duration(statistics.fmean(single))}; "
                             "larger amounts wait a day per further withdrawal, which lifts the overall mean above the p95")
        lines.append(f"- cost: fees {s.fee_pct:.3f} % and gas {s.gas_pct:.3f} % of the volume delivered; "
                     f"{s.mean_gas:,.0f} gas per transfer on average")
        if s.failures:
            where = "; ".join(f"{count:,} {place}" for place, count in s.failures.items())
            lines.append(f"- after a failure the money is: {where}")
        else:
            lines.append("- no failures")
        lines.append(f"- rules enforced: {RULES[s.path]}")
        lines.append("")
    lines += [
        "## Charts",
        "",
        f"![cost against amount]({charts['cost'].name})",
        "",
        f"![time to arrive]({charts['time'].name})",
        "",
        f"![failure outcomes]({charts['failures'].name})",
        "",
        "## How each path is measured",
        "",
        "- **bank route**: simulated per transfer from the config (withdrawal 1-30 min and 0.1 % with a "
        f"{c.bank_route.withdrawal_fee_min} yuan minimum; top-up in the 2-24 h window, mostly just after the 2 h floor so "
        "the whole path averages 2.5 h; 4 app switches; at most 5,000 yuan withdrawn a day, so larger amounts take days; "
        f"{c.bank_route.failure_rate:.0%} of attempts fail, one attempt per transfer).",
        "- **shared currency**: one chain with both platforms' wallets; the same person's wallet at platform A pays "
        "their wallet at platform B. Direct: one currency transfer. Delayed arrival: the revocable-transfer escrow "
        f"(cooling-off {duration(c.shared.cooling_off_seconds)}, a second factor from {c.shared.approval_threshold} yuan), "
        "released by a keeper in the first block after the cooling-off.",
        "- **bridge**: two chains, a hashed-timelock lock on A, the connector's lock on B, the recipient's claim on B "
        f"(the time stops here), the connector's claim on A. Connector fee {c.connector.fee_rate * 100} % "
        f"(minimum {c.connector.fee_min} yuan); T_A {duration(c.connector.sender_lock_duration)}, "
        f"T_B {duration(c.connector.inbound_lock_duration)} after the connector's lock, claim margin "
        f"{duration(c.connector.claim_margin)}.",
        "- Gas counts every transaction a transfer needs, whoever sends it (the sender's permit-based lock or send, the "
        "connector's lock and claim, the keeper's release, refunds).",
        "",
        "Every parameter is in `chainpay/studies/bridging.toml` (with its source); `results.csv` has one row per "
        "transfer and path.",
        "",
    ]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path


def write_charts(rows: Sequence[Row], out: Path) -> dict[str, Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    charts = {"cost": out / "cost_vs_amount.png", "time": out / "time_cdf.png", "failures": out / "failure_outcomes.png"}

    fig, ax = plt.subplots(figsize=(8, 5))
    for path in PATHS:
        done = [r for r in rows if r.path == path and r.delivered]
        ax.scatter([float(r.amount) for r in done], [max(r.fee_pct + r.gas_pct, 1e-4) for r in done], s=8, alpha=0.5,
                   color=COLOURS[path], label=LABELS[path])
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("amount (yuan, log scale)")
    ax.set_ylabel("cost: fees + gas (% of amount, log scale)")
    ax.set_title("What a delivered transfer costs, by amount")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(markerscale=2)
    fig.tight_layout()
    fig.savefig(charts["cost"], dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 5.5))
    for path in PATHS:
        times = sorted(max(float(r.seconds), 1.0) for r in rows if r.path == path and r.delivered)
        if times:
            ax.step(times, [(i + 1) / len(times) for i in range(len(times))], where="post", color=COLOURS[path],
                    label=LABELS[path], linewidth=2)
    ticks = [(5, "5 s"), (60, "1 min"), (600, "10 min"), (3600, "1 h"), (86400, "1 d"), (7 * 86400, "1 wk")]
    ax.set_xscale("log")
    ax.set_xticks([t for t, _ in ticks], [label for _, label in ticks])
    ax.set_xlabel("time from request to arrival (log scale)")
    ax.set_ylabel("share of delivered transfers")
    ax.set_title("How long a delivered transfer takes (CDF)")
    ax.set_ylim(0, 1.02)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize=9)
    fig.tight_layout()
    fig.savefig(charts["time"], dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(9, 4.5))
    places = sorted({r.money_at for r in rows}, key=lambda p: (not p.startswith("on B"), p))
    palette = ["#4daf4a", "#377eb8", "#ff7f00", "#e41a1c", "#984ea3", "#a65628", "#f781bf", "#999999"]
    names = [LABELS[p] for p in PATHS]
    left = [0.0] * len(PATHS)
    for i, place in enumerate(places):
        shares = []
        for path in PATHS:
            mine = [r for r in rows if r.path == path]
            shares.append(sum(1 for r in mine if r.money_at == place) / len(mine) * 100 if mine else 0)
        if any(shares):
            ax.barh(names, shares, left=left, color=palette[i % len(palette)], label=place)
            left = [a + b for a, b in zip(left, shares)]
    ax.set_xlabel("% of transfers")
    ax.set_xlim(0, 100)
    ax.invert_yaxis()
    ax.set_title("Where the money is at the end of each transfer")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2, fontsize=8)
    fig.tight_layout()
    fig.savefig(charts["failures"], dpi=110)
    plt.close(fig)
    return charts


def write_all(rows: Sequence[Row], config: StudyConfig, out: Path, *, seed: int, faults: Sequence[str]) -> dict[str, Path]:
    """results.csv, the charts and report.md in `out` (created if needed)."""
    out.mkdir(parents=True, exist_ok=True)
    csv_path = write_csv(rows, out / "results.csv")
    charts = write_charts(rows, out)
    report = write_report(rows, config, out, seed=seed, faults=faults, charts=charts)
    return {"report": report, "csv": csv_path, **charts}
