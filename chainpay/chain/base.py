"""The Chain API every engine implements: accounts, Receipt, send / call / deploy / logs, block time,
``advance_time``, ``set_next_block_time``, ``snapshot`` / ``revert``.

Engines live beside this module, one each (``tester`` = eth-tester in process, ``rpc`` = any JSON-RPC
node); :func:`chainpay.chain.connect` picks one. An engine supplies the few primitives marked
abstract below; decoding, typed errors and receipts are shared here so that every engine reports a
transaction the same way.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Sequence

from eth_account import Account as EthAccount
from eth_utils import to_checksum_address

from ..core import errors
from ..core.abi import Event, decode_log, load_all_artifacts, load_artifact
from .index import LogIndex

log = logging.getLogger(__name__)

DEFAULT_TX_GAS = 3_000_000
DEFAULT_DEPLOY_GAS = 15_000_000


@dataclass(frozen=True)
class Account:
    """An address, with its private key when chainpay holds it (None for node-managed accounts)."""

    address: str
    key: bytes | None = None

    def __str__(self) -> str:
        return self.address


@dataclass(frozen=True)
class Receipt:
    """What a state-changing call returns: enough for studies to account for cost."""

    tx_hash: str
    block_number: int
    gas_used: int
    events: tuple[Event, ...]
    contract_address: str | None = None

    def events_named(self, name: str) -> list[Event]:
        return [e for e in self.events if e.name == name]

    def event(self, name: str) -> Event:
        """The single event called `name` (ValueError if there is not exactly one)."""
        found = self.events_named(name)
        if len(found) != 1:
            raise ValueError(f"expected one {name} event in {self.tx_hash}, found {len(found)}")
        return found[0]


AccountLike = Account | str | int


class Chain(ABC):
    """Common behaviour of every engine; see :func:`connect`."""

    rpc_url: str | None = None
    engine: str = "?"
    # True when every block of the chain is made by this object (in-process engines): the event index
    # then learns from receipts and reads only blocks it did not see; on a node it reads new ranges.
    trusted_blocks: bool = False

    def __init__(self, accounts: Sequence[Account]):
        self.accounts: list[Account] = list(accounts)
        self._by_address = {a.address.lower(): a for a in self.accounts}
        load_all_artifacts()  # event and error tables for decoding
        self.index = LogIndex(self, trusted=self.trusted_blocks, head=self.block_number if self.trusted_blocks else -1)

    # ---------------------------------------------------------------- accounts
    def account(self, who: AccountLike) -> Account:
        """An Account from an index into ``accounts``, an address, or an Account."""
        if isinstance(who, Account):
            return who
        if isinstance(who, int) and not isinstance(who, bool):
            if not 0 <= who < len(self.accounts):
                raise errors.InvalidInput(f"this chain has {len(self.accounts)} accounts (#0..#{len(self.accounts) - 1}); "
                                          f"no account #{who}")
            return self.accounts[who]
        if isinstance(who, str):
            address = checked_address(who)
            return self._by_address.get(address.lower()) or Account(address)
        raise errors.WrongType(f"not an account: {who!r} (an address, an index into the chain's accounts, or an Account)")

    def add_account(self, private_key: bytes | str) -> Account:
        """Make chainpay hold a key (a new key gets no funds; see fund())."""
        acct = EthAccount.from_key(private_key)
        account = Account(acct.address, bytes(acct.key))
        self.accounts.append(account)
        self._by_address[account.address.lower()] = account
        return account

    # ---------------------------------------------------------------- interface
    @property
    @abstractmethod
    def chain_id(self) -> int: ...

    @property
    @abstractmethod
    def block_number(self) -> int: ...

    @abstractmethod
    def block_timestamp(self, block: int | str = "latest") -> int: ...

    @abstractmethod
    def _send(self, sender: Account, tx: dict) -> dict: ...

    @abstractmethod
    def _call(self, tx: dict, block: int | str) -> bytes: ...

    @abstractmethod
    def advance_time(self, seconds: int) -> int:
        """Mine a block `seconds` after the latest one; returns its timestamp (the new ``now``).
        A node whose clock follows the wall clock may land later, never earlier."""

    @abstractmethod
    def set_next_block_time(self, timestamp: int) -> None:
        """Make the next transaction's block carry exactly `timestamp` (after the latest block)."""

    @abstractmethod
    def _snapshot(self) -> Any: ...

    @abstractmethod
    def _revert(self, snapshot_id: Any) -> None: ...

    @abstractmethod
    def eth_balance(self, who: AccountLike) -> int: ...

    @abstractmethod
    def _logs(self, address: str | list[str] | None, topics: list, from_block: int, to_block: int | str) -> list[dict]:
        """Raw logs in a block range (address None: every contract), each with its block_number;
        only the event index calls this, for ranges it has not seen."""

    # ---------------------------------------------------------------- shared behaviour
    def snapshot(self) -> Any:
        """A handle to the current state, for :meth:`revert`."""
        return self._snapshot()

    def revert(self, snapshot_id: Any) -> None:
        """Return the chain to a snapshot (the event index forgets the blocks reverted away)."""
        self._revert(snapshot_id)
        self.index.rewind(self.block_number)

    def logs(self, address: str, topics: Sequence[bytes | Sequence[bytes] | None] = (), *, from_block: int = 0,
             to_block: int | str = "latest") -> list[Event]:
        """Decoded events a contract emitted, oldest first. `topics` filters by position (topic 0
        is the event's signature hash; None matches anything; a list matches any of its items).
        Answered by the event index (see chain/index.py): no rescan of the chain's history."""
        return self.index.query(self.account(address).address, [_topic_filter(t) for t in topics], from_block, to_block)

    @property
    def now(self) -> int:
        """Timestamp of the latest block (the chain's clock)."""
        return self.block_timestamp("latest")

    def send(self, sender: AccountLike, to: str | None, data: bytes, value: int = 0, gas: int | None = None) -> Receipt:
        """Send a transaction, wait for it, and return its Receipt; a revert raises its typed error."""
        account = self.account(sender)
        tx = {"from": account.address, "data": data, "value": value}
        if to is not None:
            tx["to"] = to
        if gas is not None:
            tx["gas"] = gas
        raw = self._send(account, tx)
        return self._receipt(raw)

    def call(self, to: str, data: bytes, sender: AccountLike | None = None, block: int | str = "latest") -> bytes:
        """Execute without a transaction; a revert raises its typed error."""
        tx = {"to": to, "data": data}
        if sender is not None:
            tx["from"] = self.account(sender).address
        return self._call(tx, block)

    def deploy(self, artifact: str, args: Sequence[Any], sender: AccountLike) -> Receipt:
        """Deploy a contract from its committed artifact; the Receipt has contract_address."""
        art = load_artifact(artifact)
        receipt = self.send(sender, None, art.deploy_data(args), gas=DEFAULT_DEPLOY_GAS)
        log.info("deployed %s at %s (%d gas)", artifact, receipt.contract_address, receipt.gas_used)
        return receipt

    def _receipt(self, raw: dict) -> Receipt:
        events, seen = [], []
        for entry in raw["logs"]:
            event = decode_log(entry["address"], entry["topics"], entry["data"], entry["log_index"])
            if event is not None:
                events.append(event)
                seen.append({"address": event.address, "topics": entry["topics"], "log_index": event.log_index, "event": event})
        if self.trusted_blocks:  # the index learns this block from its receipt (one transaction per block)
            self.index.saw_block(raw["block_number"], seen)
        contract = raw.get("contract_address")
        return Receipt(
            tx_hash=raw["tx_hash"],
            block_number=raw["block_number"],
            gas_used=raw["gas_used"],
            events=tuple(events),
            contract_address=to_checksum_address(contract) if contract else None,
        )

    def describe(self) -> str:
        return self.rpc_url or "in-process eth-tester chain"

    def close(self) -> None:
        """Release what the engine holds (the EDR engine's node process; nothing for the others)."""

    def __enter__(self) -> "Chain":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def checked_address(text: str) -> str:
    """The checksummed form of a 0x address; refuses a malformed one and a mixed-case one whose
    EIP-55 checksum is wrong (a typo the checksum exists to catch). All-lower/upper-case is unchecked."""
    text = text.strip()
    digits = text[2:] if text[:2] in ("0x", "0X") else None
    if digits is None or len(digits) != 40 or any(c not in "0123456789abcdefABCDEF" for c in digits):
        raise errors.InvalidInput(f"{text!r} is not an address (0x and 40 hex digits)")
    address = to_checksum_address("0x" + digits)
    if digits != digits.lower() and digits != digits.upper() and "0x" + digits != address:
        raise errors.InvalidInput(f"{text} has a wrong EIP-55 checksum (mixed case that is not {address}): "
                                  "a mistyped address? Check it, or give it in lower case")
    return address


def _topic_filter(topic):
    if topic is None:
        return None
    if isinstance(topic, (bytes, bytearray)):
        return "0x" + bytes(topic).hex()
    return ["0x" + bytes(t).hex() for t in topic]
