"""Security review (issue 11) on the digital currency: findings 3 (lowering an allowance is always
allowed) and 12 (the top tier stays unlimited; an escrow gives back only the outflow it took itself),
and the pause clock that finding 8's dispute deadlines run on."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chainpay import errors
from chainpay.currency.token import UNLIMITED
from support import expect_refusal

DAY = 86_400


@pytest.fixture(autouse=True)
def _clock_at_wall_time(chain):
    """A reverted snapshot leaves the chain's latest block behind the wall clock, and the next block is
    stamped at the wall clock: mine one now, so that deadlines computed from `chain.now` hold."""
    chain.advance_time(0)


def allowance_view(system, actors):
    cur = system.currency
    return (cur.allowance(actors.alice, actors.bob), cur.allowance(actors.alice, actors.carol),
            cur.balance_of(actors.alice), cur.nonces(actors.alice))


# ------------------------------------------------------------------ finding 3
@pytest.mark.parametrize("how", ["address_frozen", "identity_frozen", "unlinked", "paused"])
def test_an_owner_can_revoke_an_allowance_whatever_the_spenders_standing(system, actors, how):
    """The review: a frozen or unlinked spender's allowance could not be revoked and was usable again
    once the spender came back. Now approve(spender, 0) always goes through; raising one does not."""
    reg, cur = system.registry, system.currency
    alice, bob = actors.alice, actors.bob
    cur.approve(bob, Decimal(50), sender=alice)
    undo = {"address_frozen": (lambda: reg.freeze_address(bob), lambda: reg.unfreeze_address(bob)),
            "identity_frozen": (lambda: reg.freeze_identity(actors.bob_id), lambda: reg.unfreeze_identity(actors.bob_id)),
            "unlinked": (lambda: reg.unlink_address(bob), lambda: reg.compliance_link(actors.bob_id, bob)),
            "paused": (cur.pause, cur.unpause)}[how]
    undo[0]()
    error = {"address_frozen": "AddressFrozen", "identity_frozen": "IdentityFrozen", "unlinked": "NotRegistered",
             "paused": "EnforcedPause"}[how]
    with pytest.raises(errors.revert_class(error)):  # raising it is still refused
        cur.approve(bob, Decimal(60), sender=alice)
    receipt = cur.approve(bob, Decimal(20), sender=alice)  # lowering is not
    assert receipt.event("Approval").args == {"owner": alice.address, "spender": bob.address, "value": 2000}
    cur.approve(bob, Decimal(0), sender=alice)
    undo[1]()
    assert cur.allowance(alice, bob) == 0
    with pytest.raises(errors.ERC20InsufficientAllowance):  # nothing left to use once the spender is back
        cur.transfer_from(alice, bob, Decimal(1), sender=bob)


def test_a_permit_that_lowers_an_allowance_works_while_paused_and_frozen(system, actors, chain):
    cur, alice, bob = system.currency, actors.alice, actors.bob
    cur.approve(bob, Decimal(50), sender=alice)
    permit = cur.sign_permit(alice, bob, Decimal(0), chain.now + 3600)
    raise_it = cur.sign_permit(alice, bob, Decimal(80), chain.now + 3600, nonce=1)
    cur.pause()
    system.registry.freeze_address(bob)
    cur.permit(permit, sender=actors.carol)
    assert cur.allowance(alice, bob) == 0 and cur.nonces(alice) == 1
    expect_refusal(lambda: allowance_view(system, actors), lambda: cur.permit(raise_it, sender=actors.carol),
                   "EnforcedPause")


# ------------------------------------------------------------------ finding 12
def test_the_top_tier_limit_is_refused_on_chain(system, actors):
    """The review set a tier-5 limit at runtime, capping every escrow payout. Now the chain refuses it."""
    cur = system.currency
    block = system.chain.block_number
    with pytest.raises(errors.TierMustStayUnlimited):  # the SDK, before sending
        cur.set_daily_limit(5, Decimal(1000))
    assert system.chain.block_number == block
    expect_refusal(lambda: cur.daily_limit(5), lambda: cur._write("setDailyLimit", 5, 100_000, sender=actors.compliance),
                   "TierMustStayUnlimited", tier=5)
    cur.set_daily_limit(5, None)  # staying unlimited is fine
    assert cur._read("dailyLimit", 5) == UNLIMITED


def test_an_escrow_role_holder_cannot_zero_someone_elses_outflow(system, actors):
    """The review: any ESCROW holder called restoreOutflow(victim, everything, today) and reset the
    victim's daily limit. Now an escrow gives back at most what it took from that identity today."""
    cur, t = system.currency, system.transfers
    alice, rogue = actors.alice, actors.spare[0]
    cur.transfer(actors.bob, Decimal(300), sender=alice)
    cur.grant_role("ESCROW", rogue)
    today = system.chain.now // DAY
    spent = lambda: cur.outflow_today(alice).spent_today  # noqa: E731
    receipt = cur._write("restoreOutflow", alice.address, 10**12, today, sender=rogue)
    assert receipt.events_named("OutflowRestored") == [] and spent() == Decimal(300)
    # the real escrow gives back exactly what it took: 100 sent through it and revoked, not the 300 paid directly
    rec = t.send(actors.bob, Decimal(100), sender=alice)
    assert spent() == Decimal(400)
    revoked = t.revoke(rec.id, sender=alice)
    assert revoked.receipt.event("OutflowRestored")["amount"] == 10_000
    assert spent() == Decimal(300)


def test_escrow_pull_is_the_escrows_and_records_what_it_took(system, actors):
    cur, alice, rogue = system.currency, actors.alice, actors.spare[0]
    cur.transfer(actors.bob, Decimal(300), sender=alice)  # outflow the escrow did not take
    with pytest.raises(errors.AccessControlUnauthorizedAccount):
        cur._write("escrowPull", alice.address, 100, sender=rogue)
    system.registry.register_identity(b"\x07" * 32, 1, rogue, sender=actors.officer_a)
    cur.grant_role("ESCROW", rogue)
    cur.approve(rogue, Decimal(5), sender=alice)
    receipt = cur._write("escrowPull", alice.address, 500, sender=rogue)
    assert receipt.event("EscrowPulled").args == {"escrow": rogue.address, "from": alice.address, "amount": 500}
    # it may give back those 5 and nothing more
    today = system.chain.now // DAY
    restored = cur._write("restoreOutflow", alice.address, 10**12, today, sender=rogue)
    assert restored.event("OutflowRestored")["amount"] == 500
    assert cur.outflow_today(alice).spent_today == Decimal(300)
    again = cur._write("restoreOutflow", alice.address, 10**12, today, sender=rogue)
    assert again.events_named("OutflowRestored") == []


# ------------------------------------------------------------------ the pause clock (finding 8)
def test_paused_seconds_counts_every_pause(system, actors, chain):
    cur = system.currency
    assert cur.paused_seconds() == 0
    start = chain.now + 10
    chain.set_next_block_time(start)
    cur.pause()
    chain.set_next_block_time(start + 100)
    cur.unpause()
    assert cur.paused_seconds() == 100
    chain.set_next_block_time(start + 500)
    cur.pause()
    chain.set_next_block_time(start + 640)
    cur.unpause()
    assert cur.paused_seconds() == 240
