"""Helpers shared by the test suites."""

from __future__ import annotations

from typing import Callable

import pytest

from chainpay import errors


def expect_refusal(observe: Callable[[], object], action: Callable[[], object], error: str, **args):
    """Run `action`, expect Solidity error `error` with exactly `args`, and no change in `observe()`."""
    before = observe()
    with pytest.raises(errors.revert_class(error)) as info:
        action()
    assert info.value.arguments == args
    assert observe() == before
    return info.value


def run_state_machine(machine, deployment, examples: int, steps: int) -> None:
    """Run a Hypothesis RuleBasedStateMachine (with a `deployment` class attribute) deterministically."""
    from hypothesis import HealthCheck, settings

    machine.deployment = deployment
    runner = machine.TestCase
    runner.settings = settings(max_examples=examples, stateful_step_count=steps, deadline=None,
                               suppress_health_check=list(HealthCheck), derandomize=True)
    runner().runTest()
