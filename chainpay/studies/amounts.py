"""Transfer amounts for the study: micropayment-heavy, with a tail of large transfers."""

from __future__ import annotations

import math
import random
from decimal import ROUND_HALF_UP, Decimal

from .config import Amounts

FEN = Decimal("0.01")


def draw_amounts(params: Amounts, n: int, rng: random.Random) -> list[Decimal]:
    """`n` amounts in yuan (to the fen): with probability micro_share a lognormal micropayment truncated
    to [micro_min, micro_max), otherwise log-uniform on [micro_max, tail_max]."""
    out = []
    for _ in range(n):
        if rng.random() < params.micro_share:
            value = rng.lognormvariate(math.log(params.micro_median), params.micro_sigma)
            while not params.micro_min <= value < params.micro_max:  # truncated, not clipped: no spike at the bounds
                value = rng.lognormvariate(math.log(params.micro_median), params.micro_sigma)
        else:
            value = math.exp(rng.uniform(math.log(params.micro_max), math.log(params.tail_max)))
        amount = Decimal(repr(value)).quantize(FEN, rounding=ROUND_HALF_UP)
        out.append(max(amount, FEN))
    return out
