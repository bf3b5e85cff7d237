"""Model-based test of platform balances: a Python model of the rules predicts every step's outcome
(success, or exactly which custom error) over random sequences of top-ups, redemptions,
interconversions, ratio changes, deposits and withdrawals of excess reserve, freezes and white-list
removal, on two platforms.

After every step: every balance, reserve and supply equals the model's; every unit of currency is in a
wallet or a reserve (supply = wallets + reserves); the contract holds exactly the sum of reserves; and
reserve >= ratio x supply on every platform, except after a customer took money out of a partial
reserve (then the platform may not take any out until it is met again). Short by default; longer under
`-m slow`.
"""

from __future__ import annotations

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from support import expect_outcome, run_state_machine

from chainpay.currency.registry import identity_id
from chainpay.testing import build_system, test_chain

PLATFORMS = (1, 2)
BPS = 10_000


class ReserveModel(RuleBasedStateMachine):
    deployment = None  # (system, actors, customers by platform, treasuries), built once per test function

    @initialize()
    def start(self):
        self.system, self.a, self.customers, self.treasury = self.deployment
        self.snapshot = self.system.chain.snapshot()
        self.p, self.cur, self.reg = self.system.platforms, self.system.currency, self.system.registry
        people = [w for ws in self.customers.values() for w in ws] + list(self.treasury.values())
        self.cash = {w.address: self.cur._read("balanceOf", w.address) for w in people}
        self.held = {(w.address, pl): 0 for w in people for pl in PLATFORMS}
        self.reserve = {pl: 0 for pl in PLATFORMS}
        self.ratio = {pl: BPS for pl in PLATFORMS}
        self.listed = {pl: True for pl in PLATFORMS}
        self.frozen: set[str] = set()

    def teardown(self):
        if hasattr(self, "snapshot"):
            self.system.chain.revert(self.snapshot)

    # ---------------------------------------------------------------- helpers
    def expect(self, action, error: str | None):
        return expect_outcome(action, error)

    def supply(self, pl: int) -> int:
        return sum(v for (_, q), v in self.held.items() if q == pl)

    def required(self, pl: int) -> int:
        return -(-self.supply(pl) * self.ratio[pl] // BPS)

    def u(self, units: int):
        return self.cur.from_units(units)

    # ---------------------------------------------------------------- rules
    @rule(pl=st.sampled_from(PLATFORMS), who=st.integers(0, 1), units=st.integers(1, 60_000))
    def top_up(self, pl, who, units):
        w = self.customers[pl][who]
        # the permit comes first (a frozen owner cannot raise an allowance), then the platform's checks
        error = ("AddressFrozen" if w.address in self.frozen else "PlatformNotListed" if not self.listed[pl]
                 else "ERC20InsufficientBalance" if units > self.cash[w.address] else None)
        self.expect(lambda: self.p.top_up(pl, self.u(units), sender=w), error)
        if error is None:
            self.cash[w.address] -= units
            self.held[(w.address, pl)] += units
            self.reserve[pl] += units

    @rule(pl=st.sampled_from(PLATFORMS), who=st.integers(0, 1), units=st.integers(1, 60_000))
    def redeem(self, pl, who, units):
        w = self.customers[pl][who]
        error = ("ERC6909InsufficientBalance" if units > self.held[(w.address, pl)]
                 else "InsufficientReserve" if units > self.reserve[pl]
                 else "AddressFrozen" if w.address in self.frozen else None)
        self.expect(lambda: self.p.redeem(pl, self.u(units), sender=w), error)
        if error is None:
            self.held[(w.address, pl)] -= units
            self.reserve[pl] -= units
            self.cash[w.address] += units

    @rule(src=st.sampled_from(PLATFORMS), who=st.integers(0, 1), units=st.integers(1, 60_000))
    def interconvert(self, src, who, units):
        dst = 3 - src
        w, to = self.customers[src][who], self.customers[dst][who]  # the same person at the other platform
        if units >= 500_000:  # the escrow's approval threshold (5,000 yuan): never drawn here
            return
        error = ("PlatformNotListed" if not (self.listed[src] and self.listed[dst])
                 else "AddressFrozen" if {w.address, to.address} & self.frozen
                 else "ERC6909InsufficientBalance" if units > self.held[(w.address, src)]
                 else "InsufficientReserve" if units > self.reserve[src] else None)
        self.expect(lambda: self.p.interconvert(src, dst, self.u(units), sender=w, to=to), error)
        if error is None:
            self.held[(w.address, src)] -= units
            self.reserve[src] -= units
            self.held[(to.address, dst)] += units
            self.reserve[dst] += units

    @rule(pl=st.sampled_from(PLATFORMS), bps=st.sampled_from([BPS, 2_000, 800, 0, 5_000]))
    def set_ratio(self, pl, bps):
        self.p.set_ratio(pl, f"{bps / 100}%")
        self.ratio[pl] = bps

    @rule(pl=st.sampled_from(PLATFORMS), units=st.integers(1, 80_000))
    def withdraw_excess(self, pl, units):
        excess = self.reserve[pl] - self.required(pl)
        error = "ReserveBelowRequired" if units > excess else None
        t = self.treasury[pl]
        self.expect(lambda: self.p.withdraw_excess(pl, self.u(units), sender=t), error)
        if error is None:
            self.reserve[pl] -= units
            self.cash[t.address] += units

    @rule(pl=st.sampled_from(PLATFORMS), units=st.integers(1, 50_000))
    def deposit_reserve(self, pl, units):
        t = self.treasury[pl]
        error = "ERC20InsufficientBalance" if units > self.cash[t.address] else None
        self.expect(lambda: self.p.deposit_reserve(pl, self.u(units), sender=t), error)
        if error is None:
            self.cash[t.address] -= units
            self.reserve[pl] += units

    @rule(pl=st.sampled_from(PLATFORMS), who=st.integers(0, 1))
    def toggle_freeze(self, pl, who):
        w = self.customers[pl][who]
        if w.address in self.frozen:
            self.reg.unfreeze_address(w)
            self.frozen.discard(w.address)
        else:
            self.reg.freeze_address(w)
            self.frozen.add(w.address)

    @rule(pl=st.sampled_from(PLATFORMS))
    def toggle_white_list(self, pl):
        self.listed[pl] = not self.listed[pl]
        self.reg.set_institution_active(pl, self.listed[pl])

    # ---------------------------------------------------------------- invariants
    @invariant()
    def books_agree(self):
        if not hasattr(self, "p"):
            return
        for address, units in self.cash.items():
            assert self.cur._read("balanceOf", address) == units
        for (address, pl), units in self.held.items():
            assert self.p._read("balanceOf", address, pl) == units
        for pl in PLATFORMS:
            assert self.p._read("reserveOf", pl) == self.reserve[pl]
            assert self.p._read("totalSupply", pl) == self.supply(pl)
            assert self.p._read("requiredReserve", pl) == self.required(pl)
            if self.ratio[pl] == BPS:
                assert self.reserve[pl] >= self.supply(pl)  # full reserve: every balance is backed
        total = sum(self.reserve.values())
        assert self.cur._read("balanceOf", self.p.address) == self.p._read("totalReserve") == total
        # every unit of currency is in a wallet or a reserve
        assert self.cur._read("totalSupply") == self.outside + sum(self.cash.values()) + total

    @property
    def outside(self) -> int:
        """Currency of the deployment's other holders (constant: they take no part in the model)."""
        if not hasattr(self, "_outside"):
            self._outside = self.cur._read("totalSupply") - sum(self.cash.values()) - sum(self.reserve.values())
        return self._outside


@pytest.fixture(scope="module")
def deployment():
    system, actors = build_system(test_chain(20))
    reg, cur = system.registry, system.currency
    spare = actors.spare
    customers = {1: [actors.alice, spare[2]], 2: [actors.alice2, spare[3]]}
    reg.register_identity(identity_id("model person 1"), 2, spare[2], sender=actors.officer_a)
    reg.link_address(identity_id("model person 1"), spare[3], sender=actors.officer_b, consenting=spare[2])
    treasury = {1: spare[0], 2: spare[1]}
    reg.register_identity(identity_id("model treasury 1"), 3, spare[0], sender=actors.officer_a)
    reg.register_identity(identity_id("model treasury 2"), 2, spare[1], sender=actors.officer_b)
    for tier in (2, 3):  # daily limits are the currency's business, tested elsewhere
        cur.set_daily_limit(tier, None)
    for who in (spare[0], spare[1], spare[2]):
        cur.mint(who, cur.from_units(100_000))
    system.platforms.create(1, spare[0])
    system.platforms.create(2, spare[1])
    return system, actors, customers, treasury


def test_reserve_model_agrees_with_the_chain_short(deployment):
    run_state_machine(ReserveModel, deployment, examples=5, steps=30)


@pytest.mark.slow
def test_reserve_model_agrees_with_the_chain_long(deployment):
    run_state_machine(ReserveModel, deployment, examples=60, steps=60)
