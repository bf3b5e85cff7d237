"""DigitalCurrency as an ERC-20: metadata, issuance, who may hold/send/receive/approve, pause,
conservation of supply under a random workload, and the SDK's amount validation.

Fixture facts: decimals = 2; alice 1,000, bob 1,000, carol 100 yuan (total supply 2,100); alice2
shares alice's identity; stranger and spare accounts are unregistered; the issuer is unregistered
until a test registers it (it must be registered to hold and burn).
"""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from eth_utils import keccak
from support import expect_refusal

from chainpay import errors
from chainpay.currency.registry import identity_id

ZERO = "0x0000000000000000000000000000000000000000"
BANK_ID = identity_id("central bank treasury")
SPARE_ID = identity_id("spare customer zero")


# ----------------------------------------------------------------------------------------- helpers
def observe(system, actors) -> dict:
    cur = system.currency
    people = (actors.alice, actors.alice2, actors.bob, actors.carol, actors.issuer, actors.stranger)
    return {
        "balances": [cur.balance_of(p) for p in people],
        "supply": cur.total_supply(),
        "allowances": [cur.allowance(o, s) for o in (actors.alice, actors.bob, actors.carol)
                       for s in (actors.alice, actors.bob, actors.carol, actors.stranger)],
        "paused": cur.paused(),
    }


def refused(system, actors, action, error: str, **args):
    """Run `action`, expect Solidity error `error` with exactly `args`, and no state change."""
    return expect_refusal(lambda: observe(system, actors), action, error, **args)


def register_issuer(system, actors) -> None:
    system.registry.register_identity(BANK_ID, 1, actors.issuer, sender=actors.officer_a)


def role(name: str) -> bytes:
    return keccak(text=name)


# ------------------------------------------------------------------------------ metadata, issuance
def test_metadata(system, actors):
    cur = system.currency
    assert cur.decimals == 2
    assert cur._read("decimals") == 2
    assert (cur.name, cur.symbol) == ("Digital Yuan", "eCNY")
    assert cur.total_supply() == Decimal("2100.00")
    assert [cur.balance_of(p) for p in (actors.alice, actors.alice2, actors.bob, actors.carol, actors.stranger)] == [
        Decimal("1000.00"), Decimal("0.00"), Decimal("1000.00"), Decimal("100.00"), Decimal("0.00")]
    assert str(cur.balance_of(actors.carol)) == "100.00"  # always the token's precision


def test_mint_increases_supply_and_balance(system, actors):
    cur = system.currency
    r = cur.mint(actors.alice, Decimal("250.5"))
    assert [e.name for e in r.events] == ["Transfer"]
    assert dict(r.event("Transfer").args) == {"from": ZERO, "to": actors.alice.address, "value": 25050}
    assert r.event("Transfer").address == cur.address
    assert cur.balance_of(actors.alice) == Decimal("1250.50")
    assert cur.total_supply() == Decimal("2350.50")
    cur.mint(actors.alice2, "0.01")  # a decimal string is accepted
    assert cur.balance_of(actors.alice2) == Decimal("0.01")
    assert cur.total_supply() == Decimal("2350.51")
    refused(system, actors, lambda: cur.mint(actors.alice, Decimal("1"), sender=actors.alice),
            "AccessControlUnauthorizedAccount", account=actors.alice.address, neededRole=role("ISSUER"))
    refused(system, actors, lambda: cur.mint(actors.alice, Decimal("1"), sender=actors.compliance),
            "AccessControlUnauthorizedAccount", account=actors.compliance.address, neededRole=role("ISSUER"))


def test_burn_decreases_supply_and_balance(system, actors):
    cur = system.currency
    issuer = actors.issuer
    # an unregistered issuer cannot burn (nor hold)
    refused(system, actors, lambda: cur.burn(Decimal("1")), "NotRegistered", account=issuer.address)
    refused(system, actors, lambda: cur.mint(issuer, Decimal("1")), "NotRegistered", account=issuer.address)
    register_issuer(system, actors)
    cur.mint(issuer, Decimal("500"))
    assert cur.total_supply() == Decimal("2600.00")
    r = cur.burn(Decimal("200"))
    assert [e.name for e in r.events] == ["Transfer"]
    assert dict(r.event("Transfer").args) == {"from": issuer.address, "to": ZERO, "value": 20000}
    assert cur.balance_of(issuer) == Decimal("300.00")
    assert cur.total_supply() == Decimal("2400.00")
    err = refused(system, actors, lambda: cur.burn(Decimal("300.01")), "ERC20InsufficientBalance",
                  sender=issuer.address, balance=30000, needed=30001)
    assert (err.sender, err.balance, err.needed) == (issuer.address, 30000, 30001)
    refused(system, actors, lambda: cur.burn(Decimal("1"), sender=actors.alice),
            "AccessControlUnauthorizedAccount", account=actors.alice.address, neededRole=role("ISSUER"))
    cur.burn(Decimal("300"))
    assert cur.balance_of(issuer) == Decimal("0.00")
    assert cur.total_supply() == Decimal("2100.00")
    refused(system, actors, lambda: cur.burn(Decimal("0.01")), "ERC20InsufficientBalance",
            sender=issuer.address, balance=0, needed=1)
    # a frozen issuer address cannot burn
    cur.mint(issuer, Decimal("10"))
    system.registry.freeze_address(issuer)
    refused(system, actors, lambda: cur.burn(Decimal("1")), "AddressFrozen", account=issuer.address)


# ---------------------------------------------------------------- only registered, active parties
def test_mint_only_to_registered_active_addresses(system, actors):
    cur, reg = system.currency, system.registry
    refused(system, actors, lambda: cur.mint(actors.stranger, Decimal("10")), "NotRegistered",
            account=actors.stranger.address)
    reg.freeze_address(actors.bob)
    refused(system, actors, lambda: cur.mint(actors.bob, Decimal("10")), "AddressFrozen", account=actors.bob.address)
    reg.freeze_identity(actors.carol_id)
    refused(system, actors, lambda: cur.mint(actors.carol, Decimal("10")), "IdentityFrozen",
            identity=actors.carol_id, account=actors.carol.address)
    reg.unlink_address(actors.alice2)
    refused(system, actors, lambda: cur.mint(actors.alice2, Decimal("10")), "NotRegistered",
            account=actors.alice2.address)
    assert cur.total_supply() == Decimal("2100.00")
    cur.mint(actors.alice, Decimal("10"))  # alice is still active
    assert cur.total_supply() == Decimal("2110.00")


def test_transfer_needs_active_sender_and_recipient(system, actors):
    cur, reg = system.currency, system.registry
    alice, bob, carol, stranger = actors.alice, actors.bob, actors.carol, actors.stranger
    refused(system, actors, lambda: cur.transfer(stranger, Decimal("1"), sender=alice), "NotRegistered",
            account=stranger.address)
    refused(system, actors, lambda: cur.transfer(alice, Decimal("0"), sender=stranger), "NotRegistered",
            account=stranger.address)
    refused(system, actors, lambda: cur.transfer(bob, Decimal("1000.01"), sender=alice), "ERC20InsufficientBalance",
            sender=alice.address, balance=100000, needed=100001)
    reg.freeze_address(bob)
    refused(system, actors, lambda: cur.transfer(bob, Decimal("1"), sender=alice), "AddressFrozen",
            account=bob.address)
    refused(system, actors, lambda: cur.transfer(alice, Decimal("1"), sender=bob), "AddressFrozen",
            account=bob.address)
    reg.unfreeze_address(bob)
    reg.freeze_identity(actors.alice_id)
    refused(system, actors, lambda: cur.transfer(bob, Decimal("1"), sender=alice), "IdentityFrozen",
            identity=actors.alice_id, account=alice.address)
    refused(system, actors, lambda: cur.transfer(actors.alice2, Decimal("1"), sender=carol), "IdentityFrozen",
            identity=actors.alice_id, account=actors.alice2.address)
    reg.unfreeze_identity(actors.alice_id)
    # an unlinked address keeps its balance but can no longer move it
    reg.unlink_address(carol)
    refused(system, actors, lambda: cur.transfer(bob, Decimal("1"), sender=carol), "NotRegistered",
            account=carol.address)
    assert cur.balance_of(carol) == Decimal("100.00")
    r = cur.transfer(bob, Decimal("1"), sender=alice)
    assert dict(r.event("Transfer").args) == {"from": alice.address, "to": bob.address, "value": 100}


def test_approve_needs_active_owner_and_spender(system, actors):
    cur, reg = system.currency, system.registry
    alice, bob, carol, stranger = actors.alice, actors.bob, actors.carol, actors.stranger
    refused(system, actors, lambda: cur.approve(stranger, Decimal("10"), sender=alice), "NotRegistered",
            account=stranger.address)
    refused(system, actors, lambda: cur.approve(alice, Decimal("10"), sender=stranger), "NotRegistered",
            account=stranger.address)
    reg.freeze_address(bob)
    refused(system, actors, lambda: cur.approve(bob, Decimal("10"), sender=alice), "AddressFrozen",
            account=bob.address)
    refused(system, actors, lambda: cur.approve(alice, Decimal("10"), sender=bob), "AddressFrozen",
            account=bob.address)
    reg.freeze_identity(actors.alice_id)
    refused(system, actors, lambda: cur.approve(carol, Decimal("10"), sender=alice), "IdentityFrozen",
            identity=actors.alice_id, account=alice.address)
    refused(system, actors, lambda: cur.approve(actors.alice2, Decimal("10"), sender=carol), "IdentityFrozen",
            identity=actors.alice_id, account=actors.alice2.address)
    reg.unfreeze_identity(actors.alice_id)
    r = cur.approve(carol, Decimal("10"), sender=alice)
    assert [e.name for e in r.events] == ["Approval"]
    assert dict(r.event("Approval").args) == {"owner": alice.address, "spender": carol.address, "value": 1000}
    assert cur.allowance(alice, carol) == Decimal("10.00")


@pytest.mark.parametrize("how", ["unlinked", "address_frozen", "identity_frozen"])
def test_transfer_from_by_a_spender_that_is_no_longer_active(system, actors, how):
    cur, reg = system.currency, system.registry
    alice, bob, carol = actors.alice, actors.bob, actors.carol
    cur.approve(carol, Decimal("100"), sender=alice)  # while carol is in good standing
    if how == "unlinked":
        reg.unlink_address(carol)
        error, args = "NotRegistered", {"account": carol.address}
    elif how == "address_frozen":
        reg.freeze_address(carol)
        error, args = "AddressFrozen", {"account": carol.address}
    else:
        reg.freeze_identity(actors.carol_id)
        error, args = "IdentityFrozen", {"identity": actors.carol_id, "account": carol.address}
    refused(system, actors, lambda: cur.transfer_from(alice, bob, Decimal("10"), sender=carol), error, **args)
    assert cur.allowance(alice, carol) == Decimal("100.00")
    assert (cur.balance_of(alice), cur.balance_of(bob)) == (Decimal("1000.00"), Decimal("1000.00"))


def test_transfer_from_checks_owner_recipient_and_allowance(system, actors):
    cur, reg = system.currency, system.registry
    alice, bob, carol, stranger = actors.alice, actors.bob, actors.carol, actors.stranger
    cur.approve(carol, Decimal("100"), sender=alice)
    refused(system, actors, lambda: cur.transfer_from(alice, bob, Decimal("100.01"), sender=carol),
            "ERC20InsufficientAllowance", spender=carol.address, allowance=10000, needed=10001)
    refused(system, actors, lambda: cur.transfer_from(alice, bob, Decimal("1"), sender=bob),
            "ERC20InsufficientAllowance", spender=bob.address, allowance=0, needed=100)
    refused(system, actors, lambda: cur.transfer_from(alice, stranger, Decimal("1"), sender=carol), "NotRegistered",
            account=stranger.address)
    reg.freeze_address(alice)  # the owner frozen: the spender cannot move her money either
    refused(system, actors, lambda: cur.transfer_from(alice, bob, Decimal("1"), sender=carol), "AddressFrozen",
            account=alice.address)
    reg.unfreeze_address(alice)
    r = cur.transfer_from(alice, bob, Decimal("60"), sender=carol)
    assert [e.name for e in r.events] == ["Transfer"]  # spending an allowance emits no Approval
    assert dict(r.event("Transfer").args) == {"from": alice.address, "to": bob.address, "value": 6000}
    assert cur.allowance(alice, carol) == Decimal("40.00")
    assert (cur.balance_of(alice), cur.balance_of(bob), cur.balance_of(carol)) == (
        Decimal("940.00"), Decimal("1060.00"), Decimal("100.00"))


# ------------------------------------------------------------------------------------------- pause
def test_pause_stops_every_movement_and_unpause_restores(system, actors):
    cur = system.currency
    alice, bob, carol, pauser = actors.alice, actors.bob, actors.carol, actors.pauser
    register_issuer(system, actors)
    cur.mint(actors.issuer, Decimal("50"))
    cur.approve(carol, Decimal("100"), sender=alice)
    refused(system, actors, lambda: cur.pause(sender=alice), "AccessControlUnauthorizedAccount",
            account=alice.address, neededRole=role("PAUSER"))
    refused(system, actors, lambda: cur.unpause(), "ExpectedPause")

    r = cur.pause()
    assert [e.name for e in r.events] == ["Paused"]
    assert dict(r.event("Paused").args) == {"account": pauser.address}
    assert cur.paused() is True
    refused(system, actors, lambda: cur.transfer(bob, Decimal("1"), sender=alice), "EnforcedPause")
    refused(system, actors, lambda: cur.transfer_from(alice, bob, Decimal("1"), sender=carol), "EnforcedPause")
    refused(system, actors, lambda: cur.approve(bob, Decimal("1"), sender=alice), "EnforcedPause")
    refused(system, actors, lambda: cur.mint(alice, Decimal("1")), "EnforcedPause")
    refused(system, actors, lambda: cur.burn(Decimal("1")), "EnforcedPause")
    refused(system, actors, lambda: cur.pause(), "EnforcedPause")
    # reads still work while paused
    assert cur.balance_of(alice) == Decimal("1000.00")
    assert cur.outflow_today(alice).spent_today == Decimal("0.00")

    refused(system, actors, lambda: cur.unpause(sender=alice), "AccessControlUnauthorizedAccount",
            account=alice.address, neededRole=role("PAUSER"))
    r = cur.unpause()
    assert dict(r.event("Unpaused").args) == {"account": pauser.address}
    assert cur.paused() is False
    cur.transfer(bob, Decimal("1"), sender=alice)
    cur.transfer_from(alice, bob, Decimal("2"), sender=carol)
    cur.approve(bob, Decimal("3"), sender=alice)
    cur.mint(alice, Decimal("4"))
    cur.burn(Decimal("5"))
    assert [cur.balance_of(p) for p in (alice, bob, actors.issuer)] == [
        Decimal("1001.00"), Decimal("1003.00"), Decimal("45.00")]
    assert cur.allowance(alice, bob) == Decimal("3.00") and cur.allowance(alice, carol) == Decimal("98.00")
    assert cur.total_supply() == Decimal("2149.00")


# ---------------------------------------------------------------------------------- conservation
class Model:
    """What the chain should hold: balances, allowances, supply and today's outflow per identity."""

    def __init__(self, system, actors):
        cur = system.currency
        self.ident = {actors.alice.address: actors.alice_id, actors.alice2.address: actors.alice_id,
                      actors.bob.address: actors.bob_id, actors.carol.address: actors.carol_id,
                      actors.issuer.address: BANK_ID, actors.spare[0].address: SPARE_ID}
        self.limit = {actors.alice_id: 500000, actors.bob_id: 500000, actors.carol_id: 100000, BANK_ID: 100000,
                      SPARE_ID: 5000000}
        self.spent = {k: 0 for k in self.limit}
        everyone = [*self.ident, actors.stranger.address]
        self.balance = {a: cur.to_units(cur.balance_of(a)) for a in everyone}
        self.supply = cur.to_units(cur.total_supply())
        self.allowance: dict[tuple[str, str], int] = {}

    def _pair(self, a, b):
        for who in (a, b):
            if who not in self.ident:
                return ("NotRegistered", {"account": who})
        return None

    def move(self, frm, to, value):
        """Prediction for _update(frm, to, value) between two holders; applies it when it succeeds."""
        refusal = self._pair(frm, to)
        if refusal:
            return refusal
        key = self.ident[frm]
        outflow = key != self.ident[to]
        if outflow and self.spent[key] + value > self.limit[key]:
            return ("DailyLimitExceeded", {"identity": key, "limit": self.limit[key], "spentToday": self.spent[key],
                                           "amount": value})
        if self.balance[frm] < value:
            return ("ERC20InsufficientBalance", {"sender": frm, "balance": self.balance[frm], "needed": value})
        if outflow:
            self.spent[key] += value
        self.balance[frm] -= value
        self.balance[to] += value
        return None


def _outcome(action):
    try:
        receipt = action()
    except errors.ContractRevert as exc:
        return (type(exc).__name__, exc.arguments), None
    return None, receipt


@pytest.mark.parametrize("seed", [11, 2024])
def test_random_workload_conserves_supply(system, actors, chain, seed):
    cur, reg = system.currency, system.registry
    rng = random.Random(seed)
    register_issuer(system, actors)
    reg.register_identity(SPARE_ID, 3, actors.spare[0], sender=actors.officer_a)
    cur.mint(actors.issuer, Decimal("3000"))
    cur.mint(actors.spare[0], Decimal("500"))
    # start a fresh UTC day well ahead of the wall clock, so that the whole run is one day
    chain.advance_time(86400)
    chain.advance_time(86400 - chain.now % 86400 + 60)

    model = Model(system, actors)
    holders = [a for a in model.ident]
    everyone = holders + [actors.stranger.address]
    issuer = actors.issuer.address
    counts: dict[str, int] = {}

    def pick(include_stranger=0.1):
        return actors.stranger.address if rng.random() < include_stranger else rng.choice(holders)

    def amount_for(balance):
        r = rng.random()
        if r < 0.65:
            return rng.randint(1, max(balance, 100))
        if r < 0.85:
            return balance + rng.randint(1, 5000)  # more than the balance
        return rng.randint(100000, 600000)  # 1,000-6,000 yuan: around the daily limits

    def yuan(units):
        return Decimal(units).scaleb(-2)

    for step in range(60):
        op = rng.choices(["transfer", "transfer_from", "approve", "mint", "burn"], [40, 20, 12, 14, 14])[0]
        before_balances = {a: cur.balance_of(a) for a in everyone}
        if op == "transfer":
            s, r = pick(), pick()
            v = amount_for(model.balance[s])
            expected = model.move(s, r, v)
            got, receipt = _outcome(lambda: cur.transfer(r, yuan(v), sender=s))
            event = {"from": s, "to": r, "value": v}
        elif op == "transfer_from":
            approved = sorted(k for k, left in model.allowance.items() if left > 0)
            if approved and rng.random() < 0.75:
                (owner, spender), r = rng.choice(approved), pick(0.1)
            else:
                owner, spender, r = pick(0), pick(0.1), pick(0.1)
            allowed = model.allowance.get((owner, spender), 0)
            v = rng.randint(1, allowed + 100) if rng.random() < 0.8 else amount_for(model.balance[owner])
            if spender not in model.ident:
                expected = ("NotRegistered", {"account": spender})
            elif allowed < v:
                expected = ("ERC20InsufficientAllowance", {"spender": spender, "allowance": allowed, "needed": v})
            else:
                expected = model.move(owner, r, v)
                if expected is None:
                    model.allowance[(owner, spender)] = allowed - v
            got, receipt = _outcome(lambda: cur.transfer_from(owner, r, yuan(v), sender=spender))
            event = {"from": owner, "to": r, "value": v}
        elif op == "approve":
            owner, spender = pick(0.05), pick(0.1)
            v = rng.randint(0, 300000)
            expected = model._pair(owner, spender)
            if expected is None:
                model.allowance[(owner, spender)] = v
            got, receipt = _outcome(lambda: cur.approve(spender, yuan(v), sender=owner))
            event = {"owner": owner, "spender": spender, "value": v}
        elif op == "mint":
            to = pick(0.15)
            v = rng.randint(1, 300000)
            expected = model._pair(to, to)
            if expected is None:
                model.balance[to] += v
                model.supply += v
            got, receipt = _outcome(lambda: cur.mint(to, yuan(v)))
            event = {"from": ZERO, "to": to, "value": v}
        else:
            v = rng.randint(1, model.balance[issuer] + 20000)
            if model.balance[issuer] < v:
                expected = ("ERC20InsufficientBalance", {"sender": issuer, "balance": model.balance[issuer], "needed": v})
            else:
                expected = None
                model.balance[issuer] -= v
                model.supply -= v
            got, receipt = _outcome(lambda: cur.burn(yuan(v)))
            event = {"from": issuer, "to": ZERO, "value": v}

        assert got == expected, f"step {step}: {op}"
        kind = op if expected is None else f"{op} refused: {expected[0]}"
        counts[kind] = counts.get(kind, 0) + 1
        if expected is None:
            name = "Approval" if op == "approve" else "Transfer"
            assert dict(receipt.event(name).args) == event, f"step {step}: {op}"
        else:
            assert {a: cur.balance_of(a) for a in everyone} == before_balances, f"step {step}: refused {op} moved money"
        # after every step: the chain matches the model, and balances sum to the total supply
        balances = {a: cur.to_units(cur.balance_of(a)) for a in everyone}
        supply = cur.to_units(cur.total_supply())
        assert balances == model.balance, f"step {step}: {op}"
        assert sum(balances.values()) == supply == model.supply, f"step {step}: {op}"
        if op in ("transfer_from", "approve"):
            o, sp = (owner, spender)
            assert cur.to_units(cur.allowance(o, sp)) == model.allowance.get((o, sp), 0)

    refusals = sum(n for k, n in counts.items() if "refused" in k)
    assert refusals >= 8 and sum(counts.values()) - refusals >= 20, counts
    for op in ("transfer", "transfer_from", "approve", "mint", "burn"):
        assert counts.get(op, 0) >= 1, counts
    assert any(k.endswith("DailyLimitExceeded") or k.endswith("ERC20InsufficientBalance") for k in counts), counts
    assert any(k.endswith("NotRegistered") for k in counts), counts


# -------------------------------------------------------------------------- SDK amount validation
BAD_AMOUNTS = [
    pytest.param(1.5, id="float"),
    pytest.param(10.0, id="whole-float"),
    pytest.param(Decimal("-1"), id="negative-decimal"),
    pytest.param(-5, id="negative-int"),
    pytest.param("-0.01", id="negative-string"),
    pytest.param(Decimal("-0"), id="negative-zero"),
    pytest.param(Decimal("0.001"), id="three-decimals"),
    pytest.param("1.234", id="three-decimals-string"),
    pytest.param(Decimal("NaN"), id="nan"),
    pytest.param(Decimal("sNaN"), id="snan"),
    pytest.param(Decimal("Infinity"), id="infinity"),
    pytest.param("abc", id="abc"),
    pytest.param("", id="empty"),
    pytest.param(True, id="bool-true"),
    pytest.param(False, id="bool-false"),
    pytest.param(None, id="none"),
    pytest.param([1], id="list"),
]


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
def test_invalid_amounts_are_refused_before_anything_is_sent(system, actors, chain, amount):
    cur = system.currency
    alice, bob, carol = actors.alice, actors.bob, actors.carol
    cur.approve(bob, Decimal("50"), sender=alice)
    block, before = chain.block_number, observe(system, actors)
    deadline = chain.now + 3600
    calls = {
        "transfer": lambda: cur.transfer(bob, amount, sender=alice),
        "approve": lambda: cur.approve(carol, amount, sender=alice),
        "transfer_from": lambda: cur.transfer_from(alice, carol, amount, sender=bob),
        "mint": lambda: cur.mint(alice, amount),
        "burn": lambda: cur.burn(amount),
        "sign_permit": lambda: cur.sign_permit(alice, bob, amount, deadline),
        "sign_authorization": lambda: cur.sign_authorization(alice, bob, amount),
    }
    if amount is not None:  # None means "unlimited" for set_daily_limit
        calls["set_daily_limit"] = lambda: cur.set_daily_limit(2, amount)
    for name, call in calls.items():
        with pytest.raises(errors.InvalidAmount) as info:
            call()
        assert isinstance(info.value, ValueError), name
        assert chain.block_number == block, f"{name} sent a transaction"
    assert observe(system, actors) == before
    assert cur.daily_limit(2) == Decimal("5000.00")


def test_zero_is_refused_for_mint_and_burn_but_allowed_for_transfer(system, actors, chain):
    cur = system.currency
    block = chain.block_number
    for call in (lambda: cur.mint(actors.alice, Decimal("0")), lambda: cur.burn(0), lambda: cur.mint(actors.alice, "0.00")):
        with pytest.raises(errors.InvalidAmount, match="greater than zero"):
            call()
    assert chain.block_number == block
    r = cur.transfer(actors.bob, Decimal("0"), sender=actors.alice)
    assert dict(r.event("Transfer").args) == {"from": actors.alice.address, "to": actors.bob.address, "value": 0}
    assert cur.balance_of(actors.alice) == Decimal("1000.00")


def test_valid_amount_forms_convert_exactly(system, actors):
    cur = system.currency
    cur.mint(actors.alice, Decimal("1000"))
    for amount, units in [(Decimal("12.30"), 1230), (7, 700), ("0.05", 5), (" 1_000.5 ", 100050),
                          (Decimal("1E+2"), 10000), (Decimal("5.000"), 500)]:
        before = cur.balance_of(actors.bob)
        r = cur.transfer(actors.bob, amount, sender=actors.alice)
        assert r.event("Transfer")["value"] == units
        assert cur.balance_of(actors.bob) - before == Decimal(units).scaleb(-2)


def test_excess_precision_beyond_the_decimal_context_is_refused(system, actors, chain):
    cur = system.currency
    block = chain.block_number
    with pytest.raises(errors.InvalidAmount):
        cur.transfer(actors.bob, Decimal("100.000000000000000000000000001"), sender=actors.alice)
    assert chain.block_number == block
    assert cur.balance_of(actors.alice) == Decimal("1000.00")


def test_large_integer_amounts_convert_exactly(system):
    cur = system.currency
    assert cur.to_units(10**30 + 1) == 10**32 + 100
    assert cur.to_units(Decimal("1234567890123456789012345678.99")) == 123456789012345678901234567899
