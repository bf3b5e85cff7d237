"""Fixtures of the pay-per-use content suites: a provider, a platform and a service provider
registered at platform A, and two listings split 70 / 20 / 10 among them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from chainpay.catalogue import Listing
from chainpay.registry import identity_id

SPLIT_BPS = (7000, 2000, 1000)


@dataclass
class Shop:
    system: object
    actors: object
    provider: object
    platform: object
    service: object
    song: Listing  # 3 yuan per download
    page: Listing  # 0.10 yuan per call

    @property
    def payees(self):
        return (self.provider, self.platform, self.service)

    def balances(self, *who) -> tuple:
        return tuple(self.system.currency.balance_of(w) for w in who)

    def held(self):
        """What the channel contract holds, and what it owes (live channels, earnings, refunds)."""
        return self.system.currency.balance_of(self.system.channels.address)


@pytest.fixture
def shop(system, actors) -> Shop:
    reg, cur, cat = system.registry, system.currency, system.catalogue
    provider, platform, service = actors.spare[0], actors.spare[1], actors.spare[2]
    for n, who in enumerate((provider, platform, service)):
        reg.register_identity(identity_id(f"payee-{n}"), 3, who, sender=actors.officer_a)
    split = list(zip((provider, platform, service), SPLIT_BPS))
    song = cat.list(Decimal(3), "download", split, sender=provider)
    page = cat.list(Decimal("0.10"), "call", split, sender=provider)
    return Shop(system, actors, provider, platform, service, song, page)
