"""ABI type strings and decoded-value normalisation, shared by the codec (abi.py) and the error
decoder (errors.py); kept free of chainpay imports so both can use it without an import cycle."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from eth_utils import to_checksum_address


@lru_cache(maxsize=1 << 16)
def checksum(address: str | bytes) -> str:
    """EIP-55 checksummed address (raw 20 bytes or hex), cached: eth-utils takes ~20-70 us per
    address and a chain's events name the same few addresses over and over."""
    if isinstance(address, bytes):
        address = "0x" + address.hex()
    return to_checksum_address(address)


def canonical_type(inp: dict) -> str:
    """The canonical ABI type of an ABI input/output entry (tuples spelled out, as in selectors)."""
    t = inp["type"]
    if t.startswith("tuple"):
        return "(" + ",".join(canonical_type(c) for c in inp["components"]) + ")" + t[5:]
    return t


def normalise(value: Any, abi_type: str) -> Any:
    """Decoded ABI value -> Python value users expect (checksummed addresses, lists not tuples)."""
    if abi_type == "address":
        return checksum(value)
    if abi_type.endswith("[]") and isinstance(value, (list, tuple)):
        return [normalise(v, abi_type[:-2]) for v in value]
    return value
