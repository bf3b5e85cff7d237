"""Per-path summaries of a study's rows, with honest accounting and 95 % confidence intervals.

Accounting: every path is measured over all attempted transfers and their volume (one denominator),
counting every fee paid, delivered or not; delivered-only figures stand beside. Times are of
delivered transfers (a transfer that never arrives has no arrival time). Confidence intervals come from
independent replicates (seeds) when there are several, else from the spread across one run's transfers
(for rates and means; volume ratios then get none).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable, Sequence

from .bridging import Row

# Student's t, 97.5 % quantile, by degrees of freedom (beyond 30: the normal 1.96 is within 2 %).
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
         2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)
FEW = 30  # a bucket with fewer transfers than this is flagged


def t975(df: int) -> float:
    return _T975[df - 1] if 1 <= df <= len(_T975) else 1.96


@dataclass(frozen=True)
class Estimate:
    value: float
    half_width: float | None = None  # the 95 % interval is value +- half_width

    def fmt(self, spec: str = ".3f", unit: str = "") -> str:
        if math.isnan(self.value):
            return "-"
        text = f"{self.value:{spec}}{unit}"
        return text if self.half_width is None else f"{text} ± {self.half_width:{spec}}"


def mean_ci(values: Sequence[float]) -> Estimate:
    """The mean with a t-based 95 % interval (none from a single value)."""
    if not values:
        return Estimate(float("nan"))
    mean = statistics.fmean(values)
    if len(values) < 2:
        return Estimate(mean)
    return Estimate(mean, t975(len(values) - 1) * statistics.stdev(values) / math.sqrt(len(values)))


@dataclass(frozen=True)
class Figures:
    """One path's figures in one replicate (or pooled)."""

    n: int
    delivered: int
    volume: Decimal
    fees: Decimal
    gas_cost: Decimal
    delivered_volume: Decimal
    delivered_fees: Decimal
    delivered_gas_cost: Decimal
    times: tuple[float, ...]  # delivered transfers
    costs_pct: tuple[float, ...]  # every attempted transfer's (fees + gas) / amount, in %
    within_hour: int  # delivered within one hour of the request
    gas_mean: float
    txs_mean: float

    @classmethod
    def of(cls, rows: Sequence[Row]) -> "Figures":
        done = [r for r in rows if r.delivered]
        return cls(len(rows), len(done), _sum(r.amount for r in rows), _sum(r.fee for r in rows),
                   _sum(r.gas_cost for r in rows), _sum(r.amount for r in done), _sum(r.fee for r in done),
                   _sum(r.gas_cost for r in done), tuple(float(r.seconds) for r in done),
                   tuple(r.fee_pct + r.gas_pct for r in rows), sum(1 for r in done if r.seconds <= 3600),
                   statistics.fmean(r.gas for r in rows) if rows else 0.0,
                   statistics.fmean(r.txs for r in rows) if rows else 0.0)

    def pct(self, part: Decimal, whole: Decimal) -> float:
        return float(part / whole * 100) if whole else float("nan")

    @property
    def failure_rate(self) -> float:
        return 1 - self.delivered / self.n if self.n else float("nan")


METRICS: dict[str, Callable[[Figures], float]] = {
    "failure_rate": lambda f: f.failure_rate * 100,
    "fee_pct": lambda f: f.pct(f.fees, f.volume),
    "gas_pct": lambda f: f.pct(f.gas_cost, f.volume),
    "cost_pct": lambda f: f.pct(f.fees + f.gas_cost, f.volume),
    "delivered_cost_pct": lambda f: f.pct(f.delivered_fees + f.delivered_gas_cost, f.delivered_volume),
    "median_cost_pct": lambda f: statistics.median(f.costs_pct) if f.costs_pct else float("nan"),
    "mean_s": lambda f: statistics.fmean(f.times) if f.times else float("nan"),
    "p50_s": lambda f: percentile(f.times, 50) if f.times else float("nan"),
    "p95_s": lambda f: percentile(f.times, 95) if f.times else float("nan"),
    "within_hour_pct": lambda f: f.within_hour / f.n * 100 if f.n else float("nan"),
}


@dataclass(frozen=True)
class Summary:
    path: str
    n: int  # attempted transfers, all replicates
    delivered: int
    replicates: int
    estimates: dict[str, Estimate]
    failures: dict[str, int]  # where the money is after a transfer that did not arrive -> count
    gas_mean: float
    txs_mean: float

    def __getitem__(self, metric: str) -> Estimate:
        return self.estimates[metric]


def summarise(rows: Sequence[Row], path: str) -> Summary:
    mine = [r for r in rows if r.path == path]
    seeds = sorted({r.seed for r in mine})
    pooled = Figures.of(mine)
    if len(seeds) > 1:
        per_seed = [Figures.of([r for r in mine if r.seed == s]) for s in seeds]
        estimates = {m: mean_ci([v for v in (fn(f) for f in per_seed) if not math.isnan(v)]) for m, fn in METRICS.items()}
    else:
        estimates = {m: Estimate(fn(pooled)) for m, fn in METRICS.items()}
        if pooled.n:  # one run: intervals from the spread across its transfers, where the metric is a mean
            p = pooled.failure_rate
            estimates["failure_rate"] = Estimate(p * 100, 196 * math.sqrt(p * (1 - p) / pooled.n))
            if len(pooled.times) > 1:
                estimates["mean_s"] = mean_ci(pooled.times)
    failures = Counter(r.money_at for r in mine if not r.delivered)
    return Summary(path, pooled.n, pooled.delivered, len(seeds), estimates, dict(failures.most_common()),
                   pooled.gas_mean, pooled.txs_mean)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation between closest ranks."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def _sum(values) -> Decimal:
    return sum(values, Decimal(0))
