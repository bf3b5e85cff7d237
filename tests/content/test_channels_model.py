"""Differential property test of PaymentChannels: a Python model of the channel rules predicts every
step's outcome (success, or exactly which custom error) over random sequences of opens, top-ups,
good and bad vouchers, closes of every kind, settlements, withdrawals and distributions.

Invariants after every step: every channel, the earnings pool, the owed balances and all
currency balances equal the model's, and the contract holds exactly what it owes. The default run is
short; the `slow` variant runs many more and longer sequences.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from support import expect_outcome, run_state_machine

from chainpay.testing import test_chain
from chainpay.content.catalogue import split_units
from chainpay.content.channels import ChannelState
from chainpay.currency.registry import identity_id
from chainpay.testing import build_system

SPLIT = (7000, 2000, 1000)
PRICE = 10  # base units per call


class ChannelModel(RuleBasedStateMachine):
    deployment = None  # (system, actors, provider, payees, listing id), built once per test function

    @initialize()
    def start(self):
        self.system, self.a, self.provider, self.payees, self.listing = self.deployment
        self.snapshot = self.system.chain.snapshot()
        self.ch, self.cur = self.system.channels, self.system.currency
        self.consumers = [self.a.alice, self.a.bob]
        watched = [*self.consumers, *self.payees, self.ch.address]
        self.balance = {self.cur._addr(w): self.cur._read("balanceOf", self.cur._addr(w)) for w in watched}
        self.channels: list[dict] = []  # key, deposit, redeemed, state, closes_at
        self.earnings = 0
        self.owed = {w.address: 0 for w in (*self.consumers, *self.payees)}

    def teardown(self):
        if hasattr(self, "snapshot"):
            self.system.chain.revert(self.snapshot)

    # ---------------------------------------------------------------- helpers
    def expect(self, action, error: str | None):
        return expect_outcome(action, error)

    def live_error(self, c) -> str | None:
        if c["state"] is ChannelState.CLOSED:
            return "WrongChannelState"
        if c["state"] is ChannelState.CLOSING and c["closes_at"] <= self.system.chain.now:
            return "ChallengeOver"
        return None

    def pick(self, i: int) -> dict:
        """A channel: a live one three times in four (when there is one), else any."""
        live = [c for c in self.channels if c["state"] is not ChannelState.CLOSED]
        pool = live if live and i % 4 else self.channels
        return pool[(i // 4) % len(pool)]

    def move(self, frm: str, to: str, units: int):
        self.balance[frm] -= units
        self.balance[to] += units

    def finish(self, c):
        refund = c["deposit"] - c["redeemed"]
        c["state"] = ChannelState.CLOSED
        self.owed[c["key"].consumer] += refund

    # ---------------------------------------------------------------- rules
    @precondition(lambda self: len(self.channels) < 4)  # few channels, each with a long history
    @rule(who=st.integers(0, 1), deposit=st.integers(1, 40_000))
    def open(self, who, deposit):
        consumer = self.consumers[who]
        short = deposit > self.balance[consumer.address]
        result = self.expect(lambda: self.ch._with_allowance(
            "open", "openWithPermit", consumer, deposit, None, self.listing, deposit, bytes([len(self.channels)] * 32),
            PRICE),
            "ERC20InsufficientBalance" if short else None)
        if result is not None:
            key = self.ch.key_of(result.event("ChannelOpened")["channelId"])
            self.channels.append({"key": key, "deposit": deposit, "redeemed": 0, "state": ChannelState.OPEN,
                                  "closes_at": None})
            self.move(consumer.address, self.ch.address, deposit)

    @precondition(lambda self: self.channels)
    @rule(i=st.integers(0, 63), amount=st.integers(1, 5_000), by_consumer=st.booleans())
    def top_up(self, i, amount, by_consumer):
        c = self.pick(i)
        sender = self.system.chain.account(c["key"].consumer) if by_consumer else self.a.carol
        error = ("NotConsumer" if not by_consumer else "WrongChannelState" if c["state"] is not ChannelState.OPEN
                 else "ERC20InsufficientBalance" if amount > self.balance[sender.address] else None)
        if self.expect(lambda: self.ch._with_allowance("topUp", "topUpWithPermit", sender, amount, None,
                                                       c["key"].as_abi(), amount), error) is not None:
            c["deposit"] += amount
            self.move(sender.address, self.ch.address, amount)

    @precondition(lambda self: self.channels)
    @rule(i=st.integers(0, 63), extra=st.integers(-30, 120), honest=st.booleans())
    def redeem(self, i, extra, honest):
        c = self.pick(i)
        amount = max(0, c["redeemed"] + extra)
        signer = c["key"].consumer if honest else self.a.carol.address
        voucher = self.ch.sign_voucher(c["key"], amount, signer=signer)
        error = (self.live_error(c) or ("StaleVoucher" if amount <= c["redeemed"] else None)
                 or ("WrongSigner" if not honest else None)
                 or ("VoucherOverDeposit" if amount > c["deposit"] else None))
        if self.expect(lambda: self.ch.redeem(c["key"], voucher, sender=self.provider), error) is not None:
            self.earnings += amount - c["redeemed"]
            c["redeemed"] = amount

    @precondition(lambda self: self.channels)
    @rule(i=st.integers(0, 63), extra=st.integers(-10, 60))
    def provider_closes(self, i, extra):
        c = self.pick(i)
        amount = max(0, c["redeemed"] + extra)
        voucher = self.ch.sign_voucher(c["key"], amount, signer=c["key"].consumer)
        error = self.live_error(c) or ("VoucherOverDeposit" if amount > max(c["deposit"], c["redeemed"]) else None)
        if self.expect(lambda: self.ch.close(c["key"], voucher, sender=self.provider), error) is not None:
            if amount > c["redeemed"]:
                self.earnings += amount - c["redeemed"]
                c["redeemed"] = amount
            self.finish(c)

    @precondition(lambda self: self.channels)
    @rule(i=st.integers(0, 63))
    def consumer_starts_closing(self, i):
        c = self.pick(i)
        error = None if c["state"] is ChannelState.OPEN else "WrongChannelState"
        info = self.expect(lambda: self.ch.start_close(c["key"], sender=c["key"].consumer), error)
        if info is not None:
            c["state"], c["closes_at"] = ChannelState.CLOSING, info.closes_at
            assert info.closes_at == info.receipt.event("ChannelClosing")["closesAt"]

    @precondition(lambda self: self.channels)
    @rule(i=st.integers(0, 63), wait=st.booleans())
    def settle(self, i, wait):
        c = self.pick(i)
        if wait:
            self.system.chain.advance_time(self.ch.challenge_period)
        error = ("WrongChannelState" if c["state"] is not ChannelState.CLOSING
                 else None if c["closes_at"] <= self.system.chain.now else "ChallengeNotOver")
        if self.expect(lambda: self.ch.settle(c["key"], sender=self.a.carol), error) is not None:
            self.finish(c)

    @precondition(lambda self: self.channels)
    @rule(who=st.integers(0, 5))
    def payout(self, who):
        """A consumer withdraws (who 0, 1), anyone distributes the listing's earnings (who 2, 3) or pays
        a payee out (who 4, 5: the provider, the platform)."""
        if who in (2, 3):
            return self.distribute()
        account = self.consumers[who] if who < 2 else self.payees[who - 4]
        owed = self.owed[account.address]
        action = (lambda: self.ch.withdraw(sender=account)) if who < 2 else (
            lambda: self.ch.withdraw_for(account, sender=self.a.carol))
        if self.expect(action, None if owed else "NothingToWithdraw") is not None:
            self.owed[account.address] = 0
            self.move(self.ch.address, account.address, owed)

    def distribute(self):
        pool = self.earnings
        if self.expect(lambda: self.ch.distribute(self.listing, sender=self.a.carol),
                       None if pool else "NothingToDistribute") is not None:
            for payee, part in zip(self.payees, split_units(pool, SPLIT)):
                self.owed[payee.address] += part
            self.earnings = 0

    # ---------------------------------------------------------------- invariants
    @invariant()
    def chain_agrees(self):
        if not hasattr(self, "channels"):
            return
        for c in self.channels:
            info = self.ch.get(c["key"].id)
            assert (info.deposit, info.redeemed, info.state, info.closes_at) == (
                c["deposit"], c["redeemed"], c["state"], c["closes_at"])
        assert self.ch._read("earnings", self.listing) == self.earnings
        for address, owed in self.owed.items():
            assert self.ch._read("owed", address) == owed
        for address, units in self.balance.items():
            assert self.cur._read("balanceOf", address) == units
        live = sum(c["deposit"] - c["redeemed"] for c in self.channels if c["state"] is not ChannelState.CLOSED)
        assert self.balance[self.ch.address] == live + self.earnings + sum(self.owed.values())
        assert self.ch._read("totalHeld") == self.balance[self.ch.address]


@pytest.fixture(scope="module")
def deployment():
    system, actors = build_system(test_chain(16))
    payees = actors.spare[:3]
    for n, who in enumerate(payees):
        system.registry.register_identity(identity_id(f"model payee {n}"), 3, who, sender=actors.officer_a)
    listing = system.catalogue.list(Decimal(PRICE) / 100, "call", list(zip(payees, SPLIT)), sender=payees[0])
    return system, actors, payees[0], payees, listing.id


def test_channel_model_agrees_with_the_chain_short(deployment):
    run_state_machine(ChannelModel, deployment, examples=6, steps=30)


@pytest.mark.slow
def test_channel_model_agrees_with_the_chain_long(deployment):
    run_state_machine(ChannelModel, deployment, examples=100, steps=50)
