"""Chains: the Chain API (``base``), the event index (``index``) and one module per engine:
``tester`` (eth-tester, the pure-Python reference), ``edr`` (the fast in-process engine, EDR under
node) and ``rpc`` (any JSON-RPC node). :func:`connect` and :func:`in_process` pick one."""

from __future__ import annotations

import logging
import time
from typing import Sequence

from ..core import errors
from .base import DEFAULT_DEPLOY_GAS, DEFAULT_TX_GAS, Account, AccountLike, Chain, Receipt
from .rpc import RpcChain
from .tester import TesterChain

log = logging.getLogger(__name__)

__all__ = ["Account", "AccountLike", "Chain", "Receipt", "RpcChain", "TesterChain", "connect", "in_process",
           "resolve_engine", "ENGINES", "DEFAULT_DEPLOY_GAS", "DEFAULT_TX_GAS"]

ENGINES = ("edr", "eth-tester")  # in-process engines; "auto" = edr when it can start here, else eth-tester


def resolve_engine(engine: str | None = "auto") -> str:
    """The in-process engine `engine` names ("edr", "eth-tester", or "auto"/None: the fast one when
    node and the EDR packages are present, else eth-tester with one warning saying why)."""
    from .edr import unavailable_reason

    name = "auto" if engine is None else str(engine).lower()
    if name in ("tester", "eth_tester", "py-evm"):
        name = "eth-tester"
    if name == "auto":
        reason = unavailable_reason()
        if reason is None:
            return "edr"
        log.warning("fast engine unavailable (%s): using eth-tester, the pure-Python reference (~20x slower)", reason)
        return "eth-tester"
    if name not in ENGINES:
        raise errors.InvalidInput(f"unknown engine {engine!r} (known: {', '.join(ENGINES)}, auto)")
    return name


def in_process(engine: str | None = "eth-tester", accounts: int = 20) -> Chain:
    """A new in-process chain with `accounts` funded test accounts on `engine` (see resolve_engine).
    An EDR chain owns a node process: close() it (or use ``with``) when done."""
    name = resolve_engine(engine)
    started = time.perf_counter()
    if name == "edr":
        from .edr import EdrChain

        chain: Chain = EdrChain(num_accounts=accounts)
    else:
        chain = TesterChain(num_accounts=accounts)
    log.info("in-process %s chain %d ready in %.2fs", name, chain.chain_id, time.perf_counter() - started)
    return chain


def connect(url: str | None = None, *, engine: str | None = None, private_keys: Sequence[bytes | str] = (),
            accounts: int = 20) -> Chain:
    """A chain to work on:

    - ``connect()``: an in-process eth-tester chain (the pure-Python reference) with `accounts` funded accounts;
    - ``connect("edr")`` or ``connect(engine="edr")``: the fast in-process engine (``"auto"``: the fast one
      when available, else eth-tester);
    - ``connect("http://...")``: the JSON-RPC node at that URL, signing with `private_keys` when given and
      with the node's own accounts otherwise.
    """
    if url is not None and url.lower() in (*ENGINES, "auto", "tester"):
        if engine is not None:
            raise errors.InvalidInput(f"give the engine once: connect({url!r}) or connect(engine={engine!r})")
        url, engine = None, url
    if url is None:
        return in_process(engine or "eth-tester", accounts)
    if engine is not None:
        raise errors.InvalidInput("engine= is for in-process chains; a URL names a node")
    return RpcChain(url, private_keys)
