"""Exceptions raised by chainpay.

Every Solidity custom error in the committed artifacts becomes a Python exception class of the same
name (``chainpay.errors.DailyLimitExceeded``), a subclass of :class:`ContractRevert`, carrying the
error's arguments as attributes under their Solidity names and snake_case aliases. web3.py alone
only reports a raw 4-byte selector; :func:`decode_revert` turns revert data into these classes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import keccak

from .abitypes import canonical_type, normalise

__all__ = [
    "ChainpayError",
    "InvalidInput",
    "InvalidAmount",
    "WrongType",
    "CompilerError",
    "ChainConnectionError",
    "ManifestError",
    "NoContractCode",
    "DeploymentIncomplete",
    "SigningError",
    "TransactionFailed",
    "ContractRevert",
    "Panic",
    "RevertedWithReason",
    "UnknownRevert",
    "decode_revert",
    "revert_class",
]


class ChainpayError(Exception):
    """Base of every error chainpay raises on purpose."""


class InvalidInput(ChainpayError, ValueError):
    """An argument was refused before anything was sent (a memo too long, a malformed policy, ...)."""


class WrongType(InvalidInput, TypeError):
    """An argument of the wrong kind (None where an account is due, no sender where one is needed)."""


class InvalidAmount(InvalidInput):
    """A money amount was refused before anything was sent (float, negative, too precise, not a number)."""


class CompilerError(ChainpayError):
    """The Solidity build could not run or reported errors."""


class ChainConnectionError(ChainpayError):
    """No usable chain at the given URL, or the chain lacks what was asked of it."""


class ManifestError(ChainpayError):
    """A deployment manifest is missing, malformed, or names contracts the chain does not have."""


class NoContractCode(ManifestError):
    """An address a manifest (or a client) names has no contract code on the connected chain."""


class DeploymentIncomplete(ChainpayError):
    """A deployment stopped half way; `deployed` maps each contract deployed so far to its address."""

    def __init__(self, message: str, deployed: dict[str, str]):
        super().__init__(message)
        self.deployed = dict(deployed)


class SigningError(ChainpayError):
    """An off-chain signature was asked of an account whose key chainpay does not hold."""


class TransactionFailed(ChainpayError):
    """A transaction failed without revert data (e.g. out of gas)."""

    def __init__(self, message: str, tx_hash: str | None = None):
        super().__init__(message)
        self.tx_hash = tx_hash


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


# Role hashes shown by name in messages (AccessControlUnauthorizedAccount carries a bytes32 role).
_ROLE_NAMES = {keccak(text=r): r for r in ("ISSUER", "PAUSER", "COMPLIANCE", "KYC_OFFICER")}
_ROLE_NAMES[b"\x00" * 32] = "DEFAULT_ADMIN"


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return _ROLE_NAMES.get(value) or "0x" + value.hex()
    return str(value)


class ContractRevert(ChainpayError):
    """A contract call or transaction reverted with a decodable reason."""

    error_name: str = "ContractRevert"
    signature: str = ""
    selector: bytes = b""
    arg_names: tuple[str, ...] = ()

    def __init__(self, *values: Any, tx_hash: str | None = None):
        self.values = values
        self.tx_hash = tx_hash
        self.arguments = dict(zip(self.arg_names, values))
        for name, value in self.arguments.items():
            setattr(self, name, value)
            setattr(self, _snake(name), value)
        shown = ", ".join(f"{k}={_show(v)}" for k, v in self.arguments.items())
        super().__init__(f"{self.error_name}({shown})")


class Panic(ContractRevert):
    """Solidity Panic(uint256): an assert, overflow or similar bug-class failure."""

    error_name = "Panic"
    signature = "Panic(uint256)"
    selector = keccak(text=signature)[:4]
    arg_names = ("code",)


class RevertedWithReason(ContractRevert):
    """A plain ``revert("...")``/``require(.., "...")`` string (chainpay's own contracts never use them)."""

    error_name = "Error"
    signature = "Error(string)"
    selector = keccak(text=signature)[:4]
    arg_names = ("reason",)


class UnknownRevert(ContractRevert):
    """Revert data whose selector no known artifact declares."""

    error_name = "UnknownRevert"
    arg_names = ("data",)


# selector -> (class, ABI input types)
_BY_SELECTOR: dict[bytes, tuple[type[ContractRevert], list[str]]] = {
    Panic.selector: (Panic, ["uint256"]),
    RevertedWithReason.selector: (RevertedWithReason, ["string"]),
}


def register_errors(abi: list[dict]) -> None:
    """Create (once) an exception class for every custom error in `abi`."""
    for entry in abi:
        if entry.get("type") != "error":
            continue
        name = entry["name"]
        types = [canonical_type(i) for i in entry["inputs"]]
        signature = f"{name}({','.join(types)})"
        selector = keccak(text=signature)[:4]
        if selector in _BY_SELECTOR:
            continue
        existing = globals().get(name)
        if isinstance(existing, type) and issubclass(existing, ContractRevert):
            raise CompilerError(f"two Solidity errors named {name} with different arguments: {existing.signature} and {signature}")
        names = tuple(i["name"] or f"arg{n}" for n, i in enumerate(entry["inputs"]))
        cls = type(
            name,
            (ContractRevert,),
            {"error_name": name, "signature": signature, "selector": selector, "arg_names": names, "__module__": __name__,
             "__doc__": f"Solidity custom error ``{signature}``."},
        )
        globals()[name] = cls
        __all__.append(name)
        _BY_SELECTOR[selector] = (cls, types)


def revert_class(name: str) -> type[ContractRevert]:
    """The exception class for a Solidity error name (KeyError if no artifact declares it)."""
    cls = globals().get(name)
    if isinstance(cls, type) and issubclass(cls, ContractRevert):
        return cls
    raise KeyError(name)


def decode_revert(data: bytes | str | None, tx_hash: str | None = None) -> ContractRevert | TransactionFailed:
    """Turn raw revert data into the matching typed exception."""
    if isinstance(data, str):
        data = bytes.fromhex(data.removeprefix("0x"))
    if not data:
        return TransactionFailed("transaction reverted without a reason (out of gas or a bare revert)", tx_hash)
    known = _BY_SELECTOR.get(bytes(data[:4]))
    if known is None:
        return UnknownRevert("0x" + bytes(data).hex(), tx_hash=tx_hash)
    cls, types = known
    try:
        values = abi_decode(types, bytes(data[4:]))
    except Exception:
        return UnknownRevert("0x" + bytes(data).hex(), tx_hash=tx_hash)
    return cls(*(normalise(v, t) for v, t in zip(values, types)), tx_hash=tx_hash)


def _load_committed_artifacts() -> None:
    directory = Path(__file__).resolve().parents[1] / "artifacts"  # chainpay/artifacts (compiler.ARTIFACTS_DIR)
    for path in sorted(directory.glob("*.json")):
        register_errors(json.loads(path.read_text())["abi"])


_load_committed_artifacts()
