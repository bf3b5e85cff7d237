"""Simulated off-chain routes: the bank-card route (bank_route.py) and the alternatives one report
measured (official direct service, online bank, union app, third-party channel, intermediary, merchant
gateway), each with the users' give-up-after-failure behaviour.

Every attempt's fees count, delivered or not: a user who retries pays twice. After a failed attempt
a share of users give up (the sources: over 65 %); the rest try again, up to `max_attempts` in all.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from . import bank_route
from .config import Behaviour, RouteParams, StudyConfig

FEN = Decimal("0.01")
ON_A_REFUSED = "on A (the route refused it)"


@dataclass(frozen=True)
class Outcome:
    amount: Decimal
    delivered: bool
    seconds: float  # to delivery, or until the user stops trying
    fee: Decimal  # every fee paid, on every attempt
    attempts: int
    money_at: str
    detail: str


def _route_attempt(params: RouteParams, amount: Decimal, rng: random.Random) -> tuple[bool, float, Decimal]:
    """One attempt over a measured route: (arrived, seconds, fee). Time is lognormal with mean
    `minutes`; a failed attempt shows as failed after the same kind of wait and costs no fee."""
    sigma = params.spread
    mu = math.log(params.minutes * 60) - sigma * sigma / 2  # so that the mean is `minutes`
    seconds = rng.lognormvariate(mu, sigma) if sigma > 0 else params.minutes * 60
    rate = params.fee_low + (params.fee_high - params.fee_low) * Decimal(repr(rng.random()))
    arrived = rng.random() < params.success_rate
    fee = (amount * rate).quantize(FEN, rounding=ROUND_HALF_UP) if arrived else Decimal(0)
    return arrived, seconds, min(fee, amount)


def _gives_up(behaviour: Behaviour, attempts: int, rng: random.Random) -> bool:
    draw = rng.random()  # drawn on every failure, so a change of give_up_share moves no other draw
    return attempts >= behaviour.max_attempts or draw < behaviour.give_up_share


def simulate_route(config: StudyConfig, name: str, amount: Decimal, rng: random.Random) -> Outcome:
    """One transfer over a measured route, with retries as the behaviour section says."""
    params = config.routes[name]
    seconds, fee, attempts = 0.0, Decimal(0), 0
    while True:
        attempts += 1
        arrived, took, paid = _route_attempt(params, amount, rng)
        seconds += took
        fee += paid
        if arrived:
            return Outcome(amount, True, seconds, fee, attempts, bank_route.ON_B, f"{attempts} attempt(s)")
        if _gives_up(config.behaviour, attempts, rng):
            return Outcome(amount, False, seconds, fee, attempts, ON_A_REFUSED, f"gave up after {attempts} attempt(s)")


def simulate_bank(config: StudyConfig, amount: Decimal, rng: random.Random) -> Outcome:
    """One transfer over the bank-card route; a retry after a failed top-up starts from the card."""
    seconds, fee, attempts, on_card = 0.0, Decimal(0), 0, False
    while True:
        attempts += 1
        t = bank_route.simulate(config.bank_route, amount, rng, from_card=on_card)
        seconds += t.seconds
        fee += t.fee
        on_card = t.money_at == bank_route.ON_CARD
        detail = f"{bank_route.withdrawals_detail(t.chunks)}, {attempts} attempt(s)"
        if t.delivered:
            return Outcome(amount, True, seconds, fee, attempts, bank_route.ON_B, detail)
        if _gives_up(config.behaviour, attempts, rng):
            return Outcome(amount, False, seconds, fee, attempts, t.money_at, f"gave up: {detail}")
