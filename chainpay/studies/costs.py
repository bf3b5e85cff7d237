"""What the chain does not measure: the modelled latencies around an on-chain transfer, and the price
of the connector's locked liquidity (with its liquidity KPI). Each distribution is stated in the
config's [chain] and [connector] sections and in the report."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Iterable, Sequence

from .config import ChainParams

YEAR = 365 * 86400


def confirmation_seconds(chain: ChainParams, rng: random.Random) -> float:
    """The user's confirmation in the wallet app: lognormal with median `confirm_seconds`."""
    if chain.confirm_seconds <= 0:
        return 0.0
    return rng.lognormvariate(math.log(chain.confirm_seconds), chain.confirm_spread)


def poll_saving(chain: ChainParams, rng: random.Random, watchers: int) -> float:
    """The chain run lets every watcher wait a whole poll interval; a real one sees the event after a
    uniform share of it. Returns the time that saves, summed over `watchers` waits."""
    return sum(rng.uniform(0, chain.poll_interval) for _ in range(watchers))


@dataclass(frozen=True)
class Liquidity:
    peak: float  # the most the connector had locked at once (yuan)
    time_weighted: float  # the mean locked over the span (yuan)
    yuan_seconds: float  # sum of amount x time locked
    cost: float  # yuan_seconds priced at the yearly rate

    @classmethod
    def of(cls, locks: Sequence[tuple[float, float, float]], rate: float) -> "Liquidity":
        """`locks`: (start, end, amount) of each inbound lock the connector made."""
        if not locks:
            return cls(0.0, 0.0, 0.0, 0.0)
        yuan_seconds = sum((end - start) * amount for start, end, amount in locks)
        span = max(end for _, end, _ in locks) - min(start for start, _, _ in locks)
        return cls(_peak(locks), yuan_seconds / span if span > 0 else 0.0, yuan_seconds, yuan_seconds / YEAR * rate)


def _peak(locks: Iterable[tuple[float, float, float]]) -> float:
    events = sorted([(s, a) for s, _, a in locks] + [(e, -a) for _, e, a in locks], key=lambda x: (x[0], x[1]))
    level = peak = 0.0
    for _, change in events:
        level += change
        peak = max(peak, level)
    return peak
