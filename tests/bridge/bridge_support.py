"""Helpers for the bridge suites (their fixtures are in conftest.py beside this file)."""

from __future__ import annotations

from decimal import Decimal

from chainpay.bridge.network import Network, Person

BLOCK = 5  # seconds between a step and the block that carries it


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
