"""Helpers shared by the test suites."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path
from typing import Callable

import pytest

from chainpay import errors

ROOT = Path(__file__).resolve().parents[1]  # the repository
ANVIL = ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"


def free_port() -> int:
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


def expect_refusal(observe: Callable[[], object], action: Callable[[], object], error: str, **args):
    """Run `action`, expect Solidity error `error` with exactly `args`, and no change in `observe()`."""
    before = observe()
    with pytest.raises(errors.revert_class(error)) as info:
        action()
    assert info.value.arguments == args
    assert observe() == before
    return info.value


def expect_outcome(action: Callable[[], object], error: str | None):
    """A model's prediction checked: `action()`'s result when `error` is None, else exactly that
    Solidity error (as its typed exception) and None."""
    if error is None:
        return action()
    with pytest.raises(errors.revert_class(error)):
        action()
    return None


def run_state_machine(machine, deployment, examples: int, steps: int) -> None:
    """Run a Hypothesis RuleBasedStateMachine (with a `deployment` class attribute) deterministically."""
    from hypothesis import HealthCheck, settings

    machine.deployment = deployment
    runner = machine.TestCase
    runner.settings = settings(max_examples=examples, stateful_step_count=steps, deadline=None,
                               suppress_health_check=list(HealthCheck), derandomize=True)
    runner().runTest()
