"""Shared fixtures: chainpay's own pytest plugin, and a real anvil node for the `anvil` suites."""

import socket
import subprocess
import time
from pathlib import Path

import pytest

pytest_plugins = ["chainpay.testing"]

ROOT = Path(__file__).resolve().parents[1]
ANVIL = ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def anvil_url():
    if not ANVIL.is_file():
        pytest.fail(f"anvil not found at {ANVIL}: run `npm ci` (make test does)")
    port = _free_port()
    proc = subprocess.Popen([str(ANVIL), "--host", "127.0.0.1", "--port", str(port), "--accounts", "12",
                             "--chain-id", "31337", "--silent"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"anvil did not start: {proc.stderr.read().decode()[:500]}")
            time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


