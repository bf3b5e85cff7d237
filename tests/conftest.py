"""Shared fixtures: chainpay's own pytest plugin, and a real anvil node for the `anvil` suites."""

import socket
import subprocess
import time
from pathlib import Path

import pytest

pytest_plugins = ["chainpay.testing", "bridge_support"]

ROOT = Path(__file__).resolve().parents[1]
ANVIL = ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 60) -> None:
    """Wait until `proc` listens on 127.0.0.1:`port`; fail with its stderr if it dies or never does."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"{what} did not start: {proc.stderr.read().decode()[-1000:]}")
            time.sleep(0.1)


@pytest.fixture(scope="session")
def anvil_url():
    if not ANVIL.is_file():
        pytest.fail(f"anvil not found at {ANVIL}: run `npm ci` (make test does)")
    port = _free_port()
    proc = subprocess.Popen([str(ANVIL), "--host", "127.0.0.1", "--port", str(port), "--accounts", "12",
                             "--chain-id", "31337", "--silent"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_for_port(port, proc, "anvil", timeout=30)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)
