"""Differential property test: a small Python model of the currency's rules predicts every
operation's outcome (success, or exactly which custom error) and the chain must agree.

Invariants after every step: balances match the model, their sum equals totalSupply, each identity's
outflow today matches the model and never exceeds its tier's limit. The default run is short; the
`slow` variant runs many more and longer sequences (`make test-all` or `pytest -m slow`).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from chainpay import errors
from chainpay.testing import test_chain
from chainpay.testing import build_system

DAY = 86_400


class CurrencyModel(RuleBasedStateMachine):
    """Actors: alice (2 addresses, tier 2), bob (tier 2), carol (tier 1), stranger (unregistered)."""

    deployment = None  # (system, actors), built once per test function

    @initialize()
    def start(self):
        system, actors = self.deployment
        self.system, self.a = system, actors
        self.snapshot = system.chain.snapshot()
        # Two days ahead of the wall clock, each block is stamped exactly when the model says
        # (behind it, the chain would stamp the wall clock instead).
        system.chain.advance_time(2 * DAY)
        cur = system.currency
        self.people = [actors.alice, actors.alice2, actors.bob, actors.carol, actors.stranger]
        self.identity = {actors.alice.address: "alice", actors.alice2.address: "alice", actors.bob.address: "bob",
                         actors.carol.address: "carol"}
        self.tier = {"alice": 2, "bob": 2, "carol": 1}
        self.limit = {t: cur._read("dailyLimit", t) for t in (1, 2)}
        self.balance = {p.address: cur._read("balanceOf", p.address) for p in self.people}
        self.frozen: set[str] = set()
        self.spent: dict[str, tuple[int, int]] = {}  # identity -> (day, spent)

    def teardown(self):
        if hasattr(self, "snapshot"):
            self.system.chain.revert(self.snapshot)

    # ---------------------------------------------------------------- model of the contract
    def expected_transfer(self, frm: str, to: str, units: int, day: int):
        for party in (frm, to):  # the registry checks the sender, then the recipient
            if party not in self.identity:
                return ("NotRegistered", party)
            if party in self.frozen:
                return ("AddressFrozen", party)
        fid = self.identity[frm]
        if fid != self.identity[to]:
            limit = self.limit[self.tier[fid]]
            spent = self.spent.get(fid, (day, 0))[1] if self.spent.get(fid, (None,))[0] == day else 0
            if spent > limit or units > limit - spent:
                return ("DailyLimitExceeded", limit, spent, units)
        if self.balance[frm] < units:
            return ("ERC20InsufficientBalance", frm, self.balance[frm], units)
        return None

    # ---------------------------------------------------------------- rules
    @rule(i=st.integers(0, 4), j=st.integers(0, 4),
          units=st.one_of(st.integers(1, 50_000), st.integers(50_000, 600_000)), gap=st.integers(1, 9 * 3600))
    def transfer(self, i, j, units, gap):
        self._transfer(self.people[i], self.people[j], units, self.system.chain.now + gap)

    @rule(i=st.integers(0, 3), j=st.integers(2, 3), delta=st.sampled_from([-1, 0, 1]))
    def transfer_at_the_limit_edge(self, i, j, delta):
        """Send exactly what the sender's identity may still send today, one base unit less, or more."""
        frm, to = self.people[i], self.people[j]
        if frm.address not in self.identity:
            return
        when = self.system.chain.now + 2
        fid = self.identity[frm.address]
        day, spent = self.spent.get(fid, (when // DAY, 0))
        remaining = self.limit[self.tier[fid]] - (spent if day == when // DAY else 0)
        if remaining + delta > 0:
            self._transfer(frm, to, remaining + delta, when)

    def _transfer(self, frm, to, units, when):
        chain, cur = self.system.chain, self.system.currency
        chain.set_next_block_time(when)
        day = when // DAY
        expected = self.expected_transfer(frm.address, to.address, units, day)
        try:
            cur.transfer(to, cur.from_units(units), sender=frm)
            outcome = None
        except errors.ContractRevert as exc:
            outcome = (exc.error_name, *exc.values)
            if exc.error_name == "DailyLimitExceeded":
                outcome = (exc.error_name, *exc.values[1:])  # drop the identity hash
        assert outcome == expected
        if expected is None:
            self.balance[frm.address] -= units
            self.balance[to.address] += units
            fid = self.identity[frm.address]
            if fid != self.identity[to.address]:
                prev_day, prev = self.spent.get(fid, (day, 0))
                self.spent[fid] = (day, (prev if prev_day == day else 0) + units)

    @rule(i=st.integers(0, 3))
    def toggle_freeze(self, i):
        who = self.people[i]
        reg = self.system.registry
        if who.address in self.frozen:
            reg.unfreeze_address(who)
            self.frozen.discard(who.address)
        else:
            reg.freeze_address(who)
            self.frozen.add(who.address)

    @rule(tier=st.sampled_from([1, 2]), yuan=st.integers(0, 6_000))
    def set_limit(self, tier, yuan):
        self.system.currency.set_daily_limit(tier, Decimal(yuan))
        self.limit[tier] = yuan * 100

    @rule(i=st.integers(0, 3), yuan=st.integers(1, 8_000))
    def mint(self, i, yuan):
        who = self.people[i]
        try:
            self.system.currency.mint(who, Decimal(yuan))
            assert who.address not in self.frozen
            self.balance[who.address] += yuan * 100
        except errors.AddressFrozen as exc:
            assert who.address in self.frozen and exc.account == who.address

    # ---------------------------------------------------------------- invariants
    @invariant()
    def balances_match_and_sum_to_supply(self):
        if not hasattr(self, "system"):
            return
        cur = self.system.currency
        onchain = {addr: cur._read("balanceOf", addr) for addr in self.balance}
        assert onchain == self.balance
        # every holder is among the actors (the issuer never receives in this model)
        assert sum(onchain.values()) == cur._read("totalSupply")

    @invariant()
    def outflow_matches_the_model(self):
        if not hasattr(self, "system"):
            return
        cur, chain = self.system.currency, self.system.chain
        today = chain.now // DAY
        for person, identity in (("alice", "alice"), ("bob", "bob"), ("carol", "carol")):
            who = getattr(self.a, person)
            if who.address in self.frozen:
                continue  # outflowToday reverts for frozen addresses
            spent, _ = cur._read("outflowToday", who.address)
            day, model_spent = self.spent.get(identity, (today, 0))
            assert spent == (model_spent if day == today else 0)


@pytest.fixture(scope="module")
def deployment():
    return build_system(test_chain(16))


def _run(deployment, examples: int, steps: int):
    CurrencyModel.deployment = deployment
    runner = CurrencyModel.TestCase
    runner.settings = settings(max_examples=examples, stateful_step_count=steps, deadline=None,
                               suppress_health_check=list(HealthCheck), derandomize=True)
    runner().runTest()


def test_model_agrees_with_the_chain_short(deployment):
    _run(deployment, examples=12, steps=30)


@pytest.mark.slow
def test_model_agrees_with_the_chain_long(deployment):
    _run(deployment, examples=120, steps=60)
