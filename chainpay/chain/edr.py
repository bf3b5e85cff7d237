"""The fast in-process engine: EDR, the Rust EVM runtime behind Hardhat, in a node subprocess.

``EdrChain`` starts ``edr_host.js`` (shipped beside this module) under node with the npm packages
``@nomicfoundation/edr`` and its platform package (installed by the project's ``npm ci``), and speaks
newline-delimited JSON-RPC to it over a pipe. Gas is the EVM's own, identical to py-evm's (the
differential tests check every transaction), on the prague hardfork.

Same surface as the other engines, with the reference engine's defaults so that a script gives the
same addresses, signatures and gas on either: the same funded accounts (private keys 1..N, 10^24 wei
each) and eth-tester's chain id. Every transaction is mined in its own block at once; a failed one is
mined too (it consumes its nonce and block, as on a node) and raises the typed error decoded from its
revert data, which the node returns with the failure (no replay).

The node process never outlives Python: it exits when its stdin closes (the Python process ended,
however it ended, including SIGKILL) or when its parent changes; :meth:`EdrChain.close` (or leaving a
``with`` block) stops it at once.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import select
import subprocess
import time
from pathlib import Path
from typing import Any

from eth_keys import keys as eth_keys

from ..core import errors
from .base import DEFAULT_TX_GAS, Account, AccountLike, Chain

log = logging.getLogger(__name__)

HOST_SCRIPT = Path(__file__).with_name("edr_host.js")
EDR_PACKAGE = ("@nomicfoundation", "edr")
TESTER_CHAIN_ID = 131277322940537  # eth-tester's (py-evm's) default: same EIP-712 domains on both engines
GENESIS_BALANCE = 10**24  # wei per funded account, as eth-tester's genesis
BLOCK_GAS_LIMIT = 30_000_000
SPIN_SECONDS = 0.005  # how long a read polls before it blocks (see EdrChain._read_line)
# Requests that leave the chain's head where it is: any other request through rpc() forgets the head
# this object keeps (see EdrChain._head).
_HEAD_KEEPING = frozenset({
    "eth_call", "eth_getLogs", "eth_getBalance", "eth_blockNumber", "eth_getBlockByNumber", "eth_chainId",
    "eth_getCode", "eth_getStorageAt", "eth_getTransactionCount", "eth_getTransactionReceipt",
    "eth_getTransactionByHash", "web3_clientVersion", "evm_snapshot", "evm_setNextBlockTimestamp",
    "hardhat_impersonateAccount"})


class EngineUnavailable(errors.ChainConnectionError):
    """The fast engine cannot start here (no node, or the EDR npm packages are not installed)."""


def _node_modules_candidates() -> list[Path]:
    found = []
    env = os.environ.get("CHAINPAY_NODE_MODULES")
    if env:
        found.append(Path(env))
    for start in (Path(__file__).resolve().parent, Path.cwd().resolve()):
        for parent in (start, *start.parents):
            found.append(parent / "node_modules")
    return found


def find_engine() -> tuple[str, Path]:
    """(node executable, node_modules directory holding EDR); EngineUnavailable saying what is missing."""
    node = os.environ.get("CHAINPAY_NODE") or shutil.which("node")
    if not node:
        raise EngineUnavailable("node is not on PATH (the fast engine runs EDR under node)")
    if not os.access(node, os.X_OK):
        raise EngineUnavailable(f"CHAINPAY_NODE={node} is not an executable")
    for modules in _node_modules_candidates():
        if (modules.joinpath(*EDR_PACKAGE) / "package.json").is_file():
            return node, modules
    raise EngineUnavailable("the npm package @nomicfoundation/edr is not installed "
                            "(run `npm ci` in the chainpay checkout, or set CHAINPAY_NODE_MODULES)")


def unavailable_reason() -> str | None:
    """None when the fast engine can start here, else why not (one line)."""
    try:
        find_engine()
    except EngineUnavailable as exc:
        return str(exc)
    return None


def _hex(value: int) -> str:
    return hex(value)


def _tag(block: int | str) -> str:
    return hex(block) if isinstance(block, int) else block


def _raw_log(entry: dict) -> dict:
    return {"address": entry["address"], "topics": [bytes.fromhex(t[2:]) for t in entry["topics"]],
            "data": bytes.fromhex(entry["data"][2:]), "log_index": int(entry["logIndex"], 16),
            "block_number": int(entry["blockNumber"], 16)}


class _NodeError(Exception):
    def __init__(self, error: dict):
        super().__init__(error.get("message", "error"))
        self.error = error

    @property
    def revert_data(self) -> str | None:
        data = self.error.get("data")
        if isinstance(data, dict):
            data = data.get("data")
        return data if isinstance(data, str) and data.startswith("0x") else None


class EdrChain(Chain):
    """EDR in a node subprocess: fast, exact gas. Use as a context manager or call close()."""

    engine = "edr"
    trusted_blocks = True  # every block comes from this object: the event index needs no queries

    def __init__(self, num_accounts: int = 20, *, chain_id: int = TESTER_CHAIN_ID, hardfork: str = "prague",
                 genesis_time: int | None = None):
        node, modules = find_engine()
        keys = [i.to_bytes(32, "big") for i in range(1, num_accounts + 1)]
        config = {"keys": ["0x" + k.hex() for k in keys], "balance": str(GENESIS_BALANCE), "chainId": chain_id,
                  "hardfork": hardfork, "blockGasLimit": BLOCK_GAS_LIMIT, "genesisTime": genesis_time}
        env = dict(os.environ, NODE_PATH=str(modules))
        self._proc = subprocess.Popen([node, str(HOST_SCRIPT), json.dumps(config)], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self._stdin, self._stdout = self._proc.stdin, self._proc.stdout
        os.set_blocking(self._stdout.fileno(), False)  # answers are read by _read_line
        self._unread = bytearray()
        # (number, timestamp) of the latest block, or None when unknown. Every block of this chain is
        # made through this object, so it knows the head after each send and mine without asking: a
        # round trip to the engine costs ~0.5 ms, mostly thread wake-ups, and the SDK reads the clock
        # about twice per transaction.
        self._head: tuple[int, int] | None = None
        hello = self._read_line()
        try:
            ready = json.loads(hello)
        except ValueError:
            ready = {"ready": False, "error": (hello + self._proc.stderr.read()).decode(errors="replace")[-500:]}
        if not ready.get("ready"):
            self.close()
            raise EngineUnavailable(f"the EDR host did not start: {ready.get('error')}")
        self.client_version = ready.get("client")
        self._chain_id = chain_id
        accounts = [Account(eth_keys.PrivateKey(k).public_key.to_checksum_address(), k) for k in keys]
        super().__init__(accounts)
        self._snapshots: dict[int, str] = {}  # our handle -> the node's current snapshot id
        self._snapshot_counter = 0
        log.info("EDR engine %s (pid %d), chain id %d", self.client_version, self._proc.pid, chain_id)

    # ---------------------------------------------------------------- process
    @property
    def pid(self) -> int:
        return self._proc.pid

    def close(self) -> None:
        """Stop the node process (idempotent)."""
        self._head = None  # a closed chain answers nothing, not even its clock
        proc = getattr(self, "_proc", None)
        if proc is None or proc.poll() is not None:
            return
        try:
            proc.stdin.close()
            proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()
        finally:
            for stream in (proc.stdout, proc.stderr):
                stream.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: the host exits on stdin EOF anyway
            pass

    def rpc(self, method: str, params: list | tuple = ()) -> Any:
        """One JSON-RPC request to the engine (raises _NodeError with the node's error)."""
        if method not in _HEAD_KEEPING:
            self._head = None
        return self._exchange(b'{"jsonrpc":"2.0","id":1,"method":"%s","params":%s}\n'
                              % (method.encode(), json.dumps(params).encode()))

    def _rpc_batch(self, *requests: tuple[str, list]) -> list:
        """Several requests in one round trip, run in order; raises _NodeError at the first error."""
        self._head = None
        line = json.dumps([{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(requests)])
        answers = self._exchange_raw(line.encode() + b"\n")
        for answer in answers:
            if "error" in answer:
                raise _NodeError(answer["error"])
        return [answer["result"] for answer in answers]

    def _exchange(self, request: bytes) -> Any:
        """Write one request line, read its answer line: the result, or _NodeError."""
        answer = self._exchange_raw(request)
        if "error" in answer:
            raise _NodeError(answer["error"])
        return answer["result"]

    def _exchange_raw(self, request: bytes) -> Any:
        """Write one request line and return its answer line, parsed."""
        try:
            self._stdin.write(request)
            self._stdin.flush()
            line = self._read_line()
        except (OSError, ValueError) as exc:
            raise errors.ChainConnectionError(f"the EDR engine is gone: {exc}") from None
        if not line:
            raise errors.ChainConnectionError(f"the EDR engine exited (code {self._proc.poll()}): "
                                              f"{self._proc.stderr.read().decode(errors='replace')[-500:]}")
        return json.loads(line)

    def _read_line(self) -> bytes:
        """The engine's next answer line (b"" when it has exited). An answer usually comes within a
        fraction of a millisecond, and sleeping in a blocking read until then costs about as much again
        in the wake-up on these machines (tests/tools/edr_round_trip.py measures both ways): so poll,
        yielding the core, for up to SPIN_SECONDS, then block."""
        fd, unread = self._stdout.fileno(), self._unread
        spin_until = None
        while True:
            newline = unread.find(b"\n")
            if newline >= 0:
                line = bytes(unread[:newline + 1])
                del unread[:newline + 1]
                return line
            try:
                chunk = os.read(fd, 1 << 16)
            except BlockingIOError:
                now = time.perf_counter()
                if spin_until is None:
                    spin_until = now + SPIN_SECONDS
                elif now > spin_until:
                    select.select([fd], [], [])
                else:
                    os.sched_yield()  # the engine's threads go first if they wait for this core
                continue
            if not chunk:
                return b""
            unread += chunk

    # ---------------------------------------------------------------- chain
    @property
    def chain_id(self) -> int:
        return self._chain_id

    def _latest(self) -> tuple[int, int]:
        if self._head is None:
            header = self.rpc("eth_getBlockByNumber", ["latest", False])
            self._head = (int(header["number"], 16), int(header["timestamp"], 16))
        return self._head

    @property
    def block_number(self) -> int:
        return self._latest()[0]

    def block_timestamp(self, block: int | str = "latest") -> int:
        if block == "latest":
            return self._latest()[1]
        header = self.rpc("eth_getBlockByNumber", [_tag(block), False])
        if header is None:
            raise errors.ChainConnectionError(f"no block {block} on this chain")
        return int(header["timestamp"], 16)

    def add_account(self, private_key: bytes | str) -> Account:
        account = super().add_account(private_key)
        self.rpc("hardhat_impersonateAccount", [account.address])  # the engine sends for it unsigned
        return account

    def _send(self, sender: Account, tx: dict) -> dict:
        if sender.address.lower() not in self._by_address:
            raise errors.SigningError(f"{sender.address} is not an account of this in-process chain")
        # The request line is written by hand: every field is an address or hex (json.dumps costs more).
        fields = b'"from":"%s","data":"0x%s","gas":"0x%x"' % (tx["from"].encode(), tx["data"].hex().encode(),
                                                          tx.get("gas", DEFAULT_TX_GAS))
        if "to" in tx:
            fields += b',"to":"%s"' % tx["to"].encode()
        if tx.get("value"):
            fields += b',"value":"0x%x"' % tx["value"]
        head, self._head = self._head, None
        try:
            result = self._exchange(b'{"jsonrpc":"2.0","id":1,"method":"chainpay_send","params":[{%s}]}\n' % fields)
        except _NodeError as exc:  # refused before mining (nonce, funds, malformed): nothing happened
            self._head = head
            raise errors.TransactionFailed(f"transaction refused by the chain: {exc}") from None
        receipt, error = result["receipt"]["result"], result["error"]
        self._head = (int(receipt["blockNumber"], 16), int(result["timestamp"], 16))
        tx_hash = receipt["transactionHash"]
        if error is not None:
            data = _NodeError(error).revert_data
            if data and data != "0x":
                raise errors.decode_revert(data, tx_hash)
            raise errors.TransactionFailed(f"transaction failed: {error.get('message')}", tx_hash)
        contract = receipt.get("contractAddress")
        return {"tx_hash": tx_hash, "block_number": int(receipt["blockNumber"], 16),
                "gas_used": int(receipt["gasUsed"], 16), "contract_address": contract,
                "logs": [_raw_log(entry) for entry in receipt["logs"]]}

    def _call(self, tx: dict, block: int | str) -> bytes:
        request = {"from": tx.get("from", self.accounts[0].address), "to": tx["to"], "data": "0x" + tx["data"].hex()}
        try:
            out = self.rpc("eth_call", [request, _tag(block)])
        except _NodeError as exc:
            data = exc.revert_data
            if data is None:
                raise errors.TransactionFailed(f"call failed: {exc}") from None
            raise errors.decode_revert(data) from None
        return bytes.fromhex(out[2:])

    def advance_time(self, seconds: int) -> int:
        """Mine a block exactly `seconds` after the latest one (0: no block)."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        if seconds == 0:
            return self.now
        number, now = self._latest()
        target = now + int(seconds)
        self._rpc_batch(("evm_setNextBlockTimestamp", [_hex(target)]), ("evm_mine", []))
        self._head = (number + 1, target)
        self._mined_empty_block()
        return target

    def set_next_block_time(self, timestamp: int) -> None:
        """As the reference engine does it: a jump of more than a second first mines an empty block at
        `timestamp` - 1, so ``now`` (and what the SDK derives from it, such as permit deadlines) is the
        same on both engines when the transaction goes out."""
        (number, latest), timestamp = self._latest(), int(timestamp)
        if timestamp <= latest:
            raise ValueError(f"timestamp {timestamp} is not after the latest block ({latest})")
        if timestamp > latest + 1:
            self._rpc_batch(("evm_setNextBlockTimestamp", [_hex(timestamp - 1)]), ("evm_mine", []),
                            ("evm_setNextBlockTimestamp", [_hex(timestamp)]))
            self._head = (number + 1, timestamp - 1)
            self._mined_empty_block()
        else:
            self.rpc("evm_setNextBlockTimestamp", [_hex(timestamp)])

    def _snapshot(self) -> int:
        self._snapshot_counter += 1
        self._snapshots[self._snapshot_counter] = self.rpc("evm_snapshot")
        return self._snapshot_counter

    def _revert(self, snapshot_id: int) -> None:
        # The node's snapshots are single-use and die with earlier reverts; ours stay usable (as
        # eth-tester's): revert, then take a fresh node snapshot of the same state under the same handle.
        node_id = self._snapshots.get(snapshot_id)
        if node_id is None or not self.rpc("evm_revert", [node_id]):
            raise errors.ChainConnectionError(f"no snapshot {snapshot_id} on this chain (a revert to an earlier "
                                              "snapshot discards later ones)")
        for later in [k for k in self._snapshots if k > snapshot_id]:
            del self._snapshots[later]
        self._snapshots[snapshot_id] = self.rpc("evm_snapshot")

    def eth_balance(self, who: AccountLike) -> int:
        return int(self.rpc("eth_getBalance", [self.account(who).address, "latest"]), 16)

    def _logs(self, address, topics: list, from_block: int, to_block: int | str) -> list[dict]:
        query: dict = {"fromBlock": _tag(from_block), "toBlock": _tag(to_block)}
        if address is not None:
            query["address"] = address
        if topics:
            query["topics"] = topics
        return [_raw_log(entry) for entry in self.rpc("eth_getLogs", [query])]

    def describe(self) -> str:
        return f"in-process EDR chain ({self.client_version})"
