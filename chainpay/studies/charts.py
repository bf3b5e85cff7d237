"""The study's charts (matplotlib, Agg): time to arrive (CDF, log time), cost against amount with 95 %
bands, where the money ends up per path, and the sensitivity of the headline."""

from __future__ import annotations

import math
import statistics
from pathlib import Path
from typing import Sequence

from .bridging import PATHS, SIMULATED, Row
from .sensitivity import Swing

LABELS = {
    "bank": "bank-card route (simulated)",
    "official-direct": "official direct service (measured)",
    "online-bank": "via an online bank (measured)",
    "union-app": "via a bank-card union app (measured)",
    "third-party": "third-party channel (measured)",
    "intermediary": "intermediary, 8-15 % (reported)",
    "merchant-gateway": "merchant gateway (reported)",
    "shared-direct": "shared currency, direct",
    "shared-revocable": "shared currency, delayed arrival",
    "platform-interconvert": "platform balances, interconverted",
    "bridge": "cross-chain bridge (HTLC)",
}
COLOURS = {"bank": "#b2182b", "official-direct": "#d6604d", "online-bank": "#f4a582", "union-app": "#8c510a",
           "third-party": "#762a83", "intermediary": "#c51b7d", "merchant-gateway": "#e08214",
           "shared-direct": "#2166ac", "shared-revocable": "#67a9cf",
           "platform-interconvert": "#5aae61", "bridge": "#1b7837"}
AMOUNT_BINS = (0.5, 2, 5, 10, 20, 50, 100, 300, 1000, 3000, 10000)


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _legend_below(ax) -> None:
    if ax.get_legend_handles_labels()[0]:  # an empty chart (too few transfers) draws no legend
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize=8)


def _save(plt, fig, file: Path, dpi: int = 110) -> Path:
    fig.tight_layout()
    fig.savefig(file, dpi=dpi)
    plt.close(fig)
    return file


def _style(path: str) -> dict:
    return {"color": COLOURS[path], "linestyle": "--" if path in SIMULATED else "-", "linewidth": 2 if path in SIMULATED[:1] or
            path not in SIMULATED else 1.4}


def time_cdf(rows: Sequence[Row], file: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 6))
    for path in PATHS:
        times = sorted(max(float(r.seconds), 1.0) for r in rows if r.path == path and r.delivered)
        n = sum(1 for r in rows if r.path == path)
        if times:  # the curve ends at the share delivered: failures never arrive
            ax.step(times, [(i + 1) / n for i in range(len(times))], where="post", label=LABELS[path], **_style(path))
    ticks = [(1, "1 s"), (10, "10 s"), (60, "1 min"), (600, "10 min"), (3600, "1 h"), (6 * 3600, "6 h"), (86400, "1 d"),
             (7 * 86400, "1 wk")]
    ax.set_xscale("log")
    ax.set_xticks([t for t, _ in ticks], [label for _, label in ticks])
    ax.axvline(3600, color="grey", linewidth=0.8, linestyle=":")
    ax.text(3700, 0.02, "G20 target: 75 % within 1 h", fontsize=8, color="grey")
    ax.set_xlabel("time from request to arrival (log scale)")
    ax.set_ylabel("share of all attempted transfers arrived")
    ax.set_title("How long a transfer takes (dashed: simulated off-chain routes; solid: on chain)")
    ax.set_ylim(0, 1.02)
    ax.grid(True, alpha=0.3)
    _legend_below(ax)
    return _save(plt, fig, file)


def cost_vs_amount(rows: Sequence[Row], file: Path) -> Path:
    """Mean cost (fees + gas, % of amount, every attempted transfer) per amount bin, with a 95 % band."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 6))
    for path in PATHS:
        xs, mids, lows, highs = [], [], [], []
        for low, high in zip(AMOUNT_BINS, AMOUNT_BINS[1:]):
            costs = [r.fee_pct + r.gas_pct for r in rows if r.path == path and low <= r.amount < high]
            if len(costs) < 3:
                continue
            mean = statistics.fmean(costs)
            half = 1.96 * statistics.stdev(costs) / math.sqrt(len(costs))
            xs.append(math.sqrt(low * high))
            mids.append(max(mean, 1e-4))
            lows.append(max(mean - half, 1e-4))
            highs.append(max(mean + half, 1e-4))
        if xs:
            ax.plot(xs, mids, label=LABELS[path], marker="o", markersize=3, **_style(path))
            ax.fill_between(xs, lows, highs, color=COLOURS[path], alpha=0.15)
    ax.axhline(1.0, color="grey", linewidth=0.8, linestyle=":")
    ax.text(0.6, 1.1, "G20 target: cost <= 1 %", fontsize=8, color="grey")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("amount (yuan, log scale)")
    ax.set_ylabel("mean cost: fees + gas (% of amount, log scale; 0 drawn at 0.0001)")
    ax.set_title("What a transfer costs by amount (every attempt; bands: 95 % interval of the mean)")
    ax.grid(True, which="major", alpha=0.3)
    _legend_below(ax)
    return _save(plt, fig, file)


def failure_outcomes(rows: Sequence[Row], file: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(10, 6))
    places = sorted({r.money_at for r in rows}, key=lambda p: (not p.startswith("on B"), p))
    palette = ["#4daf4a", "#377eb8", "#ff7f00", "#e41a1c", "#984ea3", "#a65628", "#f781bf", "#999999", "#17becf"]
    present = [p for p in PATHS if any(r.path == p for r in rows)]
    names = [LABELS[p] for p in present]
    left = [0.0] * len(present)
    for i, place in enumerate(places):
        shares = []
        for path in present:
            mine = [r for r in rows if r.path == path]
            shares.append(sum(1 for r in mine if r.money_at == place) / len(mine) * 100)
        if any(shares):
            ax.barh(names, shares, left=left, color=palette[i % len(palette)], label=place)
            left = [a + b for a, b in zip(left, shares)]
    ax.set_xlabel("% of attempted transfers")
    ax.set_xlim(0, 100)
    ax.invert_yaxis()
    ax.set_title("Where the money is at the end of each transfer")
    _legend_below(ax)
    return _save(plt, fig, file)


def tornado(base: float, found: Sequence[Swing], file: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(10, 4.8))
    for i, s in enumerate(found):
        named = [(s.at_low, _value(s.low)), (s.at_high, _value(s.high))]
        (lo, lo_label), (hi, hi_label) = sorted(named, key=lambda x: x[0])
        ax.barh(i, max(hi - lo, 0.02), left=lo, color="#4393c3", alpha=0.8)
        ax.text(lo, i, f"{lo_label} ", fontsize=8, ha="right", va="center")
        ax.text(hi, i, f" {hi_label}", fontsize=8, ha="left", va="center")
    ax.set_yticks(range(len(found)), [s.label for s in found], fontsize=8)
    ax.axvline(base, color="black", linewidth=1)
    ax.axvline(0, color="#b2182b", linewidth=1, linestyle="--")
    ax.invert_yaxis()
    ax.set_xlabel("median transfer's cost, bridge minus bank route (percentage points; < 0: bridge cheaper)")
    ax.set_title("Which assumption moves the headline most\n(black line: as configured; red dashed: the comparison flips)",
                 fontsize=10)
    values = [v for x in found for v in (x.at_low, x.at_high)] + [base, 0.0]
    span = max(values) - min(values) or 1.0
    ax.set_xlim(min(values) - 0.12 * span, max(values) + 0.1 * span)
    ax.grid(True, axis="x", alpha=0.3)
    return _save(plt, fig, file)


def _value(value) -> str:
    return {True: "on", False: "off"}.get(value, str(value)) if isinstance(value, bool) else str(value)
