"""Artifacts and a lean ABI codec.

Calldata is encoded with eth-abi from selectors precomputed per function, and logs are decoded
through one topic table built from every artifact. This skips web3.py's per-call function lookup and
argument normalisation, which dominates the cost of a transaction on the in-process chain.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Sequence

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_abi import is_encodable
from eth_utils import keccak

from . import errors
from .abitypes import canonical_type as _type
from .abitypes import checksum, normalise
from .compiler import ARTIFACTS_DIR


@dataclass(frozen=True)
class Function:
    name: str
    selector: bytes
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    mutability: str

    def encode(self, args: Sequence[Any]) -> bytes:
        if len(args) != len(self.inputs):
            raise errors.InvalidInput(f"{self.name} takes {len(self.inputs)} arguments ({', '.join(self.inputs)}), got {len(args)}")
        words = _word_encoders(self.inputs)
        if words is not None:  # every argument is one static word: encode it here when it is plainly valid
            try:
                return self.selector + b"".join([encode(value) for encode, value in zip(words, args)])
            except _NotPlain:
                pass  # eth-abi decides (and names the culprit if the value does not fit)
        return self.selector + encode_args(self.name, self.inputs, args)

    def decode(self, data: bytes) -> Any:
        """The return value: a single value, a tuple for several, None for none."""
        if not data and self.outputs:
            raise errors.NoContractCode(f"{self.name}() returned nothing: no contract code at that address")
        values = [normalise(v, t) for v, t in zip(abi_decode(self.outputs, data), self.outputs)]
        if not values:
            return None
        return values[0] if len(values) == 1 else tuple(values)


class _NotPlain(Exception):
    """A value the direct word encoder leaves to eth-abi (valid or not: eth-abi's rules decide)."""


def _uint_word(bits: int):
    bound = 1 << bits

    def encode(value) -> bytes:
        if type(value) is not int or not 0 <= value < bound:
            raise _NotPlain
        return value.to_bytes(32, "big")
    return encode


def _address_word(value) -> bytes:
    # a checksummed (or all-lower-case) 0x address; anything else (bytes, a bad checksum) goes to eth-abi
    if type(value) is not str or len(value) != 42 or value[:2] != "0x" or (value != checksum(value) and value != value.lower()):
        raise _NotPlain
    try:
        return bytes(12) + bytes.fromhex(value[2:])
    except ValueError:
        raise _NotPlain from None


def _bool_word(value) -> bytes:
    if type(value) is not bool:
        raise _NotPlain
    return bytes(31) + (b"\x01" if value else b"\x00")


def _fixed_bytes_word(size: int):
    def encode(value) -> bytes:
        if type(value) is not bytes or len(value) != size:
            raise _NotPlain
        return value + bytes(32 - size)
    return encode


@cache
def _word_encoders(types: tuple[str, ...]) -> tuple | None:
    """Direct encoders when every type in `types` is one static ABI word (uintN, address, bool, bytesN),
    else None. ~10x cheaper than eth-abi's general encoder; a value they do not plainly accept is
    handed to eth-abi, so what is accepted and refused stays eth-abi's rule."""
    out = []
    for abi_type in types:
        if abi_type == "address":
            out.append(_address_word)
        elif abi_type == "bool":
            out.append(_bool_word)
        elif abi_type.startswith("uint") and (abi_type[4:] or "256").isdigit():
            out.append(_uint_word(int(abi_type[4:] or 256)))
        elif abi_type.startswith("bytes") and abi_type[5:].isdigit():
            out.append(_fixed_bytes_word(int(abi_type[5:])))
        else:
            return None
    return tuple(out)


def encode_args(what: str, types: Sequence[str], args: Sequence[Any]) -> bytes:
    """ABI-encode `args`; a value the ABI type cannot hold is InvalidInput naming the argument
    (never eth-abi's EncodingTypeError or an OverflowError), raised before anything is sent."""
    try:
        return abi_encode(list(types), list(args))
    except Exception:  # eth-abi's EncodingError family, OverflowError, TypeError: find the culprit
        for n, (abi_type, value) in enumerate(zip(types, args), 1):
            if not is_encodable(abi_type, value):
                shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
                raise errors.InvalidInput(f"{what}: argument {n} must be a {_describe(abi_type)}, got {shown}") from None
        raise errors.InvalidInput(f"{what}: arguments {args!r} do not fit ({', '.join(types)})") from None


def _describe(abi_type: str) -> str:
    if abi_type.startswith("uint"):
        return f"whole number in 0..2**{abi_type[4:] or 256}-1 ({abi_type})"
    if abi_type.startswith("int"):
        return f"whole number ({abi_type})"
    if abi_type == "address":
        return "checksummed 0x address"
    if abi_type.startswith("bytes") and abi_type[5:].isdigit():
        return f"{abi_type[5:]}-byte value ({abi_type})"
    return abi_type


@dataclass(frozen=True)
class EventSpec:
    name: str
    topic: bytes
    indexed: tuple[tuple[str, str], ...]  # (name, type)
    data: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Artifact:
    name: str
    abi: list[dict]
    bytecode: bytes
    functions: dict[str, Function] = field(repr=False)
    constructor_inputs: tuple[str, ...] = ()

    def fn(self, name: str) -> Function:
        try:
            return self.functions[name]
        except KeyError:
            raise AttributeError(f"contract {self.name} has no function {name}") from None

    def event_topic(self, name: str) -> bytes:
        """Topic 0 (the signature hash) of the event called `name`."""
        for entry in self.abi:
            if entry.get("type") == "event" and entry["name"] == name:
                return keccak(text=f"{name}({','.join(_type(i) for i in entry['inputs'])})")
        raise AttributeError(f"contract {self.name} has no event {name}")

    def deploy_data(self, args: Sequence[Any]) -> bytes:
        return self.bytecode + encode_args(f"{self.name} constructor", self.constructor_inputs, args)


_EVENTS: dict[bytes, EventSpec] = {}


def _register_events(abi: list[dict]) -> None:
    for entry in abi:
        if entry.get("type") != "event" or entry.get("anonymous"):
            continue
        types = [_type(i) for i in entry["inputs"]]
        topic = keccak(text=f"{entry['name']}({','.join(types)})")
        _EVENTS.setdefault(
            topic,
            EventSpec(
                entry["name"],
                topic,
                tuple((i["name"], _type(i)) for i in entry["inputs"] if i["indexed"]),
                tuple((i["name"], _type(i)) for i in entry["inputs"] if not i["indexed"]),
            ),
        )


@cache
def load_artifact(name: str) -> Artifact:
    """The committed artifact of contract `name` (see `chainpay compile`)."""
    path = ARTIFACTS_DIR / f"{name}.json"
    if not path.is_file():
        raise errors.CompilerError(f"no artifact for {name} in {path.parent}: run `chainpay compile`")
    raw = json.loads(path.read_text())
    functions = {}
    constructor: tuple[str, ...] = ()
    for entry in raw["abi"]:
        if entry["type"] == "function":
            if entry["name"] in functions:
                raise errors.CompilerError(f"{name}.{entry['name']} is overloaded; chainpay's contracts avoid overloads")
            ins = tuple(_type(i) for i in entry["inputs"])
            functions[entry["name"]] = Function(
                entry["name"],
                keccak(text=f"{entry['name']}({','.join(ins)})")[:4],
                ins,
                tuple(_type(o) for o in entry["outputs"]),
                entry["stateMutability"],
            )
        elif entry["type"] == "constructor":
            constructor = tuple(_type(i) for i in entry["inputs"])
    _register_events(raw["abi"])
    errors.register_errors(raw["abi"])
    return Artifact(name, raw["abi"], bytes.fromhex(raw["bytecode"][2:]), functions, constructor)


@dataclass(frozen=True)
class Event:
    """A decoded log: event name, emitting contract and arguments by Solidity name."""

    name: str
    address: str
    args: dict[str, Any]
    log_index: int

    def __getitem__(self, key: str) -> Any:
        return self.args[key]


def _word_decoder(abi_type: str):
    """A decoder of one 32-byte ABI word of a basic static type (None for any other type): events
    of chainpay's contracts are mostly these, and eth-abi's general decoder costs ~20x more."""
    if abi_type == "address":
        return lambda word: checksum(word[12:])
    if abi_type == "bool":
        return lambda word: word[31] == 1
    if abi_type.startswith("uint"):
        return lambda word: int.from_bytes(word, "big")
    if abi_type.startswith("int"):
        return lambda word: int.from_bytes(word, "big", signed=True)
    if abi_type.startswith("bytes") and abi_type[5:].isdigit():
        size = int(abi_type[5:])
        return lambda word: bytes(word[:size])
    return None


@dataclass(frozen=True)
class _EventDecoder:
    indexed: tuple  # (name, word decoder, or None: a dynamic type, kept as its topic hash)
    data: tuple | None  # (name, word decoder) when every data argument is one word; None: use eth-abi
    data_types: tuple[str, ...]


@cache
def _decoder(spec: EventSpec) -> _EventDecoder:
    indexed = tuple((name, _word_decoder(t) or _general_topic(t)) for name, t in spec.indexed)
    words = [(name, _word_decoder(t)) for name, t in spec.data]
    data = tuple(words) if all(d is not None for _, d in words) else None
    return _EventDecoder(indexed, data, tuple(t for _, t in spec.data))


def _general_topic(abi_type: str):
    dynamic = abi_type in ("string", "bytes") or abi_type.endswith("]") or abi_type.startswith("(")
    if dynamic:
        return bytes  # an indexed dynamic value is only its keccak hash
    return lambda topic: normalise(abi_decode([abi_type], topic)[0], abi_type)


def decode_log(address: str, topics: Sequence[bytes], data: bytes, log_index: int) -> Event | None:
    """Decode one log with the topic table; None for logs no artifact declares."""
    if not topics:
        return None
    spec = _EVENTS.get(bytes(topics[0]))
    if spec is None or len(topics) != len(spec.indexed) + 1:
        return None
    decoder = _decoder(spec)
    args: dict[str, Any] = {}
    for (name, decode), topic in zip(decoder.indexed, topics[1:]):
        args[name] = decode(bytes(topic))
    if decoder.data is not None and len(data) == 32 * len(decoder.data):
        for i, (name, decode) in enumerate(decoder.data):
            args[name] = decode(data[32 * i: 32 * i + 32])
    else:
        for (name, t), value in zip(spec.data, abi_decode(list(decoder.data_types), bytes(data))):
            args[name] = normalise(value, t)
    return Event(spec.name, checksum(address), args, log_index)


def load_all_artifacts() -> list[str]:
    """Load every committed artifact (fills the event and error tables); returns their names."""
    names = sorted(p.stem for p in ARTIFACTS_DIR.glob("*.json"))
    for name in names:
        load_artifact(name)
    return names
