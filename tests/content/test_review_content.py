"""Security review (issue 11) on pay-per-use content: finding 4 (a price bound on buying and opening),
5 (a close consent expires and binds what was served), 6 (one frozen payee holds only its own share of
channel earnings), 7 (compliance holds a channel of a frozen party) and 11 (sweeps of unheld money,
no contract payees but chainpay's own)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chainpay import errors
from chainpay.content.channels import ChannelState
from chainpay.content import ContentClient, ContentProvider, VoucherRefused
from chainpay.currency.registry import identity_id
from chainpay.content.store import VoucherStore
from support import expect_refusal


DAY = 86_400
MAX = 2**256 - 1


@pytest.fixture(autouse=True)
def _clock_at_wall_time(chain):
    """A reverted snapshot leaves the chain's latest block behind the wall clock, and the next block is
    stamped at the wall clock: mine one now, so that deadlines computed from `chain.now` hold."""
    chain.advance_time(0)


def money(shop):
    """Every holding a content operation may touch."""
    s, a = shop.system, shop.actors
    cur = s.currency
    return ([cur.balance_of(w) for w in (a.alice, a.bob, s.catalogue.address, s.channels.address, *shop.payees)],
            [s.catalogue.owed(w) for w in shop.payees], [s.channels.owed(w) for w in (a.alice, *shop.payees)])


# ------------------------------------------------------------------ finding 4
def test_a_price_raised_before_the_purchase_is_mined_is_refused(shop):
    """The review: a provider's setPrice seen in the mempool turned a 0.10 purchase into 50.00."""
    s, alice = shop.system, shop.actors.alice
    cat, ch = s.catalogue, s.channels
    seen = cat.get(shop.page.id).unit_price  # what the buyer saw: 0.10
    cat.set_price(shop.page.id, Decimal(50), sender=shop.provider)  # lands first
    snap = lambda: money(shop)  # noqa: E731
    block = s.chain.block_number
    with pytest.raises(errors.PriceAboveLimit) as info:  # the SDK, before sending
        cat.buy(shop.page.id, 1, sender=alice, max_unit_price=seen)
    assert info.value.arguments == {"contentId": shop.page.id, "unitPrice": 5000, "maxUnitPrice": 10}
    with pytest.raises(errors.PriceAboveLimit):
        ch.open(shop.page.id, Decimal(5), sender=alice, max_unit_price=seen)
    assert s.chain.block_number == block
    # and the chain itself, for a transaction built before the price changed
    s.currency.approve(cat.address, Decimal(50), sender=alice)
    s.currency.approve(ch.address, Decimal(5), sender=alice)
    expect_refusal(snap, lambda: cat._write("buy", shop.page.id, 1, 10, sender=alice), "PriceAboveLimit",
                   contentId=shop.page.id, unitPrice=5000, maxUnitPrice=10)
    expect_refusal(snap, lambda: ch._write("open", shop.page.id, 500, bytes(32), 10, sender=alice), "PriceAboveLimit",
                   contentId=shop.page.id, unitPrice=5000, maxUnitPrice=10)
    expect_refusal(snap, lambda: cat._write("buyWithPermit", shop.page.id, 1, 10, 0, 27, bytes(32), bytes(32),
                                            sender=alice), "PriceAboveLimit", contentId=shop.page.id, unitPrice=5000,
                   maxUnitPrice=10)
    # at or under the bound, it goes through
    cat.buy(shop.page.id, 1, sender=alice, max_unit_price=Decimal(50))


def test_a_content_client_opens_no_dearer_than_the_offer(shop):
    client = ContentClient(shop.system.channels, shop.actors.alice)
    shop.system.catalogue.set_price(shop.page.id, Decimal("0.11"), sender=shop.provider)
    with pytest.raises(errors.PriceAboveLimit):
        client.open(shop.page.id, Decimal(1), max_unit_price=Decimal("0.10"))
    assert client.open(shop.page.id, Decimal(1), max_unit_price=Decimal("0.11")).unit_price == 11


# ------------------------------------------------------------------ finding 5
@pytest.fixture
def parties(shop, tmp_path):
    client = ContentClient(shop.system.channels, shop.actors.alice)
    provider = ContentProvider(shop.system.channels, shop.provider, VoucherStore(tmp_path / "v.sqlite"))
    yield client, provider
    provider.store.close()


def test_a_close_consent_binds_what_was_served_and_expires(shop, parties):
    """The review: a consent to close at 2.00 stayed valid while the provider went on accepting
    vouchers up to 8.00, and the consumer closed at 2.00 (8.00 refunded). Now the provider accepts no
    voucher while its consent is live, and the consent dies at its deadline."""
    s, alice = shop.system, shop.actors.alice
    ch, chain = s.channels, s.chain
    client, provider = parties
    key = client.open(shop.page.id, Decimal(10))
    for _ in range(20):
        provider.accept(client.pay(key))
    consent = provider.consent_to_close(key.id, valid_for=600)
    assert (consent.amount, consent.deadline) == (200, chain.now + 600)
    with pytest.raises(VoucherRefused) as info:
        provider.accept(client.pay(key, units=60), units=60)  # 8.00 in all: refused, nothing served
    assert info.value.code == "closing" and provider.store.get(key.id).amount == 200
    # past the deadline the consent is dead on chain, and the provider takes vouchers again
    chain.set_next_block_time(consent.deadline + 1)
    expect_refusal(lambda: money(shop), lambda: ch._write("cooperativeClose", key.as_abi(), 200, consent.deadline,
                                                          consent.v, consent.r, consent.s, sender=alice),
                   "ConsentExpired", channelId=key.id, deadline=consent.deadline)
    with pytest.raises(errors.ConsentExpired):  # the SDK checks the deadline before sending
        client.cooperative_close(key, consent)
    assert provider.accept(ch.sign_voucher(key, 210, signer=alice)).paid == 10
    # a fresh consent binds the latest amount
    fresh = provider.consent_to_close(key.id)
    info = client.cooperative_close(key, fresh)
    assert (info.state, info.redeemed) == (ChannelState.CLOSED, 210)


# ------------------------------------------------------------------ finding 6
def test_a_frozen_payee_no_longer_blocks_distribute(shop):
    """The review: one frozen payee made distribute revert for every payee of the listing."""
    s, a = shop.system, shop.actors
    ch = s.channels
    key, _ = ch.open(shop.page.id, Decimal(5), sender=a.alice)
    ch.close(key, ch.sign_voucher(key, 300, signer=a.alice), sender=shop.provider)
    s.registry.freeze_address(shop.service)
    ch.distribute(shop.page.id, sender=a.bob)
    assert [ch.owed(p) for p in shop.payees] == [Decimal("2.10"), Decimal("0.60"), Decimal("0.30")]
    ch.withdraw(sender=shop.provider)
    ch.withdraw_for(shop.platform, sender=a.bob)
    expect_refusal(lambda: money(shop), lambda: ch.withdraw(sender=shop.service), "AddressFrozen",
                   account=shop.service.address)
    assert shop.balances(shop.provider, shop.platform) == (Decimal("2.10"), Decimal("0.60"))


# ------------------------------------------------------------------ finding 7
def test_compliance_holds_a_channel_whose_consumer_was_frozen(shop):
    """The review: vouchers a thief signed after the consumer's freeze were still redeemed."""
    s, a = shop.system, shop.actors
    ch = s.channels
    key, _ = ch.open(shop.page.id, Decimal(5), sender=a.alice)
    ch.redeem(key, ch.sign_voucher(key, 50, signer=a.alice), sender=shop.provider)  # genuine use
    snap = lambda: (money(shop), ch.get(key.id))  # noqa: E731
    expect_refusal(snap, lambda: ch.hold(key), "ChannelPartiesActive", channelId=key.id)
    s.registry.freeze_identity(a.alice_id)
    stolen = ch.sign_voucher(key, 500, signer=a.alice)  # the thief holds alice's key
    with pytest.raises(errors.AccessControlUnauthorizedAccount):
        ch.hold(key, sender=shop.provider)
    held = ch.hold(key)
    assert held.held and held.receipt.event("ChannelHeld").args == {"channelId": key.id, "by": a.compliance.address}
    for attempt in (lambda: ch.redeem(key, stolen, sender=shop.provider),
                    lambda: ch.close(key, stolen, sender=shop.provider)):
        expect_refusal(snap, attempt, "ChannelIsHeld", channelId=key.id)
    assert ch.redeem_many([(key, stolen)], sender=shop.provider).events_named("VoucherRedeemed") == []
    # compliance closes it at what was genuinely owed; the rest is the consumer's
    expect_refusal(snap, lambda: ch.close_held(key, 40), "InvalidCloseAmount", channelId=key.id, amount=40,
                   redeemed=50, deposit=500)
    info = ch.close_held(key, 80)
    assert (info.state, info.redeemed, info.held) == (ChannelState.CLOSED, 80, False)
    assert ch.owed(a.alice) == Decimal("4.20") and ch.earnings(shop.page.id) == Decimal("0.80")


def test_releasing_a_hold_on_a_closing_channel_gives_a_fresh_challenge(shop):
    s, a = shop.system, shop.actors
    ch, chain = s.channels, s.chain
    key, _ = ch.open(shop.page.id, Decimal(5), sender=a.alice)
    ch.start_close(key, sender=a.alice)
    s.registry.freeze_address(shop.provider)
    ch.hold(key)
    chain.advance_time(2 * DAY)  # the challenge period ran out while held
    expect_refusal(lambda: ch.get(key.id), lambda: ch.settle(key, sender=a.alice), "ChannelIsHeld", channelId=key.id)
    s.registry.unfreeze_address(shop.provider)
    released = ch.release_hold(key)
    assert released.closes_at >= chain.now - 1 + ch.challenge_period and not released.held
    ch.redeem(key, ch.sign_voucher(key, 30, signer=a.alice), sender=shop.provider)  # the provider's chance again
    with pytest.raises(errors.ChannelNotHeld):
        ch.release_hold(key)


# ------------------------------------------------------------------ finding 11
@pytest.mark.parametrize("where", ["catalogue", "channels"])
def test_recover_unheld_returns_only_money_outside_the_accounting(shop, where):
    s, a = shop.system, shop.actors
    contract = getattr(s, where)
    s.catalogue.buy(shop.song.id, 1, sender=a.bob)
    s.channels.open(shop.page.id, Decimal(5), sender=a.bob)
    s.currency.transfer(contract.address, Decimal(7), sender=a.alice)  # paid in by mistake
    held = s.currency.balance_of(contract.address) - Decimal(7)
    with pytest.raises(errors.AccessControlUnauthorizedAccount):
        contract.recover_unheld(a.alice, sender=a.alice)
    receipt = contract.recover_unheld(a.alice)
    assert receipt.event("UnheldRecovered").args == {"to": a.alice.address, "amount": 700}
    assert s.currency.balance_of(contract.address) == held
    assert contract.recover_unheld(a.alice).events_named("UnheldRecovered") == []  # deposits are untouchable


def test_a_contract_payee_must_be_chainpays_own(shop):
    s, a = shop.system, shop.actors
    other = s.chain.deploy("BaselineERC20", [1], a.admin).contract_address
    s.registry.register_identity(identity_id("a contract payee"), 1, other, sender=a.officer_a)
    cat = s.catalogue
    expect_refusal(cat.content_count, lambda: cat.list(Decimal(1), "call", [(shop.provider, 9000), (other, 1000)],
                                                       sender=shop.provider), "ContractPayee", payee=other)
    ok = cat.list(Decimal(1), "call", [(shop.provider, 9000), (s.transfers.address, 1000)], sender=shop.provider)
    assert ok.split[1] == (s.transfers.address, 1000)
