"""Randomized sequences of revocable-transfer actions against a Python model of the contract.

The model predicts every action's outcome (success, or exactly which custom error with which
arguments) and the chain must agree. After every step: the escrow's token balance equals totalHeld
equals the sum of the model's open transfers; every transfer's state, release time and dispute
deadline match; every balance matches and their sum never changes; each identity's outflow today
matches the model (sends count, same-day returns give back). Rules aim at the exact seconds where
outcomes flip: a transfer's release time and dispute deadline (at_the_edge) and a UTC midnight with a
transfer pending across it (across_midnight). Short by default; `slow` runs longer.
"""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from chainpay import errors
from chainpay.testing import test_chain
from chainpay.testing import build_system
from chainpay.transfers.client import TransferState as S

DAY = 86_400
COOLING_OFF = 2 * 3600
DISPUTE_WINDOW = 6 * 3600  # shorter than the default 72 h so that sequences reach the fallback
THRESHOLD = 50_000  # 500 yuan in base units: large transfers are common in the sequences
OPEN = (S.AWAITING_APPROVAL, S.PENDING, S.DISPUTED)
# Time between actions: mostly minutes (actions inside the windows), sometimes hours (past them).
GAPS = st.one_of(st.integers(1, 900), st.integers(1, 900), st.integers(900, 4 * 3600))


class EscrowModel(RuleBasedStateMachine):
    deployment = None  # (system, actors), built once per test function

    @initialize()
    def start(self):
        system, a = self.deployment
        self.system, self.a = system, a
        self.chain, self.cur, self.t = system.chain, system.currency, system.transfers
        self.snapshot = self.chain.snapshot()
        self.chain.advance_time(2 * DAY)  # ahead of the wall clock: blocks are stamped as the model says
        self.t.set_cooling_off([(0, COOLING_OFF)])
        self.t.set_dispute_window(DISPUTE_WINDOW)
        self.t.set_approval_threshold(self.cur.from_units(THRESHOLD))
        self.device = a.spare[1]
        system.registry.set_approver(a.alice_id, self.device)
        self.people = [a.alice, a.bob, a.carol]
        self.identity = {a.alice.address: "alice", a.bob.address: "bob", a.carol.address: "carol"}
        self.balance = {p.address: self.cur._read("balanceOf", p.address) for p in self.people}
        self.total = sum(self.balance.values())
        self.frozen: set[str] = set()
        self.spent: dict[str, tuple[int, int]] = {}  # identity -> (day, spent)
        self.transfers: dict[int, dict] = {}

    def teardown(self):
        if hasattr(self, "snapshot"):
            self.chain.revert(self.snapshot)

    # ---------------------------------------------------------------- helpers
    def _at(self, gap: int) -> int:
        """Stamp the next block `gap` seconds after the latest one; returns that time."""
        when = self.chain.now + gap
        self.chain.set_next_block_time(when)
        return when

    def _pick(self, k: int) -> int | None:
        """Mostly an open transfer (where the interesting transitions are), sometimes any."""
        if not self.transfers:
            return None
        open_ids = [i for i, tr in self.transfers.items() if tr["state"] in OPEN]
        if open_ids and k % 5:
            return open_ids[k % len(open_ids)]
        return (k % len(self.transfers)) + 1

    def _outcome(self, action):
        try:
            action()
        except errors.ContractRevert as exc:
            return (exc.error_name, exc.values)
        return None

    def _check(self, expected, action):
        got = self._outcome(action)
        assert got == expected, (expected, got)
        return got is None

    def _refund_error(self, tr):
        return ("AddressFrozen", (tr["from"],)) if tr["from"] in self.frozen else None

    def _refund(self, tr, now: int):
        self.balance[tr["from"]] += tr["amount"]
        ident = self.identity[tr["from"]]
        day = now // DAY
        if tr["day"] == day and self.spent.get(ident, (None, 0))[0] == day:
            spent = self.spent[ident][1]
            self.spent[ident] = (day, spent - min(tr["amount"], spent))

    def _pay(self, tr):
        self.balance[tr["to"]] += tr["amount"]

    def _window_error(self, i: int, tr, now: int):
        """What _beforeRelease refuses with (None inside the window)."""
        if tr["state"] is S.PENDING:
            return ("CoolingOffOver", (i, tr["release_at"])) if now >= tr["release_at"] else None
        if tr["state"] is not S.AWAITING_APPROVAL:
            return ("WrongState", (i, int(tr["state"])))
        return None

    # ---------------------------------------------------------------- rules
    @rule(i=st.integers(0, 2), step=st.integers(0, 8),
          units=st.one_of(st.integers(1, 5_000), st.integers(1, 5_000), st.integers(40_000, 120_000)), gap=GAPS)
    def send(self, i, step, units, gap):
        frm, to = self.people[i], self.people[(i + min(step, 2)) % 3]  # to oneself now and then
        now = self._at(gap)
        if frm.address in self.frozen:
            expected = ("AddressFrozen", (frm.address,))  # the SDK's permit fails first; its error is surfaced
        elif frm == to:
            expected = ("InvalidRecipient", (to.address,))
        elif to.address in self.frozen:
            expected = ("AddressFrozen", (to.address,))
        elif self.balance[frm.address] < units:
            expected = ("ERC20InsufficientBalance", (frm.address, self.balance[frm.address], units))
        else:
            expected = None
        if self._check(expected, lambda: self.t.send(to, self.cur.from_units(units), sender=frm, memo=f"m{units}")):
            large = units >= THRESHOLD
            ident = self.identity[frm.address]
            day = now // DAY
            spent = self.spent.get(ident, (day, 0))
            self.spent[ident] = (day, (spent[1] if spent[0] == day else 0) + units)
            self.balance[frm.address] -= units
            self.transfers[len(self.transfers) + 1] = {
                "from": frm.address, "to": to.address, "amount": units, "day": day, "deadline": None,
                "state": S.AWAITING_APPROVAL if large else S.PENDING,
                "release_at": None if large else now + COOLING_OFF}

    @rule(k=st.integers(0, 50), who=st.sampled_from(["device", "compliance", "stranger", "sender"]),
          gap=GAPS)
    def approve(self, k, who, gap):
        i = self._pick(k)
        if i is not None:
            self._approve(i, who, gap)

    def _approve(self, i, who, gap):
        tr = self.transfers[i]
        caller = {"device": self.device, "compliance": self.a.compliance, "stranger": self.a.stranger,
                  "sender": self.system.chain.account(tr["from"])}[who]
        now = self._at(gap)
        if tr["state"] is not S.AWAITING_APPROVAL:
            expected = ("WrongState", (i, int(tr["state"])))
        elif who == "compliance" or (who == "device" and self.identity[tr["from"]] == "alice"):
            expected = None
        else:
            expected = ("NotApprover", (i, caller.address))
        if self._check(expected, lambda: self.t.approve(i, sender=caller)):
            tr["state"], tr["release_at"] = S.PENDING, now + COOLING_OFF

    @rule(k=st.integers(0, 50), by_sender=st.booleans(), gap=GAPS)
    def revoke_or_reject(self, k, by_sender, gap):
        i = self._pick(k)
        if i is not None:
            self._revoke_or_reject(i, by_sender, gap)

    def _revoke_or_reject(self, i, by_sender, gap):
        tr = self.transfers[i]
        caller = self.chain.account(tr["from"] if by_sender else tr["to"])
        now = self._at(gap)
        expected = self._window_error(i, tr, now) or self._refund_error(tr)
        action = self.t.revoke if by_sender else self.t.reject
        if self._check(expected, lambda: action(i, sender=caller)):
            tr["state"] = S.REVOKED if by_sender else S.REJECTED
            self._refund(tr, now)

    @rule(k=st.integers(0, 50), outsider=st.booleans(), gap=GAPS)
    def dispute(self, k, outsider, gap):
        i = self._pick(k)
        if i is not None:
            self._dispute(i, outsider, gap)

    def _dispute(self, i, outsider, gap):
        tr = self.transfers[i]
        caller = self.a.stranger if outsider else self.chain.account(tr["to"])
        now = self._at(gap)
        expected = self._window_error(i, tr, now)
        if expected is None and outsider:
            expected = ("NotParty", (i, caller.address))
        if self._check(expected, lambda: self.t.dispute(i, sender=caller)):
            tr["state"], tr["deadline"] = S.DISPUTED, now + DISPUTE_WINDOW

    @rule(k=st.integers(0, 50), to_recipient=st.booleans(), gap=GAPS)
    def resolve(self, k, to_recipient, gap):
        i = self._pick(k)
        if i is not None:
            self._resolve(i, to_recipient, gap)

    def _resolve(self, i, to_recipient, gap):
        tr = self.transfers[i]
        now = self._at(gap)
        if tr["state"] is not S.DISPUTED:
            expected = ("WrongState", (i, int(tr["state"])))
        elif now >= tr["deadline"]:
            expected = ("DisputeDeadlinePassed", (i, tr["deadline"]))
        elif to_recipient:
            expected = ("AddressFrozen", (tr["to"],)) if tr["to"] in self.frozen else None
        else:
            expected = self._refund_error(tr)
        if self._check(expected, lambda: self.t.resolve(i, to_recipient=to_recipient)):
            if to_recipient:
                tr["state"] = S.RESOLVED_TO_RECIPIENT
                self._pay(tr)
            else:
                tr["state"] = S.RESOLVED_TO_SENDER
                self._refund(tr, now)

    @rule(k=st.integers(0, 50), gap=GAPS)
    def return_expired_dispute(self, k, gap):
        i = self._pick(k)
        if i is not None:
            self._return_expired_dispute(i, gap)

    def _return_expired_dispute(self, i, gap):
        tr = self.transfers[i]
        now = self._at(gap)
        if tr["state"] is not S.DISPUTED:
            expected = ("WrongState", (i, int(tr["state"])))
        elif now < tr["deadline"]:
            expected = ("DisputeStillOpen", (i, tr["deadline"]))
        else:
            expected = self._refund_error(tr)
        if self._check(expected, lambda: self.t.return_expired_dispute(i, sender=self.a.stranger)):
            tr["state"] = S.DISPUTE_EXPIRED
            self._refund(tr, now)

    def _settle(self, tr, now) -> bool:
        if tr["to"] not in self.frozen:
            tr["state"] = S.RELEASED
            self._pay(tr)
        elif tr["from"] not in self.frozen:
            tr["state"] = S.RETURNED
            self._refund(tr, now)
        else:
            return False
        return True

    @rule(k=st.integers(0, 50), gap=GAPS)
    def release(self, k, gap):
        i = self._pick(k)
        if i is not None:
            self._release(i, gap)

    def _release(self, i, gap):
        tr = self.transfers[i]
        now = self._at(gap)
        if tr["state"] is not S.PENDING:
            expected = ("WrongState", (i, int(tr["state"])))
        elif now < tr["release_at"]:
            expected = ("NotYetDue", (i, tr["release_at"]))
        elif tr["to"] in self.frozen:
            expected = self._refund_error(tr)
        else:
            expected = None
        if self._check(expected, lambda: self.t.release(i, sender=self.a.stranger)):
            assert self._settle(tr, now)

    @rule(ks=st.lists(st.integers(0, 50), min_size=1, max_size=6), gap=GAPS)
    def release_many(self, ks, gap):
        ids = list(dict.fromkeys(self._pick(k) for k in ks if self.transfers))
        if not ids:
            return
        now = self._at(gap)
        settled = []
        for i in ids:
            tr = self.transfers[i]
            if tr["state"] is S.PENDING and now >= tr["release_at"] and self._settle(tr, now):
                settled.append(i)
        batch = self.t.release_many(ids, sender=self.a.stranger)
        assert sorted(batch.released + batch.returned) == sorted(settled)

    @rule(k=st.integers(0, 50), action=st.sampled_from(["release", "revoke", "dispute", "resolve", "expire"]),
          delta=st.sampled_from([-1, 0]))
    def at_the_edge(self, k, action, delta):
        """Act exactly at a transfer's release time or dispute deadline, or one second before."""
        field, state = ("deadline", S.DISPUTED) if action in ("resolve", "expire") else ("release_at", S.PENDING)
        ahead = [i for i, tr in self.transfers.items()
                 if tr["state"] is state and (tr[field] or 0) + delta > self.chain.now]
        if not ahead:
            return
        i = ahead[k % len(ahead)]
        gap = self.transfers[i][field] + delta - self.chain.now
        if action == "release":
            self._release(i, gap)
        elif action == "revoke":
            self._revoke_or_reject(i, True, gap)
        elif action == "dispute":
            self._dispute(i, False, gap)
        elif action == "resolve":
            self._resolve(i, True, gap)
        else:
            self._return_expired_dispute(i, gap)

    @rule(i=st.integers(0, 2), before=st.integers(1, 900), delta=st.sampled_from([-1, 0]),
          action=st.sampled_from(["revoke", "reject", "send", "dispute"]))
    def across_midnight(self, i, before, delta, action):
        """Send `before` seconds ahead of the next UTC midnight, then act in the day's last second or the
        next day's first: a returned transfer gives its outflow back only on the day it was sent, and a
        day's spending starts afresh at 00:00:00 (the model predicts both to the second)."""
        midnight = (self.chain.now // DAY + 1) * DAY
        if midnight - before <= self.chain.now:
            midnight += DAY
        sent = len(self.transfers)
        self.send(i, 1, 2_000, midnight - before - self.chain.now)  # to the next person; pending past midnight
        if len(self.transfers) == sent or midnight + delta <= self.chain.now:
            return
        gap = midnight + delta - self.chain.now
        if action == "send":
            self.send(i, 1, 3_000, gap)
        elif action == "dispute":
            self._dispute(sent + 1, False, gap)
        else:
            self._revoke_or_reject(sent + 1, action == "revoke", gap)

    @rule(i=st.integers(0, 8), gap=st.integers(1, 600))
    def toggle_freeze(self, i, gap):
        """Freeze or unfreeze a party (a no-op two times in three: frozen parties refuse most actions)."""
        if i > 2:
            return
        who = self.people[i]
        self._at(gap)
        if who.address in self.frozen:
            self.system.registry.unfreeze_address(who)
            self.frozen.discard(who.address)
        else:
            self.system.registry.freeze_address(who)
            self.frozen.add(who.address)

    # ---------------------------------------------------------------- invariants
    @invariant()
    def escrow_holds_exactly_the_open_transfers(self):
        if not hasattr(self, "t"):
            return
        open_sum = sum(tr["amount"] for tr in self.transfers.values() if tr["state"] in OPEN)
        assert self.cur._read("balanceOf", self.t.address) == self.t._read("totalHeld") == open_sum
        balances = {p: self.cur._read("balanceOf", p) for p in self.balance}
        assert balances == self.balance
        assert sum(balances.values()) + open_sum == self.total  # nothing created or lost

    @invariant()
    def every_transfer_matches_the_model(self, only_open: bool = False):
        if not hasattr(self, "t"):
            return
        assert self.t._read("transferCount") == len(self.transfers)
        for i, tr in self.transfers.items():
            if only_open and tr["state"] not in OPEN and i != len(self.transfers):
                continue
            _, _, amount, state, release_at, deadline, _ = self.t._read("getTransfer", i)
            assert (amount, S(state), release_at or None, deadline or None) == (
                tr["amount"], tr["state"], tr["release_at"], tr["deadline"]), i

    @invariant()
    def outflow_matches_the_model(self):
        if not hasattr(self, "t"):
            return
        today = self.chain.now // DAY
        for who in self.people:
            if who.address in self.frozen:
                continue
            spent, _ = self.cur._read("outflowToday", who.address)
            day, model = self.spent.get(self.identity[who.address], (today, 0))
            assert spent == (model if day == today else 0), who


@pytest.fixture(scope="module")
def deployment():
    system, actors = build_system(test_chain(16))
    system.registry.set_tier(actors.alice_id, 3)  # room for large transfers within a day
    system.registry.set_tier(actors.bob_id, 3)
    system.registry.set_tier(actors.carol_id, 3)
    for who in (actors.alice, actors.bob, actors.carol):
        system.currency.mint(who, Decimal(3000))
    return system, actors


def _run(deployment, examples: int, steps: int):
    EscrowModel.deployment = deployment
    runner = EscrowModel.TestCase
    # No shrinking: every step is a chain transaction, and shrinking a failure takes many minutes; the
    # failing sequence is printed as found.
    runner.settings = settings(max_examples=examples, stateful_step_count=steps, deadline=None,
                               suppress_health_check=list(HealthCheck), derandomize=True,
                               phases=[Phase.explicit, Phase.reuse, Phase.generate])
    runner().runTest()


def _gap(rnd: random.Random) -> int:
    return rnd.randint(1, 300) if rnd.random() < 0.85 else rnd.randint(300, 4 * 3600)


# A seeded random walk over the same model: weighted towards the transitions that matter and the
# exact edges (release time, dispute deadline), it reaches far more of them per second than
# Hypothesis's rule choice does.
WALK = [
    (6, lambda m, r: m.send(r.randrange(3), r.choice([0, 1, 2, 2, 2, 2, 2, 2]),
                            r.randint(40_000, 120_000) if r.random() < 0.3 else r.randint(1, 5_000), _gap(r))),
    (2, lambda m, r: m.approve(r.randrange(50), r.choice(["device", "device", "compliance", "stranger", "sender"]),
                               _gap(r))),
    (2, lambda m, r: m.revoke_or_reject(r.randrange(50), r.random() < 0.5, _gap(r))),
    (2, lambda m, r: m.dispute(r.randrange(50), r.random() < 0.2, _gap(r))),
    (2, lambda m, r: m.resolve(r.randrange(50), r.random() < 0.5, _gap(r))),
    (1, lambda m, r: m.return_expired_dispute(r.randrange(50), r.randint(1, 8 * 3600))),
    (2, lambda m, r: m.release(r.randrange(50), _gap(r))),
    (2, lambda m, r: m.release_many([r.randrange(50) for _ in range(r.randint(1, 6))], _gap(r))),
    (5, lambda m, r: m.at_the_edge(r.randrange(50), r.choice(["release", "revoke", "dispute", "resolve", "expire"]),
                                   r.choice([-1, 0]))),
    (1, lambda m, r: m.toggle_freeze(r.randrange(3), r.randint(1, 600))),
    (2, lambda m, r: m.across_midnight(r.randrange(3), r.randint(1, 900), r.choice([-1, 0]),
                                       r.choice(["revoke", "reject", "send", "dispute"]))),
]


def _thaw(machine, rnd: random.Random) -> None:
    """Freezes are short episodes in the walk (a frozen party refuses most actions)."""
    for i, who in enumerate(machine.people):
        if who.address in machine.frozen and rnd.random() < 0.3:
            machine.toggle_freeze(i, 1)


def _walk(deployment, seed: int, steps: int):
    EscrowModel.deployment = deployment
    rnd = random.Random(seed)
    machine = EscrowModel()
    machine.start()
    actions = [a for weight, a in WALK for _ in range(weight)]
    try:
        for step in range(steps):
            _thaw(machine, rnd)
            rnd.choice(actions)(machine, rnd)
            machine.escrow_holds_exactly_the_open_transfers()
            # Final transfers are re-read every 10th step only (reading all of them is O(n) per step).
            machine.every_transfer_matches_the_model(only_open=step % 10 != 9)
            machine.outflow_matches_the_model()
        machine.every_transfer_matches_the_model()
    finally:
        machine.teardown()


def test_escrow_model_agrees_with_the_chain_short(deployment):
    _run(deployment, examples=5, steps=40)


def test_escrow_random_walk(deployment):
    _walk(deployment, seed=1, steps=100)


@pytest.mark.slow
def test_escrow_model_agrees_with_the_chain_long(deployment):
    _run(deployment, examples=40, steps=60)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(3, 9))
def test_escrow_random_walk_long(deployment, seed):
    _walk(deployment, seed, steps=250)
