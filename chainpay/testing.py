"""pytest fixtures for suites that use chainpay (``pytest_plugins = ["chainpay.testing"]``).

One in-process chain and one deployed system per test session, with two institutions, a KYC officer
each and four registered customers; every test runs inside a snapshot that is reverted afterwards,
so tests are isolated and deployment runs once.

The engine comes from the environment: ``CHAINPAY_TEST_ENGINE=edr|eth-tester|auto`` (default
``auto``: the fast engine when node and its npm packages are present, else eth-tester). Suites that
build their own chains call :func:`test_chain` to follow the same choice.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from decimal import Decimal

import pytest

from .chain import Account, Chain, in_process, resolve_engine
from .currency.registry import identity_id
from .system import System, deploy


@dataclass(frozen=True)
class Actors:
    """Named accounts of the test deployment (see the ``actors`` fixture)."""

    admin: Account
    issuer: Account
    compliance: Account
    pauser: Account
    officer_a: Account  # KYC officer of institution 1 ("Platform A", max tier 3)
    officer_b: Account  # KYC officer of institution 2 ("Platform B", max tier 2)
    alice: Account  # tier 2 at platform A, 1,000 yuan
    alice2: Account  # alice's second address (same identity, linked by platform B), 0 yuan
    bob: Account  # tier 2 at platform B, 1,000 yuan
    carol: Account  # tier 1 at platform A, 100 yuan
    stranger: Account  # funded with gas, never registered
    spare: tuple[Account, ...]  # unregistered accounts for tests to use

    @property
    def alice_id(self) -> bytes:
        return identity_id("alice")

    @property
    def bob_id(self) -> bytes:
        return identity_id("bob")

    @property
    def carol_id(self) -> bytes:
        return identity_id("carol")


def build_system(chain: Chain) -> tuple[System, Actors]:
    a = chain.accounts
    system = deploy(chain)
    actors = Actors(admin=a[0], issuer=a[1], compliance=a[2], pauser=a[3], officer_a=a[4], officer_b=a[5],
                    alice=a[6], alice2=a[7], bob=a[8], carol=a[9], stranger=a[10], spare=tuple(a[11:]))
    reg, cur = system.registry, system.currency
    reg.add_institution(1, "Platform A", 3)
    reg.add_institution(2, "Platform B", 2)
    reg.add_kyc_officer(actors.officer_a, 1)
    reg.add_kyc_officer(actors.officer_b, 2)
    reg.register_identity(actors.alice_id, 2, actors.alice, sender=actors.officer_a)
    reg.link_address(actors.alice_id, actors.alice2, sender=actors.officer_b, consenting=actors.alice)
    reg.register_identity(actors.bob_id, 2, actors.bob, sender=actors.officer_b)
    reg.register_identity(actors.carol_id, 1, actors.carol, sender=actors.officer_a)
    cur.mint(actors.alice, Decimal(1000))
    cur.mint(actors.bob, Decimal(1000))
    cur.mint(actors.carol, Decimal(100))
    # Tests start at 01:00 UTC (of the next day), not at whatever the wall clock says: daily limits and
    # their give-backs are per UTC day, and a test that moves hours ahead must not cross a midnight just
    # because the suite ran late in the evening.
    start = (chain.now // 86400 + 1) * 86400 + 3600
    chain.advance_time(start - chain.now)
    return system, actors


ENGINE_VARIABLE = "CHAINPAY_TEST_ENGINE"


def test_engine() -> str:
    """The engine the fixtures use: $CHAINPAY_TEST_ENGINE, else the fast one when available."""
    return resolve_engine(os.environ.get(ENGINE_VARIABLE) or "auto")


test_engine.__test__ = False  # a helper, not a test


def test_chain(accounts: int = 16) -> Chain:
    """A new in-process chain on the fixtures' engine (close() it when done)."""
    return in_process(test_engine(), accounts)


test_chain.__test__ = False


@pytest.fixture(scope="session")
def chainpay_deployment() -> tuple[System, Actors]:
    """The session's chain, system and actors (deployed once)."""
    chain = test_chain(16)
    yield build_system(chain)
    chain.close()


@pytest.fixture
def system(chainpay_deployment) -> System:
    """A deployed System whose state is reverted after the test."""
    system, _ = chainpay_deployment
    snapshot = system.chain.snapshot()
    yield system
    system.chain.revert(snapshot)


@pytest.fixture
def actors(chainpay_deployment, system) -> Actors:
    return chainpay_deployment[1]


@pytest.fixture
def chain(system):
    return system.chain
