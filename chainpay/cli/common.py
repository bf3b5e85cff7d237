"""What every command group shares: the console, the keys from the environment, loading a manifest."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from rich.console import Console

console = Console()


def _keys_from_env() -> list[str]:
    raw = os.environ.get("CHAINPAY_PRIVATE_KEYS", "")
    return [k.strip() for k in raw.split(",") if k.strip()]


def load_system(manifest: Path):
    """The deployment a manifest describes, signing with CHAINPAY_PRIVATE_KEYS (else the node's accounts)."""
    from ..system import load

    return load(manifest, private_keys=_keys_from_env())


def connect_chain(rpc: Optional[str]):
    from ..chain import connect

    return connect(rpc, private_keys=_keys_from_env()) if rpc else connect()


RPC_HELP = "JSON-RPC URL of a node (default: an in-process eth-tester chain). Keys: CHAINPAY_PRIVATE_KEYS=k1,k2,… else the node's accounts."
