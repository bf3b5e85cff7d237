"""The in-process engine: py-evm through eth-tester, the pure-Python reference.

Transactions go straight to ``EthereumTester`` with a fixed gas allowance and no pre-flight
estimate, because py-evm is slow and web3.py's default path executes every transaction twice. A
reverted transaction is replayed as a call in its own block to recover the revert data; the revert
changed nothing but the sender's nonce and gas.
"""

from __future__ import annotations

import ast

from ..core import errors
from .base import DEFAULT_TX_GAS, Account, AccountLike, Chain


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
    engine = "eth-tester"
    trusted_blocks = True

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

    def _logs(self, address, topics: list, from_block: int, to_block: int | str) -> list[dict]:
        # Straight from py-evm's blocks and receipts: eth-tester's own log filter finds each receipt by
        # scanning the chain backwards from its head, which makes any range query cost the whole chain.
        chain, db = self.tester.backend.chain, self.tester.backend.chain.chaindb
        end = self.block_number if to_block == "latest" else int(to_block)
        wanted = None
        if address is not None:
            wanted = {bytes.fromhex(a[2:].lower()) for a in ([address] if isinstance(address, str) else address)}
        out = []
        for number in range(max(0, from_block), end + 1):
            log_index = 0
            for receipt in chain.get_canonical_block_by_number(number).get_receipts(db):
                for entry in receipt.logs:
                    entry_topics = [t.to_bytes(32, "big") for t in entry.topics]
                    if (wanted is None or entry.address in wanted) and _topics_match(entry_topics, topics):
                        out.append({"address": "0x" + entry.address.hex(), "topics": entry_topics, "data": bytes(entry.data),
                                    "log_index": log_index, "block_number": number})
                    log_index += 1
        return out

    def _snapshot(self) -> int:
        return self.tester.take_snapshot()

    def _revert(self, snapshot_id: int) -> None:
        self.tester.revert_to_snapshot(snapshot_id)

    def eth_balance(self, who: AccountLike) -> int:
        return self.tester.get_balance(self.account(who).address)


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
