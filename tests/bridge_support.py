"""Fixtures and helpers for the bridge suites: one two-chain network per session, reverted per test."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chainpay.connector import Connector, ConnectorPolicy
from chainpay.twochain import Network, Person, build_network

BLOCK = 5  # seconds between a step and the block that carries it


@pytest.fixture(scope="session")
def bridge_network() -> Network:
    return build_network(people=3)


@pytest.fixture
def net(bridge_network):
    """The session's network; both chains, the clock and outages are restored after the test."""
    n = bridge_network
    snapshots, now = (n.a.chain.snapshot(), n.b.chain.snapshot()), n.now
    yield n
    for platform, snap in zip((n.a, n.b), snapshots):
        platform.chain.halted, platform.halted_until = False, None
        platform.chain.revert(snap)
    n.now = now


@pytest.fixture
def connector(net) -> Connector:
    return Connector(net.a.bridge, net.b.bridge, net.connector.a, net.connector.b, ConnectorPolicy(),
                     clock=lambda: net.now)


def step(net: Network, seconds: int = BLOCK) -> None:
    """Let `seconds` pass and bring both running chains to the new time."""
    net.advance(seconds)
    net.sync(net.a)
    net.sync(net.b)


def ledger(net: Network) -> dict[str, Decimal]:
    """Who holds what across BOTH chains: each person, the connector, the bridges, and the supply."""
    out = {p.name: net.holdings(p) for p in [*net.people, net.connector]}
    out["bridges"] = net.in_bridges()
    out["supply"] = net.total_supply()
    return out


def moved(before: dict, after: dict) -> dict[str, Decimal]:
    """The non-zero changes between two ledgers."""
    return {k: after[k] - before[k] for k in before if after[k] != before[k]}


def person(net: Network, i: int) -> Person:
    return net.people[i]
