"""Shared fixtures: chainpay's own pytest plugin, and a real anvil node for the `anvil` suites."""

import subprocess

import pytest
from support import ANVIL, free_port, wait_for_port

pytest_plugins = ["chainpay.testing"]


@pytest.fixture(scope="session")
def anvil_url():
    if not ANVIL.is_file():
        pytest.fail(f"anvil not found at {ANVIL}: run `npm ci` (make test does)")
    port = free_port()
    proc = subprocess.Popen([str(ANVIL), "--host", "127.0.0.1", "--port", str(port), "--accounts", "12",
                             "--chain-id", "31337", "--silent"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_for_port(port, proc, "anvil", timeout=30)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)
