"""Today's bank route between two wallet platforms, simulated: wallet A -> bank card -> wallet B.

Per transfer: the amount leaves wallet A in chunks of at most the daily withdrawal limit, one chunk a
day; each chunk is withdrawn (a uniform 1-30 min, 0.1 % fee, a minimum only if switched on) and topped up into wallet
B (the 2-24 h window, mostly just after the floor: see bridging.toml), plus the time lost switching
apps. An attempt fails with the configured rate, either at the withdrawal (the money never left
wallet A, no fee) or at the top-up (the first chunk sits on the bank card, its fee paid). This is one
attempt; routes.py decides whether the user tries again. All parameters come from StudyConfig.bank_route.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from ..bridge.crossing import DELIVERED
from .config import BankRoute

DAY = 86400
FEN = Decimal("0.01")

ON_A = "on A (the withdrawal failed)"
ON_CARD = "on the bank card (the top-up failed)"
ON_B = DELIVERED


@dataclass(frozen=True)
class BankTransfer:
    amount: Decimal
    delivered: bool
    seconds: float  # to delivery, or until the failure shows
    fee: Decimal
    chunks: int  # withdrawals needed under the daily limit
    money_at: str


def withdrawals_detail(chunks: int) -> str:
    """How a study row says how many daily withdrawals a transfer needed."""
    return f"{chunks} withdrawal{'s' if chunks != 1 else ''}"


def withdrawal_fee(params: BankRoute, chunk: Decimal) -> Decimal:
    """0.1 % of the chunk; with the minimum-fee switch on, at least withdrawal_fee_min (never above the chunk)."""
    fee = chunk * params.withdrawal_fee_rate
    if params.minimum_fee:
        fee = max(fee, params.withdrawal_fee_min)
    return min(fee, chunk).quantize(FEN, rounding=ROUND_HALF_UP)


def chunks_of(params: BankRoute, amount: Decimal) -> list[Decimal]:
    """The withdrawals the daily limit forces: full-limit chunks, then the rest."""
    limit = params.daily_withdrawal_limit
    full, rest = divmod(amount, limit)
    return [limit] * int(full) + ([rest] if rest else [])


def _withdrawal_seconds(params: BankRoute, rng: random.Random) -> float:
    low, high = params.withdrawal_minutes
    return rng.uniform(low, high) * 60


def _topup_seconds(params: BankRoute, rng: random.Random) -> float:
    low, high = (h * 3600 for h in params.topup_hours)
    if rng.random() < params.topup_slow_share:
        return rng.uniform(low, high)
    extra = rng.expovariate(1 / (params.topup_fast_extra_minutes * 60)) if params.topup_fast_extra_minutes > 0 else 0.0
    return min(low + extra, high)


def simulate(params: BankRoute, amount: Decimal, rng: random.Random, *, from_card: bool = False) -> BankTransfer:
    """One attempt to move `amount` over the bank route (`from_card`: a retry whose money already sits on
    the bank card after a failed top-up, so only the top-up is tried again)."""
    chunks = chunks_of(params, amount)
    switching = params.app_switches * params.app_switch_seconds
    failed = rng.random() < params.failure_rate
    at_withdrawal = failed and rng.random() < params.failure_at_withdrawal_share
    if from_card:
        seconds = _topup_seconds(params, rng) + switching / 2
        return BankTransfer(amount, not failed, seconds, Decimal(0), len(chunks), ON_CARD if failed else ON_B)
    if failed:
        withdrawal = _withdrawal_seconds(params, rng)
        if at_withdrawal:
            return BankTransfer(amount, False, withdrawal + switching / 2, Decimal(0), len(chunks), ON_A)
        seconds = withdrawal + _topup_seconds(params, rng) + switching
        fee = withdrawal_fee(params, chunks[0])
        return BankTransfer(amount, False, seconds, fee, len(chunks), ON_CARD)
    finish, fee = 0.0, Decimal(0)
    for day, chunk in enumerate(chunks):
        fee += withdrawal_fee(params, chunk) + (chunk * params.topup_fee_rate).quantize(FEN, rounding=ROUND_HALF_UP)
        finish = max(finish, day * DAY + _withdrawal_seconds(params, rng) + _topup_seconds(params, rng) + switching)
    return BankTransfer(amount, True, finish, fee, len(chunks), ON_B)


def expected_seconds_within_limit(params: BankRoute) -> float:
    """The model's mean time of a delivered single-chunk transfer (for documentation and tests)."""
    low, high = params.withdrawal_minutes
    top_low, top_high = (h * 3600 for h in params.topup_hours)
    extra = params.topup_fast_extra_minutes * 60
    # E[min(low + Exp, high)] = low + extra * (1 - exp(-(high - low) / extra))
    fast = top_low + (extra * (1 - math.exp(-(top_high - top_low) / extra)) if extra > 0 else 0)
    topup = params.topup_slow_share * (top_low + top_high) / 2 + (1 - params.topup_slow_share) * fast
    return (low + high) / 2 * 60 + topup + params.app_switches * params.app_switch_seconds
