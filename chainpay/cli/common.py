"""What every command group shares: the console, the keys from the environment, loading a manifest."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import click
from rich.console import Console

console = Console()


def _keys_from_env() -> list[str]:
    raw = os.environ.get("CHAINPAY_PRIVATE_KEYS", "")
    return [k.strip() for k in raw.split(",") if k.strip()]


def load_system(manifest: Path):
    """The deployment a manifest describes, signing with CHAINPAY_PRIVATE_KEYS (else the node's accounts)."""
    from ..system import load

    return load(manifest, private_keys=_keys_from_env())


def connect_chain(rpc: Optional[str], engine: str = "eth-tester"):
    """The node at `rpc`, else a new in-process chain on `engine` (see pick_engine)."""
    from ..chain import connect, in_process

    return connect(rpc, private_keys=_keys_from_env()) if rpc else in_process(engine)


ENGINES = ("auto", "edr", "eth-tester")
ENGINE_HELP = ("In-process engine: edr (EDR under node: fast, exact gas; installed by `npm ci`), eth-tester "
               "(pure-Python reference), auto (edr when it can start here, else eth-tester).")


def engine_option(command):
    return click.option("--engine", type=click.Choice(ENGINES), default="auto", show_default=True,
                        help=ENGINE_HELP)(command)


def pick_engine(engine: str) -> str:
    """The engine to run on; for "auto" without node/EDR, one line on the console says why eth-tester."""
    from ..chain.edr import unavailable_reason

    if engine == "auto":
        reason = unavailable_reason()
        if reason is None:
            return "edr"
        console.print(f"[yellow]note:[/] fast engine unavailable ({reason}); running on eth-tester (~20x slower)")
        return "eth-tester"
    return engine


RPC_HELP = "JSON-RPC URL of a node (default: an in-process eth-tester chain). Keys: CHAINPAY_PRIVATE_KEYS=k1,k2,… else the node's accounts."
