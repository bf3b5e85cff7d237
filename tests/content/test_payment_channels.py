"""PaymentChannels: opening, top-ups, vouchers redeemed singly and in batches, every kind of bad
voucher refused with its exact error and nothing changed, cooperative and unilateral closes with the
challenge period, pooled earnings paid along the split, refunds, and money conserved throughout."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from support import expect_refusal

from chainpay import errors
from chainpay.content.channels import ChannelState
from chainpay.content.vouchers import CLOSE_TYPEHASH, VOUCHER_TYPEHASH, Domain, Signer

DAY = 86_400


@pytest.fixture
def opened(shop):
    """Alice's channel to the 0.10-yuan page with a 5-yuan deposit."""
    key, info = shop.system.channels.open(shop.page.id, Decimal(5), sender=shop.actors.alice)
    return key


def state(shop, *keys):
    """Everything a channel operation may change: channels, pools, balances."""
    ch, cur = shop.system.channels, shop.system.currency
    a = shop.actors
    return ([ch.get(k.id) for k in keys], ch.earnings(shop.page.id), [ch.owed(w) for w in (a.alice, *shop.payees)],
            [cur.balance_of(w) for w in (a.alice, ch.address, *shop.payees)], ch.total_held())


def owed(shop, keys) -> Decimal:
    """What the channel contract owes: live deposits less redeemed, pooled earnings, refunds."""
    ch, cur = shop.system.channels, shop.system.currency
    live = sum(ch.get(k.id).remaining for k in keys if ch.get(k.id).state is not ChannelState.CLOSED)
    pools = sum(ch.earnings(c) for c in (shop.song.id, shop.page.id))
    refunds = sum(ch.owed(w) for w in (shop.actors.alice, shop.actors.bob, *shop.payees))
    assert ch.total_held() == cur.from_units(live) + pools + refunds
    return cur.from_units(live) + pools + refunds


def test_open_moves_the_deposit_and_records_the_terms(shop):
    ch, alice = shop.system.channels, shop.actors.alice
    key, info = ch.open(shop.page.id, Decimal(5), sender=alice)
    assert (key.consumer, key.provider, key.content_id, key.unit_price) == (alice.address, shop.provider.address,
                                                                            shop.page.id, 10)
    assert key.id == ch._read("channelIdOf", key.as_abi())
    assert (info.deposit, info.redeemed, info.state, info.closes_at) == (500, 0, ChannelState.OPEN, None)
    assert info.receipt.event("ChannelOpened").args == {
        "channelId": key.id, "consumer": alice.address, "provider": shop.provider.address, "contentId": shop.page.id,
        "unitPrice": 10, "salt": key.salt, "deposit": 500}
    assert shop.balances(alice, ch.address) == (Decimal(995), Decimal(5))
    assert ch.key_of(key.id) == key


def test_open_with_approve_and_top_up(shop, opened):
    ch, alice = shop.system.channels, shop.actors.alice
    key, info = ch.open(shop.song.id, Decimal(6), sender=alice, use_permit=False)
    assert info.deposit == 600
    info = ch.top_up(opened, Decimal("2.5"), sender=alice)
    assert info.deposit == 750 and info.receipt.event("ChannelToppedUp")["deposit"] == 750
    ch.top_up(opened, Decimal("0.5"), sender=alice, use_permit=False)
    assert ch.get(opened.id).deposit == 800
    assert shop.balances(alice, ch.address) == (Decimal(986), Decimal(14))


def test_open_refusals(shop, opened):
    ch, alice = shop.system.channels, shop.actors.alice
    snap = lambda: state(shop, opened)  # noqa: E731
    shop.system.catalogue.set_available(shop.song.id, False, sender=shop.provider)
    expect_refusal(snap, lambda: ch.open(shop.song.id, Decimal(5), sender=alice), "ContentUnavailable",
                   contentId=shop.song.id)
    expect_refusal(snap, lambda: ch.open(99, Decimal(5), sender=alice), "UnknownContent", contentId=99)
    expect_refusal(snap, lambda: ch.open(shop.page.id, Decimal(5), sender=alice, salt=opened.salt), "ChannelExists",
                   channelId=opened.id)
    expect_refusal(snap, lambda: ch._write("open", shop.page.id, 0, bytes(32), 10, sender=alice), "ZeroAmount")
    expect_refusal(snap, lambda: ch._write("open", shop.page.id, 2**96, bytes(32), 10, sender=alice), "AmountTooLarge",
                   amount=2**96, max=2**96 - 1)
    with pytest.raises(errors.InvalidAmount):
        ch.open(shop.page.id, Decimal("-1"), sender=alice)
    # the currency's own rules still apply: no deposit beyond the balance
    expect_refusal(snap, lambda: ch.open(shop.page.id, Decimal(101), sender=shop.actors.carol), "ERC20InsufficientBalance",
                   sender=shop.actors.carol.address, balance=10_000, needed=10_100)


def test_top_up_refusals(shop, opened):
    ch, a = shop.system.channels, shop.actors
    snap = lambda: state(shop, opened)  # noqa: E731
    expect_refusal(snap, lambda: ch.top_up(opened, Decimal(1), sender=a.bob), "NotConsumer",
                   channelId=opened.id, caller=a.bob.address)
    expect_refusal(snap, lambda: ch._write("topUp", opened.as_abi(), 0, sender=a.alice), "ZeroAmount")
    ch.start_close(opened, sender=a.alice)
    expect_refusal(snap, lambda: ch.top_up(opened, Decimal(1), sender=a.alice), "WrongChannelState",
                   channelId=opened.id, state=int(ChannelState.CLOSING))
    unknown = replace(opened, salt=b"\x01" * 32)
    expect_refusal(snap, lambda: ch.top_up(unknown, Decimal(1), sender=a.alice), "UnknownChannel", channelId=unknown.id)


def test_redeem_pools_the_increment_without_closing(shop, opened):
    ch, a = shop.system.channels, shop.actors
    r1 = ch.redeem(opened, ch.sign_voucher(opened, 30, signer=a.alice), sender=shop.provider)
    assert r1.event("VoucherRedeemed").args == {"channelId": opened.id, "cumulativeAmount": 30, "paid": 30}
    r2 = ch.redeem(opened, ch.sign_voucher(opened, 70, signer=a.alice), sender=a.bob)  # anyone may submit
    assert r2.event("VoucherRedeemed")["paid"] == 40
    info = ch.get(opened.id)
    assert (info.redeemed, info.state) == (70, ChannelState.OPEN)
    assert ch.earnings(shop.page.id) == Decimal("0.70")


def test_every_kind_of_bad_voucher_is_refused_on_chain(shop, opened):
    ch, a, system = shop.system.channels, shop.actors, shop.system
    other, _ = ch.open(shop.page.id, Decimal(5), sender=a.bob)
    ch.redeem(opened, ch.sign_voucher(opened, 50, signer=a.alice), sender=shop.provider)
    snap = lambda: state(shop, opened, other)  # noqa: E731
    redeem = lambda v: ch.redeem(opened, v, sender=shop.provider)  # noqa: E731

    # lower and equal amounts: amounts only grow
    expect_refusal(snap, lambda: redeem(ch.sign_voucher(opened, 40, signer=a.alice)), "StaleVoucher",
                   channelId=opened.id, amount=40, redeemed=50)
    expect_refusal(snap, lambda: redeem(ch.sign_voucher(opened, 50, signer=a.alice)), "StaleVoucher",
                   channelId=opened.id, amount=50, redeemed=50)
    # over the deposit
    expect_refusal(snap, lambda: redeem(ch.sign_voucher(opened, 501, signer=a.alice)), "VoucherOverDeposit",
                   channelId=opened.id, amount=501, deposit=500)
    # wrong signer: the provider (or anyone but the consumer) cannot sign the consumer's vouchers
    forged = ch.sign_voucher(opened, 60, signer=a.bob)
    expect_refusal(snap, lambda: redeem(forged), "WrongSigner", channelId=opened.id, recovered=a.bob.address,
                   expected=a.alice.address)
    # a voucher alice signed for another of her channels does not pay on this one
    mine_elsewhere, _ = ch.open(shop.song.id, Decimal(6), sender=a.alice)
    snap2 = lambda: state(shop, opened, other, mine_elsewhere)  # noqa: E731
    moved = replace(ch.sign_voucher(mine_elsewhere, 60, signer=a.alice), channel_id=opened.id)
    refused = expect_refusal(snap2, lambda: redeem(moved), "WrongSigner", channelId=opened.id,
                             recovered=refused_signer(ch, opened, moved), expected=a.alice.address)
    assert refused.recovered != a.alice.address
    # signed for another chain, and for another contract
    for domain in (Domain(system.chain.chain_id + 1, ch.address), Domain(system.chain.chain_id, system.currency.address)):
        foreign = Signer(a.alice.key, domain).sign(opened.id, 60)
        expect_refusal(snap2, lambda: redeem(foreign), "WrongSigner", channelId=opened.id,
                       recovered=refused_signer(ch, opened, foreign), expected=a.alice.address)
    # a malleable (high-s) copy of a valid signature
    good = ch.sign_voucher(opened, 60, signer=a.alice)
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    high_s = (n - int.from_bytes(good.s, "big")).to_bytes(32, "big")
    flipped = replace(good, signature=good.r + high_s + bytes([55 - good.v]))
    expect_refusal(snap2, lambda: redeem(flipped), "WrongSigner", channelId=opened.id,
                   recovered="0x0000000000000000000000000000000000000000", expected=a.alice.address)
    redeem(good)  # the honest voucher still works afterwards
    assert ch.get(opened.id).redeemed == 60


def refused_signer(ch, key, voucher) -> str:
    """Who the contract recovers for a voucher presented on `key` (computed with the contract's digest)."""
    from coincurve import PublicKey
    from eth_utils import keccak, to_checksum_address

    digest = ch.digest(key, voucher.amount, VOUCHER_TYPEHASH)
    pub = PublicKey.from_signature_and_message(voucher.signature[:64] + bytes([voucher.v - 27]), digest, hasher=None)
    return to_checksum_address(keccak(pub.format(compressed=False)[1:])[12:])


def test_redeem_many_pays_many_channels_in_one_transaction(shop, opened):
    ch, a = shop.system.channels, shop.actors
    bobs, _ = ch.open(shop.page.id, Decimal(3), sender=a.bob)
    song, _ = ch.open(shop.song.id, Decimal(9), sender=a.alice)
    closed, _ = ch.open(shop.page.id, Decimal(1), sender=a.alice)
    ch.close(closed, ch.sign_voucher(closed, 20, signer=a.alice), sender=shop.provider)
    ch.redeem(bobs, ch.sign_voucher(bobs, 100, signer=a.bob), sender=shop.provider)
    batch = [(opened, ch.sign_voucher(opened, 120, signer=a.alice)),
             (bobs, ch.sign_voucher(bobs, 100, signer=a.bob)),  # already redeemed: skipped
             (song, ch.sign_voucher(song, 600, signer=a.alice)),
             (closed, ch.sign_voucher(closed, 90, signer=a.alice))]  # closed: skipped
    receipt = ch.redeem_many(batch, sender=shop.provider)
    assert [(e["channelId"], e["paid"]) for e in receipt.events_named("VoucherRedeemed")] == [(opened.id, 120), (song.id, 600)]
    assert (ch.earnings(shop.page.id), ch.earnings(shop.song.id)) == (Decimal("2.40"), Decimal(6))
    # one bad signature refuses the whole batch
    bad = [(opened, ch.sign_voucher(opened, 130, signer=a.alice)), (song, ch.sign_voucher(song, 700, signer=a.bob))]
    expect_refusal(lambda: state(shop, opened, song), lambda: ch.redeem_many(bad, sender=shop.provider), "WrongSigner",
                   channelId=song.id, recovered=a.bob.address, expected=a.alice.address)


def test_provider_closes_cooperatively_and_old_vouchers_never_replay(shop, opened):
    ch, a = shop.system.channels, shop.actors
    ch.redeem(opened, ch.sign_voucher(opened, 100, signer=a.alice), sender=shop.provider)
    last = ch.sign_voucher(opened, 230, signer=a.alice)
    expect_refusal(lambda: state(shop, opened), lambda: ch.close(opened, last, sender=a.bob), "NotChannelProvider",
                   channelId=opened.id, caller=a.bob.address)
    expect_refusal(lambda: state(shop, opened),
                   lambda: ch.close(opened, ch.sign_voucher(opened, 501, signer=a.alice), sender=shop.provider),
                   "VoucherOverDeposit", channelId=opened.id, amount=501, deposit=500)
    info = ch.close(opened, last, sender=shop.provider)
    assert (info.state, info.redeemed) == (ChannelState.CLOSED, 230)
    assert info.receipt.event("ChannelClosed").args == {"channelId": opened.id, "redeemed": 230, "refunded": 270}
    assert ch.owed(a.alice) == Decimal("2.70") and ch.earnings(shop.page.id) == Decimal("2.30")
    snap = lambda: state(shop, opened)  # noqa: E731
    closed_state = int(ChannelState.CLOSED)
    expect_refusal(snap, lambda: ch.redeem(opened, ch.sign_voucher(opened, 400, signer=a.alice), sender=shop.provider),
                   "WrongChannelState", channelId=opened.id, state=closed_state)
    expect_refusal(snap, lambda: ch.close(opened, ch.sign_voucher(opened, 400, signer=a.alice), sender=shop.provider),
                   "WrongChannelState", channelId=opened.id, state=closed_state)
    expect_refusal(snap, lambda: ch.start_close(opened, sender=a.alice), "WrongChannelState", channelId=opened.id,
                   state=closed_state)
    # the same terms cannot be opened again, so the channel's old vouchers stay dead
    expect_refusal(snap, lambda: ch.open(shop.page.id, Decimal(5), sender=a.alice, salt=opened.salt), "ChannelExists",
                   channelId=opened.id)


def test_provider_closes_on_what_is_already_redeemed(shop, opened):
    ch, a = shop.system.channels, shop.actors
    ch.redeem(opened, ch.sign_voucher(opened, 40, signer=a.alice), sender=shop.provider)
    info = ch.close(opened, None, sender=shop.provider)
    assert (info.state, info.redeemed, ch.owed(a.alice)) == (ChannelState.CLOSED, 40, Decimal("4.60"))


def test_consumer_closes_cooperatively_with_the_providers_consent(shop, opened):
    ch, a = shop.system.channels, shop.actors
    consent = ch.sign_close(opened, 150, signer=shop.provider)
    snap = lambda: state(shop, opened)  # noqa: E731
    expect_refusal(snap, lambda: ch.cooperative_close(opened, consent, sender=a.bob), "NotConsumer",
                   channelId=opened.id, caller=a.bob.address)
    self_made = ch.sign_close(opened, 10, signer=a.alice)  # the consumer cannot consent for the provider
    expect_refusal(snap, lambda: ch.cooperative_close(opened, self_made, sender=a.alice), "WrongSigner",
                   channelId=opened.id, recovered=a.alice.address, expected=shop.provider.address)
    voucher_not_consent = ch.sign_voucher(opened, 150, signer=shop.provider)  # wrong type: a Voucher, not CloseChannel
    voucher_not_consent = replace(voucher_not_consent, deadline=consent.deadline)
    refused = expect_refusal(snap, lambda: ch.cooperative_close(opened, voucher_not_consent, sender=a.alice),
                             "WrongSigner", channelId=opened.id,
                             recovered=_recover_close(ch, opened, voucher_not_consent), expected=shop.provider.address)
    assert refused.recovered != shop.provider.address
    info = ch.cooperative_close(opened, consent, sender=a.alice)
    assert (info.state, info.redeemed) == (ChannelState.CLOSED, 150)
    assert (ch.earnings(shop.page.id), ch.owed(a.alice)) == (Decimal("1.50"), Decimal("3.50"))


def _recover_close(ch, key, voucher) -> str:
    from coincurve import PublicKey
    from eth_utils import keccak, to_checksum_address

    digest = ch.digest(key, voucher.amount, CLOSE_TYPEHASH, voucher.deadline)
    pub = PublicKey.from_signature_and_message(voucher.signature[:64] + bytes([voucher.v - 27]), digest, hasher=None)
    return to_checksum_address(keccak(pub.format(compressed=False)[1:])[12:])


def test_unilateral_close_waits_out_the_challenge_during_which_the_provider_redeems(shop, opened):
    ch, a, chain = shop.system.channels, shop.actors, shop.system.chain
    snap = lambda: state(shop, opened)  # noqa: E731
    expect_refusal(snap, lambda: ch.start_close(opened, sender=shop.provider), "NotConsumer", channelId=opened.id,
                   caller=shop.provider.address)
    chain.advance_time(DAY)
    start = chain.now + 10
    chain.set_next_block_time(start)
    info = ch.start_close(opened, sender=a.alice)
    assert (info.state, info.closes_at) == (ChannelState.CLOSING, start + DAY)
    assert info.receipt.event("ChannelClosing").args == {"channelId": opened.id, "closesAt": start + DAY}
    expect_refusal(snap, lambda: ch.settle(opened, sender=a.alice), "ChallengeNotOver", channelId=opened.id,
                   closesAt=start + DAY)
    # inside the challenge period the provider still redeems its latest voucher
    chain.set_next_block_time(start + DAY - 1)
    ch.redeem(opened, ch.sign_voucher(opened, 120, signer=a.alice), sender=shop.provider)
    # from the deadline on, redemption is over and the remainder belongs to the consumer
    chain.set_next_block_time(start + DAY)
    late = ch.sign_voucher(opened, 300, signer=a.alice)
    expect_refusal(snap, lambda: ch.redeem(opened, late, sender=shop.provider), "ChallengeOver", channelId=opened.id,
                   closesAt=start + DAY)
    expect_refusal(snap, lambda: ch.close(opened, late, sender=shop.provider), "ChallengeOver", channelId=opened.id,
                   closesAt=start + DAY)
    info = ch.settle(opened, sender=a.bob)  # anyone may settle; the remainder is alice's
    assert (info.state, info.redeemed) == (ChannelState.CLOSED, 120)
    assert ch.owed(a.alice) == Decimal("3.80")
    receipt = ch.withdraw(sender=a.alice)
    assert receipt.event("Withdrawn").args == {"account": a.alice.address, "amount": 380}
    assert shop.balances(a.alice) == (Decimal("998.80"),)


def test_withdraw_and_distribute_pay_out_and_refuse_when_empty(shop, opened):
    ch, a = shop.system.channels, shop.actors
    snap = lambda: state(shop, opened)  # noqa: E731
    expect_refusal(snap, lambda: ch.withdraw(sender=a.alice), "NothingToWithdraw", account=a.alice.address)
    expect_refusal(snap, lambda: ch.distribute(shop.page.id, sender=a.bob), "NothingToDistribute",
                   contentId=shop.page.id)
    ch.close(opened, ch.sign_voucher(opened, 333, signer=a.alice), sender=shop.provider)
    before = shop.balances(*shop.payees)
    receipt = ch.distribute(shop.page.id, sender=a.bob)
    credited = [ch.owed(p) for p in shop.payees]
    # 3.33 yuan along 70/20/10: 0.66 and 0.33 floored, the provider takes the rest; the parts add up exactly
    assert credited == [Decimal("2.34"), Decimal("0.66"), Decimal("0.33")] and sum(credited) == Decimal("3.33")
    assert receipt.event("EarningsDistributed").args == {"contentId": shop.page.id, "amount": 333}
    assert [e.args for e in receipt.events_named("PayeeCredited")] == [
        {"contentId": shop.page.id, "payee": p.address, "amount": u} for p, u in zip(shop.payees, (234, 66, 33))]
    assert ch.earnings(shop.page.id) == 0
    for p in shop.payees:
        ch.withdraw_for(p, sender=a.bob)
    gains = [b - x for x, b in zip(before, shop.balances(*shop.payees))]
    assert gains == credited
    ch.withdraw(sender=a.alice)
    assert ch.owed(a.alice) == 0 and shop.balances(a.alice) == (Decimal("996.67"),)
    assert shop.held() == 0


def test_money_is_conserved_across_a_mixed_history(shop, opened):
    ch, a, cur = shop.system.channels, shop.actors, shop.system.currency
    total_before = sum(cur.balance_of(w) for w in (a.alice, a.bob, *shop.payees, ch.address))
    bobs, _ = ch.open(shop.song.id, Decimal(12), sender=a.bob)
    keys = [opened, bobs]
    assert shop.held() == owed(shop, keys)
    ch.redeem(opened, ch.sign_voucher(opened, 70, signer=a.alice), sender=shop.provider)
    ch.top_up(bobs, Decimal(3), sender=a.bob)
    ch.redeem_many([(bobs, ch.sign_voucher(bobs, 900, signer=a.bob)),
                    (opened, ch.sign_voucher(opened, 90, signer=a.alice))], sender=shop.provider)
    assert shop.held() == owed(shop, keys)
    ch.close(bobs, ch.sign_voucher(bobs, 1200, signer=a.bob), sender=shop.provider)
    ch.start_close(opened, sender=a.alice)
    assert shop.held() == owed(shop, keys)
    ch.distribute(shop.song.id, sender=a.alice)
    ch.withdraw(sender=a.bob)
    ch.withdraw(sender=shop.platform)
    assert shop.held() == owed(shop, keys) == Decimal("4.10") + Decimal("0.90") + Decimal("8.40") + Decimal("1.20")
    assert sum(cur.balance_of(w) for w in (a.alice, a.bob, *shop.payees, ch.address)) == total_before


def test_contract_digest_equals_the_sdk_digest(shop, opened):
    ch = shop.system.channels
    for amount in (0, 1, 123_456, 2**256 - 1):
        assert ch.digest(opened, amount, VOUCHER_TYPEHASH) == ch.domain.digest(opened.id, amount, VOUCHER_TYPEHASH)
        for deadline in (0, 1_700_000_000, 2**256 - 1):
            assert ch.digest(opened, amount, CLOSE_TYPEHASH, deadline) == ch.domain.digest(opened.id, amount,
                                                                                         CLOSE_TYPEHASH, deadline)
    assert ch._read("domainSeparator") == ch.domain.separator
    assert ch._read("VOUCHER_TYPEHASH") == VOUCHER_TYPEHASH and ch._read("CLOSE_TYPEHASH") == CLOSE_TYPEHASH


def test_price_change_leaves_open_channels_at_their_snapshot(shop, opened):
    ch = shop.system.channels
    shop.system.catalogue.set_price(shop.page.id, Decimal("0.25"), sender=shop.provider)
    assert ch.key_of(opened.id).unit_price == 10
    newer, _ = ch.open(shop.page.id, Decimal(5), sender=shop.actors.alice)
    assert newer.unit_price == 25


def test_manifest_round_trip_keeps_the_content_contracts(shop, opened):
    from chainpay.system import load

    system = shop.system
    loaded = load(system.manifest(), chain=system.chain)
    assert (loaded.catalogue.address, loaded.channels.address) == (system.catalogue.address, system.channels.address)
    assert loaded.channels.key_of(opened.id) == opened and loaded.channels.challenge_period == 86_400
    assert loaded.catalogue.get(shop.page.id) == shop.page


def test_challenge_period_comes_from_the_deploy_config(tmp_path):
    import chainpay
    from chainpay.config import DeployConfig

    path = tmp_path / "deploy.toml"
    path.write_text("channel_challenge_period = 7200\n")
    system = chainpay.deploy(chainpay.connect(accounts=4), DeployConfig.load(path))
    assert system.channels.challenge_period == 7200
    for bad in (0, 30 * 86_400 + 1, "1 day", True):
        path.write_text(f"channel_challenge_period = {bad!r}\n".replace("True", "true").replace("'", '"'))
        with pytest.raises(errors.ChainpayError, match="channel_challenge_period"):
            DeployConfig.load(path)
