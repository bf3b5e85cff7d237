from decimal import Decimal

import pytest

from chainpay.core.errors import InvalidAmount
from chainpay.core.money import from_base_units, parse_amount, to_base_units


@pytest.mark.parametrize(
    "amount, decimals, units",
    [
        (Decimal("12.34"), 2, 1234),
        (Decimal("12.30"), 2, 1230),
        (Decimal("12.3"), 2, 1230),
        (Decimal("1E+3"), 2, 100000),
        (Decimal("0.01"), 2, 1),
        (7, 2, 700),
        ("5000", 2, 500000),
        (" 1_000.5 ", 2, 100050),
        (Decimal("0"), 2, 0),
        (Decimal("123"), 0, 123),
        (Decimal("0.000000000000000001"), 18, 1),
        (10**30, 2, 10**32),
    ],
)
def test_valid_amounts_convert_exactly(amount, decimals, units):
    assert to_base_units(amount, decimals) == units


@pytest.mark.parametrize(
    "amount, message",
    [
        (1.5, "float"),
        (0.1, "float"),
        (True, "bool"),
        (Decimal("-1"), "negative"),
        (-1, "negative"),
        ("-0.01", "negative"),
        (Decimal("-0"), "negative"),
        (Decimal("0.001"), "more than 2 decimal places"),
        ("1.234", "more than 2 decimal places"),
        (Decimal("NaN"), "not a finite number"),
        (Decimal("Infinity"), "not a finite number"),
        ("abc", "not a number"),
        ("", "not a number"),
        (None, "not a money amount"),
        ([1], "not a money amount"),
    ],
)
def test_invalid_amounts_are_refused_with_a_reason(amount, message):
    with pytest.raises(InvalidAmount, match=message):
        to_base_units(amount, 2)


def test_invalid_amount_is_also_a_value_error():
    with pytest.raises(ValueError):
        to_base_units(0.5, 2)


def test_zero_can_be_refused():
    with pytest.raises(InvalidAmount, match="greater than zero"):
        to_base_units(Decimal("0.00"), 2, allow_zero=False)
    assert parse_amount("0", 2) == 0


def test_from_base_units_keeps_the_token_precision():
    assert from_base_units(1234, 2) == Decimal("12.34")
    assert str(from_base_units(100, 2)) == "1.00"
    assert str(from_base_units(0, 2)) == "0.00"
    assert str(from_base_units(5, 0)) == "5"
    with pytest.raises(InvalidAmount):
        from_base_units(1.0, 2)


def test_round_trip_over_many_values():
    for units in list(range(0, 2000, 7)) + [10**20 + 3]:
        assert to_base_units(from_base_units(units, 2), 2) == units
