"""Two platforms on the shared test deployment: institution 1 ("Platform A") and 2 ("Platform B"),
each with a registered treasury (operator). alice is A's customer, alice2 (alice's second address) and
bob are B's; carol is A's (tier 1)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from chainpay.chain import Account
from chainpay.currency.registry import identity_id
from platform_support import A, B


@dataclass(frozen=True)
class Treasuries:
    a: Account
    b: Account


@pytest.fixture
def treasuries(system, actors) -> Treasuries:
    reg, cur = system.registry, system.currency
    a, b = actors.spare[0], actors.spare[1]
    reg.register_identity(identity_id("treasury-A"), 3, a, sender=actors.officer_a)
    reg.register_identity(identity_id("treasury-B"), 2, b, sender=actors.officer_b)
    cur.mint(a, Decimal(100_000))
    cur.mint(b, Decimal(100_000))
    return Treasuries(a, b)


@pytest.fixture
def chain_factory():
    """New in-process chains on the test engine, closed after the test."""
    from chainpay.testing import test_chain

    made = []
    yield lambda accounts=12: made.append(test_chain(accounts)) or made[-1]
    for chain in made:
        chain.close()


@pytest.fixture
def platforms(system, treasuries):
    p = system.platforms
    p.create(A, treasuries.a)
    p.create(B, treasuries.b)
    return p
