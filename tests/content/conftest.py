"""Fixtures of the pay-per-use content suites: a provider, a platform and a service provider
registered at platform A, and two listings split 70 / 20 / 10 among them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from content_support import SPLIT_BPS, Shop

from chainpay.currency.registry import identity_id


@pytest.fixture
def shop(system, actors) -> Shop:
    reg, cat = system.registry, system.catalogue
    provider, platform, service = actors.spare[0], actors.spare[1], actors.spare[2]
    for n, who in enumerate((provider, platform, service)):
        reg.register_identity(identity_id(f"payee-{n}"), 3, who, sender=actors.officer_a)
    split = list(zip((provider, platform, service), SPLIT_BPS))
    song = cat.list(Decimal(3), "download", split, sender=provider)
    page = cat.list(Decimal("0.10"), "call", split, sender=provider)
    return Shop(system, actors, provider, platform, service, song, page)
