"""The JSON-RPC engine: any Ethereum node (anvil locally; Besu or GoQuorum for a permissioned network).

Gas is estimated first (a revert surfaces there and nothing is sent), then the transaction is
signed locally when chainpay holds the key, or by the node for its own accounts.
"""

from __future__ import annotations

import time
from typing import Any, Sequence

from eth_account import Account as EthAccount
from eth_utils import to_checksum_address

from ..core import errors
from .base import Account, AccountLike, Chain


class RpcChain(Chain):
    """Any Ethereum JSON-RPC node: anvil locally, Besu or GoQuorum for a permissioned network."""

    engine = "rpc"

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
        for n, key in enumerate(private_keys, 1):
            try:
                acct = EthAccount.from_key(key)
            except Exception:  # eth-keys: ValueError, binascii.Error, ValidationError... never echo a key
                raise errors.InvalidInput(f"private key {n} of {len(private_keys)} is not a secp256k1 key "
                                          "(32 bytes, or 0x and 64 hex digits)") from None
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
            raw = self._wait_receipt(tx_hash)
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

    def _logs(self, address, topics: list, from_block: int, to_block: int | str) -> list[dict]:
        query = {"fromBlock": from_block, "toBlock": to_block}
        if address is not None:
            query["address"] = address
        if topics:
            query["topics"] = topics
        return [{"address": e["address"], "topics": [bytes(t) for t in e["topics"]], "data": bytes(e["data"]),
                 "log_index": e["logIndex"], "block_number": e["blockNumber"]} for e in self.w3.eth.get_logs(query)]

    def _block_hash(self, number: int) -> str | None:
        block = self.w3.eth.get_block(number)
        return None if block is None else block["hash"].to_0x_hex()

    def _wait_receipt(self, tx_hash):
        """The receipt, asked for at once and then at growing intervals (web3's wait polls every 0.1 s,
        which on an automining node like anvil is 100 ms added to every transaction)."""
        from web3.exceptions import TransactionNotFound

        deadline, pause = time.monotonic() + self.timeout, 0.002
        while True:
            try:
                return self.w3.eth.get_transaction_receipt(tx_hash)
            except TransactionNotFound:
                if time.monotonic() > deadline:
                    raise errors.TransactionFailed(f"no receipt within {self.timeout:.0f}s", tx_hash.to_0x_hex()) from None
                time.sleep(pause)
                pause = min(pause * 2, 0.1)

    def _snapshot(self) -> str:
        return self._rpc("evm_snapshot", [])

    def _revert(self, snapshot_id: str) -> None:
        if not self._rpc("evm_revert", [snapshot_id]):
            raise errors.ChainConnectionError(f"the node could not revert to snapshot {snapshot_id}")
        self._nonces.clear()
        self._fees = None

    def eth_balance(self, who: AccountLike) -> int:
        return int(self.w3.eth.get_balance(self.account(who).address))
