"""Connect to a chain: an in-process eth-tester chain (default) or any Ethereum JSON-RPC node.

Both give the same API: accounts, ``send`` (waits for the receipt and raises the typed Solidity
error on revert), ``call``, ``deploy``, block time, ``advance_time``, ``snapshot``/``revert``.

Why two send paths:
- in-process: transactions go straight to ``EthereumTester`` with a fixed gas allowance and no
  pre-flight estimate, because py-evm is slow and web3.py's default path executes every
  transaction twice. A reverted transaction is replayed as a call to recover
  the revert data in its own block; the revert changed nothing but the sender's nonce and gas.
- JSON-RPC: gas is estimated first (a revert surfaces there and nothing is sent), then the
  transaction is signed locally when chainpay holds the key, or by the node for its own accounts.
"""

from __future__ import annotations

import ast
import logging
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Sequence

from eth_account import Account as EthAccount
from eth_utils import to_checksum_address

from . import errors
from .abi import Event, decode_log, load_all_artifacts, load_artifact

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
    """Common behaviour of both chain kinds; see :func:`connect`."""

    rpc_url: str | None = None

    def __init__(self, accounts: Sequence[Account]):
        self.accounts: list[Account] = list(accounts)
        self._by_address = {a.address.lower(): a for a in self.accounts}
        load_all_artifacts()  # event and error tables for decoding

    # ---------------------------------------------------------------- accounts
    def account(self, who: AccountLike) -> Account:
        """An Account from an index into ``accounts``, an address, or an Account."""
        if isinstance(who, Account):
            return who
        if isinstance(who, int) and not isinstance(who, bool):
            try:
                return self.accounts[who]
            except IndexError:
                raise errors.ChainpayError(f"this chain has {len(self.accounts)} accounts; no account #{who}") from None
        if isinstance(who, str):
            known = self._by_address.get(who.lower())
            if known:
                return known
            try:
                return Account(to_checksum_address(who))
            except ValueError:
                raise errors.InvalidInput(f"{who!r} is not an address (0x and 40 hex digits)") from None
        raise TypeError(f"not an account: {who!r}")

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
    def snapshot(self) -> Any:
        """A handle to the current state, for :meth:`revert`."""

    @abstractmethod
    def revert(self, snapshot_id: Any) -> None:
        """Return the chain to a snapshot."""

    @abstractmethod
    def eth_balance(self, who: AccountLike) -> int: ...

    @abstractmethod
    def _logs(self, address: str, topics: list, from_block: int, to_block: int | str) -> list[dict]: ...

    # ---------------------------------------------------------------- shared behaviour
    def logs(self, address: str, topics: Sequence[bytes | Sequence[bytes] | None] = (), *, from_block: int = 0,
             to_block: int | str = "latest") -> list[Event]:
        """Decoded events a contract emitted, oldest first. `topics` filters by position (topic 0
        is the event's signature hash; None matches anything; a list matches any of its items)."""
        raw = self._logs(self.account(address).address, [_topic_filter(t) for t in topics], from_block, to_block)
        decoded = (decode_log(e["address"], e["topics"], e["data"], e["log_index"]) for e in raw)
        return [e for e in decoded if e is not None]

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
        events = []
        for entry in raw["logs"]:
            event = decode_log(entry["address"], entry["topics"], entry["data"], entry["log_index"])
            if event is not None:
                events.append(event)
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


def _topic_filter(topic):
    if topic is None:
        return None
    if isinstance(topic, (bytes, bytearray)):
        return "0x" + bytes(topic).hex()
    return ["0x" + bytes(t).hex() for t in topic]


def _topics_match(actual: list[bytes], wanted: list) -> bool:
    for i, want in enumerate(wanted):
        if want is None:
            continue
        if i >= len(actual):
            return False
        options = [want] if isinstance(want, str) else want
        if "0x" + actual[i].hex() not in options:
            return False
    return True


def _as_bytes(value) -> bytes:
    return bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)


# ==================================================================== in-process chain
def _revert_bytes(exc: Exception) -> bytes | None:
    """eth-tester's TransactionFailed carries revert data as bytes, hex, or the repr of bytes."""
    for arg in exc.args:
        if isinstance(arg, (bytes, bytearray)):
            return bytes(arg)
        if isinstance(arg, str):
            if arg.startswith(("b'", 'b"')):
                try:
                    return ast.literal_eval(arg)
                except (ValueError, SyntaxError):
                    return None
            if arg.startswith("0x"):
                return bytes.fromhex(arg[2:])
    return None


class TesterChain(Chain):
    """py-evm through eth-tester, in this process. Its funded accounts use the well-known keys 1..N:
    for tests and demos only."""

    __test__ = False  # not a pytest test class, despite its name

    def __init__(self, num_accounts: int = 20):
        from eth_tester import EthereumTester, PyEVMBackend

        state = PyEVMBackend.generate_genesis_state(num_accounts=num_accounts)
        backend = PyEVMBackend(genesis_state=state)
        self.tester = EthereumTester(backend)
        accounts = [Account(k.public_key.to_checksum_address(), k.to_bytes()) for k in backend.account_keys]
        super().__init__(accounts)
        self._chain_id = int(self.tester.backend.chain.chain_id)
        self._w3 = None

    @property
    def w3(self):
        """A web3.py view of the same chain, for anything the SDK does not wrap."""
        if self._w3 is None:
            from web3 import EthereumTesterProvider, Web3

            self._w3 = Web3(EthereumTesterProvider(self.tester))
        return self._w3

    @property
    def chain_id(self) -> int:
        return self._chain_id

    @property
    def block_number(self) -> int:
        return self.tester.get_block_by_number("latest")["number"]

    def block_timestamp(self, block: int | str = "latest") -> int:
        return self.tester.get_block_by_number(block)["timestamp"]

    def add_account(self, private_key: bytes | str) -> Account:
        account = super().add_account(private_key)
        self.tester.add_account("0x" + account.key.hex())
        return account

    def _send(self, sender: Account, tx: dict) -> dict:
        from eth_tester.exceptions import TransactionFailed, ValidationError

        if sender.address.lower() not in self._by_address:
            raise errors.SigningError(f"{sender.address} is not an account of this in-process chain")
        tx = dict(tx, data="0x" + tx["data"].hex())
        tx.setdefault("gas", DEFAULT_TX_GAS)
        try:
            tx_hash = self.tester.send_transaction(tx)
        except TransactionFailed as exc:  # some failures surface at submission
            raise errors.decode_revert(_revert_bytes(exc)) from None
        except ValidationError as exc:
            raise errors.TransactionFailed(f"transaction refused by the chain: {exc}") from None
        raw = self.tester.get_transaction_receipt(tx_hash)
        if raw["status"] != 1:
            raise self._replay_failure(tx, raw["block_number"], tx_hash)
        return {
            "tx_hash": tx_hash,
            "block_number": raw["block_number"],
            "gas_used": raw["gas_used"],
            "contract_address": raw["contract_address"],
            "logs": [
                {
                    "address": entry["address"],
                    "topics": [_as_bytes(t) for t in entry["topics"]],
                    "data": _as_bytes(entry["data"]),
                    "log_index": entry["log_index"],
                }
                for entry in raw["logs"]
            ],
        }

    def _replay_failure(self, tx: dict, block_number: int, tx_hash: str) -> Exception:
        """Re-run a failed transaction as a call in its own block to get its revert data: the block's
        post-state differs from the pre-state only by the sender's nonce and gas, and its timestamp is
        the one the transaction saw (a parent-block replay would misjudge deadlines and UTC days)."""
        from eth_tester.exceptions import TransactionFailed

        call = {k: tx[k] for k in ("from", "to", "data", "value", "gas") if k in tx}
        try:
            self.tester.call(call, block_number)
        except TransactionFailed as exc:
            return errors.decode_revert(_revert_bytes(exc), tx_hash)
        return errors.TransactionFailed("transaction failed (probably out of gas) but succeeds as a call", tx_hash)

    def _call(self, tx: dict, block: int | str) -> bytes:
        from eth_tester.exceptions import TransactionFailed

        tx = dict(tx, data="0x" + tx["data"].hex())
        tx.setdefault("from", self.accounts[0].address)  # eth-tester insists on a caller
        try:
            out = self.tester.call(tx, block)
        except TransactionFailed as exc:
            raise errors.decode_revert(_revert_bytes(exc)) from None
        return bytes.fromhex(out[2:]) if isinstance(out, str) else bytes(out)

    def _next_block_earliest(self) -> int:
        # py-evm stamps a new block max(parent + 1, wall clock): a chain reverted to an old snapshot
        # cannot mine at a time the wall clock has already passed.
        return self.tester.get_block_by_number("pending")["timestamp"]

    def advance_time(self, seconds: int) -> int:
        """Mine a block `seconds` after the latest one, or at the wall clock if that is later."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        target = self.now + int(seconds)
        if target + 1 > self._next_block_earliest():
            self.tester.time_travel(target + 1)  # eth-tester mines the travel block one second early
        else:
            self.tester.mine_blocks(1)
        return self.now

    def set_next_block_time(self, timestamp: int) -> None:
        earliest = self._next_block_earliest()
        if timestamp < earliest:
            raise ValueError(f"the next block cannot be stamped {timestamp}: the earliest possible is {earliest} "
                             "(the in-process chain never runs behind the wall clock)")
        if timestamp > earliest:
            self.tester.time_travel(int(timestamp))  # mines a block at timestamp - 1

    def _logs(self, address: str, topics: list, from_block: int, to_block: int | str) -> list[dict]:
        end = self.block_number if to_block == "latest" else to_block
        # eth-tester filters match one topic value per position: filter on the address, match here.
        filter_id = self.tester.create_log_filter(from_block=from_block, to_block=end, address=address)
        try:
            entries = self.tester.get_all_filter_logs(filter_id)
        finally:
            self.tester.delete_filter(filter_id)
        out = []
        for entry in entries:
            entry_topics = [_as_bytes(t) for t in entry["topics"]]
            if _topics_match(entry_topics, topics):
                out.append({"address": entry["address"], "topics": entry_topics, "data": _as_bytes(entry["data"]),
                            "log_index": entry["log_index"]})
        return out

    def snapshot(self) -> int:
        return self.tester.take_snapshot()

    def revert(self, snapshot_id: int) -> None:
        self.tester.revert_to_snapshot(snapshot_id)

    def eth_balance(self, who: AccountLike) -> int:
        return self.tester.get_balance(self.account(who).address)


# ==================================================================== JSON-RPC chain
class RpcChain(Chain):
    """Any Ethereum JSON-RPC node: anvil locally, Besu or GoQuorum for a permissioned network."""

    def __init__(self, url: str, private_keys: Sequence[bytes | str] = (), timeout: float = 120.0):
        from web3 import HTTPProvider, Web3

        self.rpc_url = url
        self.timeout = timeout
        self.w3 = Web3(HTTPProvider(url, request_kwargs={"timeout": 30}))
        try:
            self._chain_id = int(self.w3.eth.chain_id)
            node_accounts = [] if private_keys else list(self.w3.eth.accounts)
        except Exception as exc:
            raise errors.ChainConnectionError(f"no Ethereum JSON-RPC node answers at {url}: {exc}") from None
        accounts = [Account(to_checksum_address(a)) for a in node_accounts]
        for key in private_keys:
            acct = EthAccount.from_key(key)
            accounts.append(Account(acct.address, bytes(acct.key)))
        super().__init__(accounts)
        self._nonces: dict[str, int] = {}
        self._fees: dict | None = None

    @property
    def chain_id(self) -> int:
        return self._chain_id

    @property
    def block_number(self) -> int:
        return int(self.w3.eth.block_number)

    def block_timestamp(self, block: int | str = "latest") -> int:
        return int(self.w3.eth.get_block(block)["timestamp"])

    def _fee_fields(self) -> dict:
        if self._fees is None:
            latest = self.w3.eth.get_block("latest")
            base = latest.get("baseFeePerGas")
            if base is None:  # a pre-London or free-gas permissioned network
                self._fees = {"gasPrice": int(self.w3.eth.gas_price)}
            else:
                tip = 10**9
                self._fees = {"maxFeePerGas": 2 * int(base) + tip, "maxPriorityFeePerGas": tip}
        return self._fees

    def _rpc_error(self, exc: Exception) -> Exception:
        data = getattr(exc, "data", None)
        if isinstance(data, dict):
            data = data.get("data")
        if isinstance(data, str) and data.startswith("0x"):
            return errors.decode_revert(data)
        return errors.TransactionFailed(f"the node refused the transaction: {exc}")

    def _send(self, sender: Account, tx: dict) -> dict:
        from web3.exceptions import ContractLogicError, Web3RPCError

        tx = dict(tx, data="0x" + tx["data"].hex(), chainId=self._chain_id)
        try:
            if "gas" not in tx:
                tx["gas"] = int(self.w3.eth.estimate_gas(tx) * 1.25) + 10_000
            addr = sender.address
            if addr not in self._nonces:
                self._nonces[addr] = self.w3.eth.get_transaction_count(addr, "pending")
            tx["nonce"] = self._nonces[addr]
            tx.update(self._fee_fields())
            if sender.key is not None:
                signed = EthAccount.sign_transaction(tx, sender.key)
                tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
            else:
                tx_hash = self.w3.eth.send_transaction(tx)
            self._nonces[addr] += 1
            raw = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=self.timeout)
        except (ContractLogicError, Web3RPCError) as exc:
            self._nonces.pop(sender.address, None)
            raise self._rpc_error(exc) from None
        except ValueError as exc:
            self._nonces.pop(sender.address, None)
            raise errors.TransactionFailed(f"the node refused the transaction: {exc}") from None
        if raw["status"] != 1:
            try:
                # Replayed in its own block, for the timestamp it saw (see TesterChain._replay_failure).
                self._call({k: tx[k] for k in ("from", "to", "data", "value") if k in tx}, raw["blockNumber"])
            except errors.ContractRevert as exc:
                exc.tx_hash = raw["transactionHash"].to_0x_hex()
                raise
            raise errors.TransactionFailed("transaction failed (probably out of gas)", raw["transactionHash"].to_0x_hex())
        return {
            "tx_hash": raw["transactionHash"].to_0x_hex(),
            "block_number": raw["blockNumber"],
            "gas_used": raw["gasUsed"],
            "contract_address": raw.get("contractAddress"),
            "logs": [
                {"address": e["address"], "topics": [bytes(t) for t in e["topics"]], "data": bytes(e["data"]), "log_index": e["logIndex"]}
                for e in raw["logs"]
            ],
        }

    def _call(self, tx: dict, block: int | str) -> bytes:
        from web3.exceptions import ContractLogicError, Web3RPCError

        if isinstance(tx.get("data"), bytes):
            tx = dict(tx, data="0x" + tx["data"].hex())
        try:
            return bytes(self.w3.eth.call(tx, block))
        except (ContractLogicError, Web3RPCError) as exc:
            raise self._rpc_error(exc) from None

    def _rpc(self, method: str, params: list) -> Any:
        response = self.w3.provider.make_request(method, params)
        if "error" in response:
            raise errors.ChainConnectionError(f"{method} is not available on {self.rpc_url}: {response['error'].get('message')}")
        return response.get("result")

    def advance_time(self, seconds: int) -> int:
        if seconds < 0:
            raise ValueError("time only moves forward")
        if seconds == 0:
            return self.now
        self._rpc("evm_setNextBlockTimestamp", [self.now + int(seconds)])
        self._rpc("evm_mine", [])
        return self.now

    def set_next_block_time(self, timestamp: int) -> None:
        if timestamp <= self.now:
            raise ValueError(f"timestamp {timestamp} is not after the latest block ({self.now})")
        self._rpc("evm_setNextBlockTimestamp", [int(timestamp)])

    def _logs(self, address: str, topics: list, from_block: int, to_block: int | str) -> list[dict]:
        entries = self.w3.eth.get_logs({"address": address, "topics": topics, "fromBlock": from_block, "toBlock": to_block})
        return [{"address": e["address"], "topics": [bytes(t) for t in e["topics"]], "data": bytes(e["data"]),
                 "log_index": e["logIndex"]} for e in entries]

    def snapshot(self) -> str:
        return self._rpc("evm_snapshot", [])

    def revert(self, snapshot_id: str) -> None:
        if not self._rpc("evm_revert", [snapshot_id]):
            raise errors.ChainConnectionError(f"the node could not revert to snapshot {snapshot_id}")
        self._nonces.clear()
        self._fees = None

    def eth_balance(self, who: AccountLike) -> int:
        return int(self.w3.eth.get_balance(self.account(who).address))


def connect(url: str | None = None, *, private_keys: Sequence[bytes | str] = (), accounts: int = 20) -> Chain:
    """An in-process eth-tester chain with `accounts` funded test accounts (no url), or the JSON-RPC
    node at `url`, signing with `private_keys` when given and with the node's own accounts otherwise."""
    if url is None:
        started = time.perf_counter()
        chain = TesterChain(num_accounts=accounts)
        log.info("in-process chain %d ready in %.2fs", chain.chain_id, time.perf_counter() - started)
        return chain
    return RpcChain(url, private_keys)
