"""The direct encoder of one-word static arguments (chainpay/core/abi.py) against eth-abi: the same
bytes for every value eth-abi accepts, and the same InvalidInput for every value it refuses."""

from __future__ import annotations

import pytest
from eth_abi import encode as abi_encode
from eth_utils import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from chainpay.core import errors
from chainpay.core.abi import Function, _word_encoders


def _function(*types: str) -> Function:
    return Function("f", b"\x12\x34\x56\x78", tuple(types), (), "nonpayable")


def _reference(types, args):
    """What chainpay produced before the direct encoder: eth-abi, refusals as InvalidInput."""
    try:
        return b"\x12\x34\x56\x78" + abi_encode(list(types), list(args))
    except Exception:
        return errors.InvalidInput


def _ours(types, args):
    try:
        return _function(*types).encode(args)
    except errors.InvalidInput:
        return errors.InvalidInput


addresses = st.binary(min_size=20, max_size=20).flatmap(lambda raw: st.sampled_from([
    to_checksum_address(raw), "0x" + raw.hex(), "0x" + raw.hex().upper(), raw,
    to_checksum_address(raw).swapcase().replace("0X", "0x"),  # a wrong checksum: eth-abi encodes it anyway
    "0x" + raw.hex()[:-1]]))
EDGES = [0, -1, True, False, 1.0, "1", None]
uints = st.one_of(st.integers(min_value=-3, max_value=2**256 + 3), st.sampled_from([2**256 - 1, 2**256, *EDGES]))
small_uints = st.one_of(st.integers(min_value=-2, max_value=2**48 + 2), st.sampled_from([2**48 - 1, 2**48, *EDGES]))
bools = st.sampled_from([True, False, 0, 1, None])
bytes32 = st.one_of(st.binary(min_size=0, max_size=33), st.text(max_size=3))
VALUES = {"address": addresses, "uint256": uints, "uint48": small_uints, "bool": bools, "bytes32": bytes32}


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(sorted(VALUES)), min_size=1, max_size=4).flatmap(
    lambda types: st.tuples(st.just(tuple(types)), st.tuples(*(VALUES[t] for t in types)))))
def test_direct_encoder_agrees_with_eth_abi(case):
    types, args = case
    assert _ours(types, args) == _reference(types, args)


def test_direct_encoder_covers_the_currency_transfer_and_leaves_dynamic_types_to_eth_abi():
    assert _word_encoders(("address", "uint256")) is not None
    assert _word_encoders(("address", "string")) is None
    assert _word_encoders(("uint256[]",)) is None


@pytest.mark.parametrize("value, message", [(-1, "argument 2 must be a whole number"), (2**256, "argument 2"),
                                            (1.5, "argument 2"), (True, "argument 2")])
def test_refusals_name_the_argument(value, message):
    with pytest.raises(errors.InvalidInput, match=message):
        _function("address", "uint256").encode(["0x" + "ab" * 20, value])
