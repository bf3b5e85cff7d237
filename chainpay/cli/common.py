"""What every command group shares: the console, the keys from the environment, loading a manifest,
checks of output paths made before any work, progress that also shows when output is not a terminal,
and contract refusals in words (states by name, times as dates, amounts in yuan)."""

from __future__ import annotations

import os
import re
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.console import Console

from ..core import errors

console = Console()

# Decimals of the currency the command works with, once a deployment is loaded (for amounts in yuan).
_context: dict[str, int] = {}
_KEY_RE = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")


def _keys_from_env() -> list[str]:
    raw = os.environ.get("CHAINPAY_PRIVATE_KEYS", "")
    keys = [k.strip() for k in raw.split(",") if k.strip()]
    for n, key in enumerate(keys, 1):
        if not _KEY_RE.match(key):
            raise errors.InvalidInput(f"CHAINPAY_PRIVATE_KEYS: item {n} of {len(keys)} is not a private key "
                                      "(0x and 64 hex digits, comma-separated)")
    return keys


def load_system(manifest: Path):
    """The deployment a manifest describes, signing with CHAINPAY_PRIVATE_KEYS (else the node's accounts)."""
    from ..system import load

    system = load(manifest, private_keys=_keys_from_env())
    _context["decimals"] = system.currency.decimals
    return system


def connect_chain(rpc: str | None, engine: str = "eth-tester"):
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


# ------------------------------------------------------------------ output paths, checked before any work
def check_writable_file(path: Path, what: str) -> None:
    """Refuse now, not after a long run, an output file that cannot be written (nothing is left behind)."""
    path = Path(path)
    if path.is_dir():
        raise errors.InvalidInput(f"{what} {path} is a directory; give a file name")
    _check_dir(path.parent if str(path.parent) else Path("."), what, path)
    if path.exists() and not os.access(path, os.W_OK):
        raise errors.InvalidInput(f"{what} {path} exists and is not writable")


def check_writable_dir(path: Path, what: str) -> None:
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise errors.InvalidInput(f"{what} {path} exists and is not a directory")
    _check_dir(path, what, path)


def _check_dir(directory: Path, what: str, target: Path) -> None:
    existing = directory.resolve()
    while not existing.exists():  # the nearest existing ancestor must let us create the rest
        existing = existing.parent
    if existing.is_dir():
        try:  # os.access says yes to root everywhere (even /proc): try it, and leave nothing behind
            with tempfile.TemporaryFile(dir=existing):
                return
        except OSError:
            pass
    raise errors.InvalidInput(f"cannot write {what} {target}: {existing} is not a writable directory")


# ------------------------------------------------------------------ progress
PROGRESS_EVERY = float(os.environ.get("CHAINPAY_PROGRESS_EVERY", "5"))


class _Lines:
    """A plain progress line every PROGRESS_EVERY seconds (for logs and pipes, where a rich bar is invisible)."""

    def __init__(self, text: str):
        self.text = text
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def update(self, text: str) -> None:
        self.text = text

    def _run(self) -> None:
        while not self._stop.wait(PROGRESS_EVERY):
            print(f"{self.text.rstrip('…')} ({time.monotonic() - self.started:.0f} s)", file=sys.stdout, flush=True)

    def __enter__(self) -> _Lines:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


@contextmanager
def status(text: str) -> Iterator:
    """A spinner on a terminal; otherwise a plain line every few seconds. `.update(text)` on both."""
    if console.is_terminal:
        with console.status(text) as spinner:
            yield spinner
    else:
        with _Lines(text) as lines:
            yield lines


# ------------------------------------------------------------------ contract refusals in words
_TIME_ARGS = {"releaseAt", "deadline", "closesAt", "validAfter", "validBefore", "timelock", "expiry", "until"}
_AMOUNT_ARGS = {"amount", "balance", "needed", "limit", "spentToday", "allowance", "deposit", "redeemed",
                "available", "price", "maxPrice", "unitPrice", "cumulativeAmount"}


def when(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def describe_revert(exc: errors.ContractRevert) -> str:
    """``WrongState(id=3, state=released)``, ``NotYetDue(id=1, releaseAt=2026-11-21 22:10:00 UTC)``,
    ``DailyLimitExceeded(..., limit=5000.00 yuan, ...)``: what the contract said, readable."""
    from ..content.channels import ChannelState
    from ..transfers.client import TransferState

    decimals = _context.get("decimals")
    shown = []
    for name, value in exc.arguments.items():
        text = errors._show(value)
        if isinstance(value, int) and not isinstance(value, bool):
            if name == "state":
                states = ChannelState if exc.error_name == "WrongChannelState" else TransferState
                try:
                    text = str(states(value))
                except ValueError:
                    pass
            elif name in _TIME_ARGS and 0 < value < 2**40:
                text = when(value)
            elif name in _AMOUNT_ARGS and decimals is not None and value < 2**255:
                from ..core.money import from_base_units

                text = f"{from_base_units(value, decimals)} yuan"
        shown.append(f"{name}={text}")
    return f"{exc.error_name}({', '.join(shown)})"
