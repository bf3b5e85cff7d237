"""Platform balances: top-up, issue, redemption, reserve ratio, interconversion (direct and through the
escrow), the same-name rule, daily thresholds, white-list removal; each refusal with its custom error
and nothing changed; currency conserved after every step."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from platform_support import A, B, assert_conserved, books
from support import expect_refusal

from eth_utils import keccak

from chainpay import errors
from chainpay.platform import ratio_to_bps
from chainpay.transfers.client import TransferState

DAY = 86_400


def test_deploy_wires_the_platform_contract(system, platforms):
    p = system.platforms
    assert system.currency._read("platforms") == p.address
    assert system.transfers.has_role("FORWARDER", p.address)
    assert p.same_name_only()
    info = p.info(A)
    assert (info.ratio, info.listed, info.reserve, info.supply, info.required) == (D(1), True, D(0), D(0), D(0))
    assert "PlatformBalances" in system.manifest()["contracts"]


def test_top_up_mints_against_reserve_and_redeem_pays_back(system, actors, treasuries, platforms):
    p, cur = platforms, system.currency
    receipt = p.top_up(A, D("250.50"), sender=actors.alice)
    assert receipt.event("ToppedUp").args == {"platform": A, "account": actors.alice.address, "amount": 25050}
    assert (cur.balance_of(actors.alice), p.balance_of(actors.alice, A)) == (D("749.50"), D("250.50"))
    assert (p.reserve_of(A), p.supply_of(A)) == (D("250.50"), D("250.50"))
    assert cur.allowance(actors.alice, p.address) == 0  # the permit was for exactly this amount
    assert_conserved(system, actors, treasuries)
    p.redeem(A, D("50.50"), sender=actors.alice)
    assert (cur.balance_of(actors.alice), p.balance_of(actors.alice, A), p.reserve_of(A)) == (D(800), D(200), D(200))
    assert_conserved(system, actors, treasuries)


def test_top_up_without_a_held_key_approves_then_acts(system, actors, treasuries, platforms):
    p = platforms
    p._pay_in("topUp", None, (A, 1000), 1000, actors.alice)  # the approve-then-act path
    assert p.balance_of(actors.alice, A) == D(10)
    assert system.currency.allowance(actors.alice, p.address) == 0


def test_refusals_change_nothing(system, actors, treasuries, platforms):
    p = platforms
    p.top_up(A, D(100), sender=actors.alice)
    observe = lambda: books(system, actors, treasuries)  # noqa: E731
    expect_refusal(observe, lambda: p.top_up(A, D(10), sender=actors.bob), "NotCustomer",
                   account=actors.bob.address, platform=A)
    expect_refusal(observe, lambda: p.top_up(7, D(10), sender=actors.alice), "UnknownPlatform", platform=7)
    expect_refusal(observe, lambda: p.redeem(A, D("100.01"), sender=actors.alice), "ERC6909InsufficientBalance",
                   sender=actors.alice.address, balance=10000, needed=10001, id=A)
    expect_refusal(observe, lambda: p.interconvert(A, B, D(10), sender=actors.alice, to=actors.bob),
                   "NotSameName", **{"from": actors.alice.address}, to=actors.bob.address)
    expect_refusal(observe, lambda: p.interconvert(A, B, D(10), sender=actors.alice, to=actors.carol),
                   "NotCustomer", account=actors.carol.address, platform=B)
    expect_refusal(observe, lambda: p.interconvert(A, A, D(10), sender=actors.alice, to=actors.alice),
                   "SamePlatform", platform=A)
    expect_refusal(observe, lambda: p.withdraw_excess(A, D(1), sender=actors.alice), "NotOperator",
                   platform=A, caller=actors.alice.address)
    expect_refusal(observe, lambda: p.withdraw_excess(A, D(1), sender=treasuries.a), "ReserveBelowRequired",
                   platform=A, reserve=10000, required=10000, amount=100)
    expect_refusal(observe, lambda: p.set_ratio(A, "50%", sender=actors.alice), "AccessControlUnauthorizedAccount",
                   account=actors.alice.address, neededRole=keccak(text="COMPLIANCE"))
    system.registry.freeze_address(actors.alice2)
    expect_refusal(observe, lambda: p.interconvert(A, B, D(10), sender=actors.alice, to=actors.alice2),
                   "AddressFrozen", account=actors.alice2.address)
    system.registry.unfreeze_address(actors.alice2)
    system.currency.pause()
    expect_refusal(observe, lambda: p.redeem(A, D(1), sender=actors.alice), "EnforcedPause")
    system.currency.unpause()


def test_sdk_refuses_bad_input_before_anything_is_sent(system, actors, platforms):
    p = platforms
    block = system.chain.block_number
    for bad in (1.5, D(-1), D("0.001"), "abc", D(0)):
        with pytest.raises(errors.InvalidInput):
            p.top_up(A, bad, sender=actors.alice)
    for ratio in (1.0, D("1.5"), "-1%", "20.001%", "x"):
        with pytest.raises(errors.InvalidInput):
            ratio_to_bps(ratio)
    assert ratio_to_bps("20%") == ratio_to_bps(D("0.2")) == 2000
    assert system.chain.block_number == block


def test_interconversion_below_the_threshold_settles_in_one_transaction(system, actors, treasuries, platforms):
    p = platforms
    p.top_up(A, D(300), sender=actors.alice)
    block = system.chain.block_number
    result = p.interconvert(A, B, D(120), sender=actors.alice, to=actors.alice2, memo="move")
    assert system.chain.block_number == block + 1 and result.escrow_id is None
    assert result.receipt.event("Interconverted")["amount"] == 12000
    assert (p.balance_of(actors.alice, A), p.balance_of(actors.alice2, B)) == (D(180), D(120))
    assert (p.reserve_of(A), p.reserve_of(B)) == (D(180), D(120))
    assert p.converted_today(actors.alice) == D(120)
    assert_conserved(system, actors, treasuries)


def test_daily_threshold_at_its_edge_and_across_utc_midnight(system, actors, treasuries, platforms):
    p, chain = platforms, system.chain
    p.set_daily_threshold(2, D(300))
    p.top_up(A, D(1000), sender=actors.alice)
    day = chain.now // DAY
    chain.advance_time(day * DAY + DAY - 3 - chain.now)  # 23:59:57 UTC
    p.interconvert(A, B, D(200), sender=actors.alice, to=actors.alice2)
    p.interconvert(A, B, D(100), sender=actors.alice, to=actors.alice2)  # exactly the threshold
    with pytest.raises(errors.revert_class("DailyThresholdExceeded")) as info:
        p.interconvert(A, B, D("0.01"), sender=actors.alice, to=actors.alice2)
    assert (info.value.arguments["threshold"], info.value.arguments["convertedToday"]) == (30000, 30000)
    chain.advance_time((day + 1) * DAY - chain.now)  # a block at 00:00:00 UTC: a new day
    p.interconvert(A, B, D(300), sender=actors.alice, to=actors.alice2)
    assert p.converted_today(actors.alice) == D(300)
    # platform-balance payments count against the same threshold
    with pytest.raises(errors.revert_class("DailyThresholdExceeded")):
        p.transfer(actors.bob, B, D(1), sender=actors.alice2)


def test_large_interconversion_goes_through_the_escrow_and_can_be_revoked(system, actors, treasuries, platforms):
    p, t = platforms, system.transfers
    p.issue(A, actors.alice, D(12_000), sender=treasuries.a)
    result = p.interconvert(A, B, D(6_000), sender=actors.alice, to=actors.alice2)
    record = t.get(result.escrow_id)
    assert record.state == TransferState.AWAITING_APPROVAL and record.sender == actors.alice.address
    assert (p.reserve_of(A), p.reserve_of(B), p.balance_of(actors.alice2, B)) == (D(6_000), D(0), D(0))
    assert assert_conserved(system, actors, treasuries) == D(6_000)  # in the escrow
    t.approve(result.escrow_id)
    t.revoke(result.escrow_id, sender=actors.alice)
    assert (p.balance_of(actors.alice, A), p.reserve_of(A)) == (D(12_000), D(12_000))
    assert assert_conserved(system, actors, treasuries) == 0
    # and one that arrives
    result = p.interconvert(A, B, D(6_000), sender=actors.alice, to=actors.alice2)
    t.approve(result.escrow_id)
    system.chain.advance_time(2 * 3600)
    receipt = t.release(result.escrow_id, sender=actors.bob)
    assert (p.balance_of(actors.alice2, B), p.reserve_of(B), p.reserve_of(A)) == (D(6_000), D(6_000), D(6_000))
    assert assert_conserved(system, actors, treasuries) == 0
    assert p.info(B).supply == D(6_000)
    del receipt


def test_only_the_escrow_and_the_currency_call_the_hooks(system, actors, platforms):
    p = platforms
    for fn, args, error in (("onEscrowPaid", (1, actors.alice.address, 1), "OnlyEscrow"),
                            ("onEscrowRefunded", (1, actors.alice.address, 1), "OnlyEscrow"),
                            ("onWaterfall", (actors.alice.address, 1), "OnlyCurrency"),
                            ("onShortfall", (actors.alice.address, 1), "OnlyCurrency")):
        with pytest.raises(errors.revert_class(error)):
            p._checked(fn, *args, sender=actors.alice)


def test_partial_reserve_lets_the_platform_take_out_only_the_excess(system, actors, treasuries, platforms):
    p = platforms
    p.set_ratio(A, "20%")
    p.top_up(A, D(500), sender=actors.alice)
    assert p.info(A).required == D(100) and p.info(A).excess == D(400)
    observe = lambda: books(system, actors, treasuries)  # noqa: E731
    expect_refusal(observe, lambda: p.withdraw_excess(A, D("400.01"), sender=treasuries.a), "ReserveBelowRequired",
                   platform=A, reserve=50000, required=10000, amount=40001)
    p.withdraw_excess(A, D(400), sender=treasuries.a)
    assert p.reserve_of(A) == D(100) and system.currency.balance_of(treasuries.a) == D(100_400)
    # customers are paid while the reserve lasts, even below the ratio
    receipt = p.redeem(A, D(100), sender=actors.alice)
    assert receipt.event("ReserveBelowRatio").args == {"platform": A, "reserve": 0, "required": 8000}
    expect_refusal(observe, lambda: p.redeem(A, D(1), sender=actors.alice), "InsufficientReserve",
                   platform=A, reserve=0, amount=100)
    assert_conserved(system, actors, treasuries)


def test_off_the_white_list_no_new_money_but_redemption_works(system, actors, treasuries, platforms):
    p = platforms
    p.top_up(A, D(100), sender=actors.alice)
    p.interconvert(A, B, D(40), sender=actors.alice, to=actors.alice2)
    system.registry.set_institution_active(B, False)
    assert not p.info(B).listed
    observe = lambda: books(system, actors, treasuries)  # noqa: E731
    expect_refusal(observe, lambda: p.interconvert(A, B, D(1), sender=actors.alice, to=actors.alice2),
                   "PlatformNotListed", platform=B)
    expect_refusal(observe, lambda: p.interconvert(B, A, D(1), sender=actors.alice2, to=actors.alice),
                   "PlatformNotListed", platform=B)
    expect_refusal(observe, lambda: p.top_up(B, D(1), sender=actors.bob), "PlatformNotListed", platform=B)
    p.redeem(B, D(40), sender=actors.alice2)
    assert system.currency.balance_of(actors.alice2) == D(40)
    assert_conserved(system, actors, treasuries)


def test_same_name_rule_can_be_turned_off_per_deployment(chain_factory):
    from chainpay.config import DeployConfig, PlatformSpec
    from chainpay.currency.registry import identity_id
    from chainpay.system import deploy

    chain = chain_factory(12)
    system = deploy(chain, DeployConfig(platforms=[PlatformSpec(11, "X"), PlatformSpec(12, "Y")], same_name_only=False))
    p, reg = system.platforms, system.registry
    officer_x, officer_y = chain.accounts[4], chain.accounts[6]
    alice, bob = chain.accounts[8], chain.accounts[9]
    reg.register_identity(identity_id("a"), 2, alice, sender=officer_x)
    reg.register_identity(identity_id("b"), 2, bob, sender=officer_y)
    system.currency.mint(alice, D(10))
    p.top_up(11, D(10), sender=alice)
    p.interconvert(11, 12, D(4), sender=alice, to=bob)
    assert (p.balance_of(alice, 11), p.balance_of(bob, 12), p.same_name_only()) == (D(6), D(4), False)


def test_deploy_refuses_too_few_accounts_before_sending(chain_factory):
    from chainpay.config import DeployConfig, PlatformSpec
    from chainpay.system import deploy

    chain = chain_factory(6)
    block = chain.block_number
    with pytest.raises(errors.InvalidInput, match="need 8 accounts"):
        deploy(chain, DeployConfig(platforms=[PlatformSpec(11, "X"), PlatformSpec(12, "Y")]))
    assert chain.block_number == block


def test_a_frozen_spender_cannot_move_a_balance_it_was_allowed(system, actors, treasuries, platforms):
    p = platforms
    p.top_up(A, D(100), sender=actors.alice)
    p._checked("approve", actors.carol.address, A, 5000, sender=actors.alice)
    system.registry.freeze_address(actors.carol)
    observe = lambda: books(system, actors, treasuries)  # noqa: E731
    # to another customer of A (not to the frozen spender itself, which the recipient check would catch)
    expect_refusal(observe, lambda: p._checked("transferFrom", actors.alice.address, treasuries.a.address, A, 1000,
                                               sender=actors.carol), "AddressFrozen", account=actors.carol.address)
    system.registry.unfreeze_address(actors.carol)
    p._checked("transferFrom", actors.alice.address, treasuries.a.address, A, 1000, sender=actors.carol)
    assert p.balance_of(treasuries.a, A) == D(10)


def test_approve_then_act_path_refuses_before_sending_anything(system, actors, treasuries, platforms):
    """Without a held key there is no permit: the operation is dry-run before its approve."""
    p = platforms
    observe = lambda: (system.chain.block_number, books(system, actors, treasuries))  # noqa: E731
    expect_refusal(observe, lambda: p._pay_in("topUp", None, (A, 100), 100, actors.bob), "NotCustomer",
                   account=actors.bob.address, platform=A)
    expect_refusal(observe, lambda: p._pay_in("topUp", None, (A, 200_000), 200_000, actors.alice),
                   "ERC20InsufficientBalance", sender=actors.alice.address, balance=100000, needed=200_000)
    expect_refusal(observe, lambda: p._pay_in("issue", None, (A, actors.alice.address, 100), 100, actors.alice),
                   "NotOperator", platform=A, caller=actors.alice.address)
    expect_refusal(observe, lambda: p._pay_in("issue", None, (A, actors.bob.address, 100), 100, treasuries.a),
                   "NotCustomer", account=actors.bob.address, platform=A)
    system.registry.set_institution_active(A, False)
    expect_refusal(observe, lambda: p._pay_in("topUp", None, (A, 100), 100, actors.alice), "PlatformNotListed",
                   platform=A)


def test_a_standing_allowance_makes_it_one_checked_transaction(system, actors, treasuries, platforms):
    """An allowance that already covers the amount: no approve, one transaction, and a refusal still
    sends nothing (the transaction's own dry run) and leaves the allowance as it was."""
    p, cur, chain = platforms, system.currency, system.chain
    cur.approve(p.address, D(1000), sender=treasuries.a)
    block = chain.block_number
    p.issue(A, actors.alice, D(100), sender=treasuries.a)
    assert chain.block_number == block + 1 and cur.allowance(treasuries.a, p.address) == D(900)
    assert p.balance_of(actors.alice, A) == D(100)
    observe = lambda: (chain.block_number, books(system, actors, treasuries), cur.allowance(treasuries.a, p.address))  # noqa: E731
    expect_refusal(observe, lambda: p.issue(A, actors.bob, D(100), sender=treasuries.a), "NotCustomer",
                   account=actors.bob.address, platform=A)


def test_the_required_reserve_rounds_up_to_the_base_unit(system, actors, treasuries, platforms):
    p = platforms
    p.set_ratio(A, "33.33%")
    p.top_up(A, D("0.01"), sender=actors.alice)  # 1 base unit x 33.33 % = 0.3333 units: keep 1 unit
    assert p.info(A).required == D("0.01") and p.info(A).excess == 0
    p.top_up(A, D("0.02"), sender=actors.alice)  # 3 units x 33.33 % = 0.9999: still 1 unit
    assert p.info(A).required == D("0.01") and p.info(A).excess == D("0.02")
