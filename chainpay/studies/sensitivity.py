"""Which assumption moves the headline most: the median transfer's cost on the bridge minus on the
bank route (percentage points; below zero the bridge is cheaper), with each assumption set low and high.

Nothing here runs a chain again: gas and transactions per transfer do not depend on prices, so
on-chain rows are re-priced; the bank route is re-simulated from the same seeds (it is a model).
"""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Sequence

from . import routes
from .bridging import Row, gas_cost
from .config import StudyConfig

CENT = Decimal("0.01")

# (label, config key, low, high): the assumptions a reader should see moved
ASSUMPTIONS = (
    ("gas price (yuan per million gas)", "chain.gas_price_yuan_per_million", 0, 5),
    ("operator cost per transaction (yuan)", "chain.operator_cost_per_tx", 0, 0.05),
    ("1-yuan minimum withdrawal fee", "bank_route.minimum_fee", False, True),
    ("bank route failure rate", "bank_route.failure_rate", 0.30, 0.50),
    ("share giving up after a failure", "behaviour.give_up_share", 0.5, 0.8),
    ("connector fee rate", "connector.fee_rate", 0.0005, 0.002),
)


@dataclass(frozen=True)
class Swing:
    label: str
    low: object
    high: object
    at_low: float
    at_high: float


def headline(rows: Sequence[Row]) -> float:
    """Median transfer's cost (fees + gas, % of amount, all attempted transfers): bridge minus bank."""
    def median_cost(path: str) -> float:
        return statistics.median(r.fee_pct + r.gas_pct for r in rows if r.path == path)
    return median_cost("bridge") - median_cost("bank")


def reprice(rows: Sequence[Row], config: StudyConfig) -> list[Row]:
    """The rows as `config` would price them: on-chain gas and operator cost, the connector's fee, and
    the bank route simulated again with the same seeds."""
    out = []
    for seed in sorted({r.seed for r in rows}):
        mine = [r for r in rows if r.seed == seed]
        amounts = [r.amount for r in sorted((r for r in mine if r.path == "bank"), key=lambda r: r.transfer)]
        rng = random.Random(f"{seed}-bank")
        for i, amount in enumerate(amounts):
            t = routes.simulate_bank(config, amount, rng)
            out.append(Row(i, "bank", amount, "delivered" if t.delivered else "failed", t.seconds, t.fee, 0,
                           Decimal(0), t.money_at, t.detail, seed, t.attempts))
        for r in mine:
            if r.path == "bank":
                continue
            fee = r.fee
            if r.path == "bridge" and fee > 0:
                c = config.connector
                fee = max(r.amount * c.fee_rate, c.fee_min).quantize(CENT, rounding=ROUND_HALF_UP)
            out.append(replace(r, fee=fee, gas_cost=gas_cost(config, r.gas, r.txs) if r.txs or r.gas else r.gas_cost))
    return out


def swings(rows: Sequence[Row], config: StudyConfig) -> tuple[float, list[Swing]]:
    """The headline at the config as given, and its value with each assumption low and high, largest swing first."""
    base = headline(reprice(rows, config))
    found = []
    for label, key, low, high in ASSUMPTIONS:
        values = [headline(reprice(rows, config.with_overrides({key: v}))) for v in (low, high)]
        found.append(Swing(label, low, high, *values))
    found.sort(key=lambda s: abs(s.at_high - s.at_low), reverse=True)
    return base, found
