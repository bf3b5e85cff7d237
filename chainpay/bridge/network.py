"""Two platforms, each on its own permissioned chain, joined by a hashed-timelock bridge.

Each platform is an independent in-process chain with its own registry, currency and bridge. People
are registered on both under the same identity hash (``identity_id(record, salt)`` with a salt the
platforms share) but with different addresses; a connector (a white-listed liquidity provider) holds
currency on both. One simulated clock (:class:`Network.now`) drives both chains (a transaction lands in a
block stamped no earlier than the clock), so timelocks, outages and block intervals play out in
simulated hours in a second of real time.

A chain can be halted for a while (:meth:`Network.halt`): it refuses transactions and its clock
stands still until the simulated clock passes the end of the outage.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable

from ..chain import Account, Chain, TesterChain, resolve_engine
from ..config import DeployConfig
from ..core import errors
from ..currency.registry import identity_id
from ..system import System, deploy
from .client import Bridge, deploy_bridge

log = logging.getLogger(__name__)

CONNECTOR_INSTITUTION = 100  # the connector's own licence, on both platforms
CONNECTOR_TIER = 5  # a payment institution: no daily outflow limit


class ChainHalted(errors.ChainConnectionError):
    """The chain produces no blocks right now (a simulated outage)."""


class Haltable:
    """Mixin for an in-process engine: a chain that can stop producing blocks; while halted every send
    is refused. Reads still answer (a node keeps serving its last state during a consensus stall)."""

    def _init_halting(self, name: str) -> None:
        self.name = name
        self.halted = False
        self.clock: Callable[[], int] | None = None  # the simulated clock a transaction's block follows

    def _send(self, sender: Account, tx: dict) -> dict:
        if self.halted:
            raise ChainHalted(f"chain {self.name} is not producing blocks")
        if self.clock is not None:  # catch up lazily: one block per transaction, none per tick of the clock
            lag = self.clock() - self.now
            if lag > 0:
                self.advance_time(lag)
        return super()._send(sender, tx)


class HaltableChain(Haltable, TesterChain):
    """A haltable eth-tester chain."""

    __test__ = False

    def __init__(self, name: str, num_accounts: int):
        super().__init__(num_accounts=num_accounts)
        self._init_halting(name)


def haltable_chain(name: str, num_accounts: int, engine: str | None = "eth-tester") -> Chain:
    """A haltable in-process chain on `engine` (see chainpay.chain.resolve_engine)."""
    if resolve_engine(engine) == "eth-tester":
        return HaltableChain(name, num_accounts)
    from ..chain.edr import EdrChain

    class HaltableEdrChain(Haltable, EdrChain):
        def __init__(self):
            super().__init__(num_accounts=num_accounts)
            self._init_halting(name)

    return HaltableEdrChain()


@dataclass
class Platform:
    """One platform: its chain, deployed system, bridge and KYC officer."""

    name: str
    chain: Haltable
    system: System
    bridge: Bridge
    officer: Account
    halted_until: int | None = None

    @property
    def currency(self):
        return self.system.currency

    @property
    def registry(self):
        return self.system.registry


@dataclass(frozen=True)
class Person:
    """A verified person with an account on each platform (different addresses, one identity hash)."""

    name: str
    identity: bytes
    a: Account
    b: Account


@dataclass
class Network:
    """Platforms A and B on one simulated clock, with their people and the connector."""

    a: Platform
    b: Platform
    connector: Person
    people: list[Person] = field(default_factory=list)
    salt: bytes = b"chainpay-two-platforms"
    now: int = 0

    def close(self) -> None:
        """Stop both chains' engines (the fast engine's node processes)."""
        self.a.chain.close()
        self.b.chain.close()

    # ------------------------------------------------------------- clock
    def advance(self, seconds: int) -> int:
        """Move the simulated clock forward (a chain follows at its next transaction); an outage that
        has run its course ends."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        self.now += int(seconds)
        for platform in (self.a, self.b):
            if platform.halted_until is not None and self.now >= platform.halted_until:
                platform.chain.halted = False
                platform.halted_until = None
                log.info("chain %s produces blocks again at %d", platform.name, self.now)
        return self.now

    def sync(self, platform: Platform) -> None:
        """Mine a block on a running chain at the simulated clock (chains otherwise catch up lazily,
        at their next transaction)."""
        if platform.chain.halted:
            return
        platform.chain.advance_time(max(0, self.now - platform.chain.now))
        self.now = max(self.now, platform.chain.now)

    def halt(self, platform: Platform, seconds: int) -> None:
        """Stop `platform`'s chain for `seconds` of simulated time from now."""
        self.sync(platform)
        platform.chain.halted = True
        platform.halted_until = self.now + int(seconds)
        log.info("chain %s halted until %d", platform.name, platform.halted_until)

    # ------------------------------------------------------------- accounting
    def holdings(self, person: Person) -> Decimal:
        """What a person holds on both chains together."""
        return self.a.currency.balance_of(person.a) + self.b.currency.balance_of(person.b)

    def in_bridges(self) -> Decimal:
        return self.a.currency.balance_of(self.a.bridge.address) + self.b.currency.balance_of(self.b.bridge.address)

    def total_supply(self) -> Decimal:
        return self.a.currency.total_supply() + self.b.currency.total_supply()


def _platform(name: str, institution: int, num_accounts: int, config: DeployConfig | None, engine: str | None) -> Platform:
    chain = haltable_chain(name, num_accounts, engine)
    system = deploy(chain, config)
    bridge = deploy_bridge(system)
    officer = chain.accounts[4]
    system.registry.add_institution(institution, f"Platform {name}", 3)
    system.registry.add_kyc_officer(officer, institution)
    system.registry.add_institution(CONNECTOR_INSTITUTION, "Bridge connector", CONNECTOR_TIER)
    return Platform(name, chain, system, bridge, officer)


def build_network(people: int = 4, *, tier: int = 3, opening_balance: Decimal = Decimal(20_000),
                  connector_liquidity: Decimal = Decimal(100_000), config: DeployConfig | None = None,
                  salt: bytes = b"chainpay-two-platforms", engine: str | None = "eth-tester") -> Network:
    """Two platforms with `people` customers registered on both (at `tier`, `opening_balance` on A)
    and a connector holding `connector_liquidity` on each side.

    Accounts: #0-#3 run each chain (admin, issuer, compliance, pauser), #4 is the platform's KYC
    officer, #5 the connector; customers use #6.. on A and the same indices counted from the end on B,
    so a person's two addresses differ and only the identity hash ties them together."""
    num_accounts = 6 + people
    a = _platform("A", 1, num_accounts, config, engine)
    b = _platform("B", 2, num_accounts, config, engine)
    connector = _register(a, b, "connector", identity_id({"institution": "bridge connector"}, salt),
                          a.chain.accounts[5], b.chain.accounts[5], CONNECTOR_TIER, connector_institution=True)
    for platform, account in ((a, connector.a), (b, connector.b)):
        platform.bridge.add_connector(account)
        platform.currency.mint(account, connector_liquidity)
    network = Network(a, b, connector, salt=salt)
    for i in range(people):
        name = f"person-{i}"
        person = _register(a, b, name, identity_id({"name": name, "id": f"ID{i:06d}"}, salt),
                           a.chain.accounts[6 + i], b.chain.accounts[num_accounts - 1 - i], tier)
        a.currency.mint(person.a, opening_balance)
        network.people.append(person)
    network.now = max(a.chain.now, b.chain.now)
    a.chain.clock = b.chain.clock = lambda: network.now
    return network


def _register(a: Platform, b: Platform, name: str, identity: bytes, on_a: Account, on_b: Account, tier: int, *,
              connector_institution: bool = False) -> Person:
    for platform, account in ((a, on_a), (b, on_b)):
        registry = platform.registry
        if connector_institution:  # the admin acts as the connector institution's KYC officer, once
            admin = platform.system.role("DEFAULT_ADMIN")
            registry.add_kyc_officer(admin, CONNECTOR_INSTITUTION)
            try:
                registry.register_identity(identity, tier, account, sender=admin)
            finally:
                registry.remove_kyc_officer(admin)
        else:
            registry.register_identity(identity, tier, account, sender=platform.officer)
    return Person(name, identity, on_a, on_b)
