"""ABI type strings and decoded-value normalisation, shared by the codec (abi.py) and the error
decoder (errors.py); kept free of chainpay imports so both can use it without an import cycle."""

from __future__ import annotations

from typing import Any

from eth_utils import to_checksum_address


def canonical_type(inp: dict) -> str:
    """The canonical ABI type of an ABI input/output entry (tuples spelled out, as in selectors)."""
    t = inp["type"]
    if t.startswith("tuple"):
        return "(" + ",".join(canonical_type(c) for c in inp["components"]) + ")" + t[5:]
    return t


def normalise(value: Any, abi_type: str) -> Any:
    """Decoded ABI value -> Python value users expect (checksummed addresses, lists not tuples)."""
    if abi_type == "address":
        return to_checksum_address(value)
    if abi_type.endswith("[]") and isinstance(value, (list, tuple)):
        return [normalise(v, abi_type[:-2]) for v in value]
    return value
