"""Chains: the Chain API (``base``) and one module per engine. ``connect()`` picks the engine."""

from __future__ import annotations

import logging
import time
from typing import Sequence

from .base import DEFAULT_DEPLOY_GAS, DEFAULT_TX_GAS, Account, AccountLike, Chain, Receipt
from .rpc import RpcChain
from .tester import TesterChain

log = logging.getLogger(__name__)

__all__ = ["Account", "AccountLike", "Chain", "Receipt", "RpcChain", "TesterChain", "connect",
           "DEFAULT_DEPLOY_GAS", "DEFAULT_TX_GAS"]


def connect(url: str | None = None, *, private_keys: Sequence[bytes | str] = (), accounts: int = 20) -> Chain:
    """An in-process eth-tester chain with `accounts` funded test accounts (no url), or the JSON-RPC
    node at `url`, signing with `private_keys` when given and with the node's own accounts otherwise."""
    if url is None:
        started = time.perf_counter()
        chain = TesterChain(num_accounts=accounts)
        log.info("in-process chain %d ready in %.2fs", chain.chain_id, time.perf_counter() - started)
        return chain
    return RpcChain(url, private_keys)
