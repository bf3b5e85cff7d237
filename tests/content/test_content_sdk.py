"""ContentClient (consumer) and ContentProvider (provider): metering, voucher checks with nothing
stored on refusal, durable storage across a restart, batch redemption, and redeeming as soon as a
consumer starts a unilateral close."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from chainpay import errors
from chainpay.content.channels import ChannelState
from chainpay.content.parties import ContentClient, ContentProvider, VoucherRefused
from chainpay.content.store import VoucherStore
from chainpay.content.vouchers import Domain, Signer
from chainpay.currency.registry import identity_id


@pytest.fixture
def parties(shop, tmp_path):
    ch = shop.system.channels
    alice = ContentClient(ch, shop.actors.alice)
    bob = ContentClient(ch, shop.actors.bob)
    provider = ContentProvider(ch, shop.provider, VoucherStore(tmp_path / "vouchers.sqlite"))
    yield alice, bob, provider
    provider.store.close()


def stored(provider):
    return [(c.key.id, c.amount, c.redeemed, c.closed) for c in provider.store.open_channels()]


def test_client_meters_uses_at_the_channel_price(shop, parties):
    alice, _, provider = parties
    key = alice.open(shop.page.id, Decimal("0.50"))
    vouchers = [alice.pay(key) for _ in range(3)] + [alice.pay(key, units=2)]
    assert [v.amount for v in vouchers] == [10, 20, 30, 50]
    assert alice.spent(key) == 50 and alice.remaining(key) == 0
    with pytest.raises(errors.InvalidAmount):
        alice.pay(key)
    assert alice.spent(key) == 50  # nothing signed
    alice.top_up(key, Decimal("0.10"))
    assert alice.pay(key).amount == 60
    for bad in (0, -1, 1.5, True):
        with pytest.raises(errors.InvalidInput):
            alice.pay(key, units=bad)


def test_provider_accepts_growing_vouchers_and_stores_them(shop, parties):
    alice, _, provider = parties
    key = alice.open(shop.page.id, Decimal(1))
    first = provider.accept(alice.pay(key), content_id=shop.page.id)
    assert (first.amount, first.paid, first.remaining) == (10, 10, 90)
    second = provider.accept(alice.pay(key, units=3), content_id=shop.page.id, units=3)
    assert (second.amount, second.paid) == (40, 30)
    assert stored(provider) == [(key.id, 40, 0, False)]


def test_each_bad_voucher_is_refused_and_nothing_is_stored(shop, parties):
    system, a = shop.system, shop.actors
    ch = system.channels
    alice, bob, provider = parties
    key = alice.open(shop.page.id, Decimal(1))
    provider.accept(alice.pay(key, units=2), units=2)  # 20 accepted
    bobs = bob.open(shop.page.id, Decimal(1))
    provider.accept(bob.pay(bobs))

    def refused(code, voucher, **kw):
        before = stored(provider)
        with pytest.raises(VoucherRefused) as info:
            provider.accept(voucher, **kw)
        assert info.value.code == code
        assert stored(provider) == before
        return info.value

    refused("stale", ch.sign_voucher(key, 10, signer=a.alice))  # lower amount
    refused("stale", ch.sign_voucher(key, 20, signer=a.alice))  # the same voucher again
    refused("over_deposit", ch.sign_voucher(key, 110, signer=a.alice))
    refused("wrong_signer", ch.sign_voucher(key, 30, signer=a.bob))
    refused("wrong_signer", replace(ch.sign_voucher(bobs, 30, signer=a.bob), channel_id=key.id))  # another channel
    refused("wrong_signer", Signer(a.alice.key, Domain(system.chain.chain_id + 1, ch.address)).sign(key.id, 30))
    refused("wrong_signer", Signer(a.alice.key, Domain(system.chain.chain_id, system.catalogue.address)).sign(key.id, 30))
    refused("underpaid", ch.sign_voucher(key, 25, signer=a.alice))  # half a unit
    refused("underpaid", ch.sign_voucher(key, 30, signer=a.alice), units=2)
    refused("wrong_content", ch.sign_voucher(key, 30, signer=a.alice), content_id=shop.song.id)
    refused("unknown_channel", replace(ch.sign_voucher(key, 30, signer=a.alice), channel_id=b"\x07" * 32))
    # a channel to another provider's listing is not this provider's money
    other = a.spare[3]
    system.registry.register_identity(identity_id("other provider"), 2, other, sender=a.officer_a)
    theirs = system.catalogue.list(Decimal("0.10"), "call", [(other, 10_000)], sender=other)
    foreign = alice.open(theirs.id, Decimal(1))
    refused("not_our_channel", alice.pay(foreign))
    # replay after close: neither the old nor a fresh voucher is accepted on a closed channel
    provider.close(key.id)
    refused("closed", ch.sign_voucher(key, 20, signer=a.alice))
    refused("closed", ch.sign_voucher(key, 90, signer=a.alice))
    assert provider.accept(bob.pay(bobs)).paid == 10  # other channels are unaffected


def test_provider_refuses_a_channel_closed_behind_its_back(shop, parties, tmp_path):
    system, a = shop.system, shop.actors
    alice, _, provider = parties
    key = alice.open(shop.page.id, Decimal(1))
    provider.accept(alice.pay(key))
    system.channels.cooperative_close(key, provider.consent_to_close(key.id), sender=a.alice)
    with pytest.raises(VoucherRefused) as info:
        provider.accept(alice.pay(key))
    assert info.value.code == "closed" and stored(provider) == []  # marked closed from the chain


def test_price_is_honoured_per_channel_snapshot(shop, parties):
    alice, _, provider = parties
    old = alice.open(shop.page.id, Decimal(1))
    shop.system.catalogue.set_price(shop.page.id, Decimal("0.25"), sender=shop.provider)
    new = alice.open(shop.page.id, Decimal(1))
    assert provider.accept(alice.pay(old)).paid == 10  # the old channel keeps 0.10
    assert provider.accept(alice.pay(new)).paid == 25
    cheap = shop.system.channels.sign_voucher(new, 35, signer=shop.actors.alice)
    with pytest.raises(VoucherRefused) as info:
        provider.accept(cheap)
    assert info.value.code == "underpaid"


def test_restart_keeps_vouchers_and_redeems_them_in_batches(shop, parties, tmp_path):
    ch = shop.system.channels
    alice, bob, provider = parties
    keys = [alice.open(shop.page.id, Decimal(1)), alice.open(shop.song.id, Decimal(9)), bob.open(shop.page.id, Decimal(1))]
    clients = [alice, alice, bob]
    for key, client in zip(keys, clients):
        provider.accept(client.pay(key, units=2), units=2)
    provider.store.close()  # the process stops

    revived = ContentProvider(ch, shop.provider, VoucherStore(tmp_path / "vouchers.sqlite"))
    assert revived.unredeemed() == Decimal("6.40")
    receipts = revived.redeem(batch_size=2)
    assert len(receipts) == 2
    assert [ch.get(k.id).redeemed for k in keys] == [20, 600, 20]
    assert (ch.earnings(shop.page.id), ch.earnings(shop.song.id)) == (Decimal("0.40"), Decimal(6))
    assert revived.unredeemed() == 0 and revived.redeem() == []  # nothing left to send
    revived.accept(alice.pay(keys[0]))
    revived.redeem()
    assert ch.get(keys[0].id).redeemed == 30
    revived.store.close()


def test_provider_redeems_as_soon_as_a_consumer_starts_closing(shop, parties):
    ch, chain = shop.system.channels, shop.system.chain
    alice, _, provider = parties
    key = alice.open(shop.page.id, Decimal(1))
    quiet = alice.open(shop.song.id, Decimal(6))
    provider.accept(alice.pay(key, units=4), units=4)
    provider.accept(alice.pay(quiet))
    assert provider.watch() == []
    alice.start_close(key)
    with pytest.raises(errors.InvalidInput):
        alice.pay(key)  # the client pays no more on a channel it is closing
    assert alice.channel_for(shop.page.id) is None and alice.channel_for(shop.song.id) == quiet
    assert provider.watch() == [key.id]  # redeemed at once, long before the challenge ends
    assert ch.get(key.id).redeemed == 40 and ch.get(quiet.id).redeemed == 0
    assert provider.watch() == []  # each close is seen once
    chain.advance_time(ch.challenge_period)
    info = alice.settle(key)
    assert (info.state, ch.owed(shop.actors.alice)) == (ChannelState.CLOSED, Decimal("0.60"))
    alice.withdraw()
    assert shop.balances(shop.actors.alice) == (Decimal("993.60"),)  # 1,000 - 1 - 6 (still open) + 0.60


def test_cooperative_closes_from_either_side(shop, parties):
    ch, a = shop.system.channels, shop.actors
    alice, _, provider = parties
    k1 = alice.open(shop.page.id, Decimal(1))
    k2 = alice.open(shop.page.id, Decimal(1))
    provider.accept(alice.pay(k1, units=3), units=3)
    provider.accept(alice.pay(k2, units=5), units=5)
    info = provider.close(k1.id)
    assert (info.state, info.redeemed) == (ChannelState.CLOSED, 30)
    info = alice.cooperative_close(k2, provider.consent_to_close(k2.id))
    assert (info.state, info.redeemed) == (ChannelState.CLOSED, 50)
    assert ch.owed(a.alice) == Decimal("1.20")
    assert provider.unredeemed() == Decimal("0.50")  # the provider has not looked at the chain yet
    assert provider.watch() == [] and provider.unredeemed() == 0 and stored(provider) == []
