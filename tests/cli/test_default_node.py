"""Against a default anvil (10 accounts, as `anvil` starts with no options): the demo creates and funds
the extra accounts it needs, and long commands print plain progress lines when output is not a terminal."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from support import ANVIL, ROOT, free_port, wait_for_port

import chainpay

pytestmark = pytest.mark.anvil


@pytest.fixture(scope="module")
def default_anvil():
    port = free_port()
    proc = subprocess.Popen([str(ANVIL), "--host", "127.0.0.1", "--port", str(port), "--silent"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_for_port(port, proc, "anvil", timeout=30)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


def run(*args, **env):
    full = {k: v for k, v in os.environ.items() if k not in ("CHAINPAY_PRIVATE_KEYS", "CHAINPAY_DEBUG")}
    full.update(COLUMNS="200", **env)
    return subprocess.run([sys.executable, "-m", "chainpay", *args], capture_output=True, text=True, env=full,
                          timeout=300, cwd=ROOT)


def test_demo_runs_on_a_default_node_by_creating_the_accounts_it_needs(default_anvil):
    assert len(chainpay.connect(default_anvil).accounts) == 10
    result = run("demo", "--rpc", default_anvil)
    assert result.returncode == 0, result.stderr
    assert "offers 10 accounts; created and funded 3 more" in result.stdout
    assert "refused DailyLimitExceeded" in result.stdout and "54,600.00" in result.stdout


def test_deploy_prints_progress_lines_when_output_is_not_a_terminal(default_anvil, tmp_path):
    result = run("deploy", "--rpc", default_anvil, "--out", str(tmp_path / "m.json"), CHAINPAY_PROGRESS_EVERY="0.1")
    assert result.returncode == 0, result.stderr
    progress = [line for line in result.stdout.splitlines() if line.startswith(f"deploying to {default_anvil} (")]
    assert len(progress) >= 2, result.stdout  # one every 0.1 s of a deployment that takes seconds
    assert progress[0].endswith(" s)")
