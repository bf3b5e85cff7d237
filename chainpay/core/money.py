"""Decimal yuan <-> integer base units, refusing anything ambiguous before it reaches a chain.

Accepted amounts: ``Decimal``, ``int`` and decimal strings such as ``"12.34"`` (what a CLI or a
config file gives). Refused with :class:`InvalidAmount`: floats (binary fractions lose fen),
bools, NaN/infinity, negatives, and more decimal places than the token has.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Union

from .errors import InvalidAmount

Amount = Union[Decimal, int, str]


def parse_amount(amount: Amount, decimals: int, *, allow_zero: bool = True) -> Decimal:
    """Validate `amount` and return it as a Decimal in whole units."""
    if isinstance(amount, bool) or isinstance(amount, float):
        raise InvalidAmount(
            f"amount {amount!r} is a {type(amount).__name__}; pass a Decimal, an int or a string like '12.34'"
        )
    if isinstance(amount, str):
        try:
            value = Decimal(amount.strip().replace("_", ""))
        except InvalidOperation:
            raise InvalidAmount(f"amount {amount!r} is not a number") from None
    elif isinstance(amount, int):
        value = Decimal(amount)
    elif isinstance(amount, Decimal):
        value = amount
    else:
        raise InvalidAmount(f"amount {amount!r} of type {type(amount).__name__} is not a money amount")
    if not value.is_finite():
        raise InvalidAmount(f"amount {amount!r} is not a finite number")
    if value < 0 or (value == 0 and value.is_signed()):
        raise InvalidAmount(f"amount {amount!r} is negative")
    if value == 0 and not allow_zero:
        raise InvalidAmount("amount must be greater than zero")
    _, digits, exponent = value.as_tuple()
    # Exact integer arithmetic throughout: Decimal's context (28 digits) would round large amounts.
    coefficient = int("".join(map(str, digits))) if digits else 0
    while exponent < 0 and coefficient and coefficient % 10 == 0:
        coefficient //= 10
        exponent += 1
    if coefficient and -exponent > decimals:
        raise InvalidAmount(f"amount {amount!r} has more than {decimals} decimal places")
    return value


def to_base_units(amount: Amount, decimals: int, *, allow_zero: bool = True) -> int:
    """Whole units (yuan) -> integer base units (fen for decimals=2), exactly."""
    value = parse_amount(amount, decimals, allow_zero=allow_zero)
    _, digits, exponent = value.as_tuple()
    coefficient = int("".join(map(str, digits))) if digits else 0
    shift = exponent + decimals
    return coefficient * 10**shift if shift >= 0 else coefficient // 10**-shift  # exact: checked above


def from_base_units(units: int, decimals: int) -> Decimal:
    """Integer base units -> Decimal whole units with exactly `decimals` places (no context rounding)."""
    if isinstance(units, bool) or not isinstance(units, int):
        raise InvalidAmount(f"base units must be an int, got {units!r}")
    sign = 1 if units < 0 else 0
    return Decimal((sign, tuple(int(c) for c in str(abs(units))), -decimals))
