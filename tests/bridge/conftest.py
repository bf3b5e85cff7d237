"""Fixtures of the bridge suites: one two-chain network per session, reverted per test."""

from __future__ import annotations

import pytest

from chainpay.bridge.connector import Connector, ConnectorPolicy
from chainpay.bridge.network import Network, build_network


@pytest.fixture(scope="session")
def bridge_network() -> Network:
    from chainpay.testing import test_engine

    network = build_network(people=3, engine=test_engine())
    yield network
    network.close()


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
