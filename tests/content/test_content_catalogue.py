"""ContentCatalogue: listings, price changes, the revenue split and on-chain purchases."""

from __future__ import annotations

from decimal import Decimal

import pytest
from content_support import SPLIT_BPS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import expect_refusal

from chainpay import errors
from chainpay.content.catalogue import UnitKind, split_units


def test_listing_records_terms_and_event(shop):
    cat = shop.system.catalogue
    song = shop.song
    assert song.provider == shop.provider.address
    assert song.unit_price == Decimal(3) and song.kind is UnitKind.DOWNLOAD and song.available
    assert song.split == tuple(zip((p.address for p in shop.payees), SPLIT_BPS))
    assert cat.content_count() == 2
    listing = cat.list(Decimal("0.05"), UnitKind.MINUTE, [(shop.provider, 10_000)], sender=shop.provider)
    assert listing.id == 3 and listing.kind is UnitKind.MINUTE and listing.unit_price == Decimal("0.05")
    logs = shop.system.chain.logs(cat.address, [cat.artifact.event_topic("ContentListed"), (3).to_bytes(32, "big")])
    assert logs[0].args == {"contentId": 3, "provider": shop.provider.address, "unitPrice": 5, "kind": 1,
                            "payees": [shop.provider.address], "shares": [10_000]}


def _raw_list(shop, price_units, payees, shares, sender):
    cat = shop.system.catalogue
    return cat._write("list", price_units, 0, [p.address for p in payees], list(shares), sender=sender)


@pytest.mark.parametrize("case", ["unregistered_provider", "unregistered_payee", "no_payees", "six_payees",
                                  "shares_mismatch", "zero_share", "duplicate", "sum", "zero_price", "huge_price"])
def test_listing_refusals(shop, case):
    a = shop.actors
    p, pl, sv = shop.payees
    count = shop.system.catalogue.content_count
    sender, price, payees, shares = p, 10, [p, pl, sv], list(SPLIT_BPS)
    expected: tuple
    if case == "unregistered_provider":
        sender, expected = a.stranger, ("NotRegistered", {"account": a.stranger.address})
    elif case == "unregistered_payee":
        payees[2] = a.stranger
        expected = ("NotRegistered", {"account": a.stranger.address})
    elif case == "no_payees":
        payees, shares, expected = [], [], ("InvalidPayeeCount", {"count": 0, "max": 5})
    elif case == "six_payees":
        payees, shares = [p, pl, sv, a.alice, a.bob, a.carol], [5000, 1000, 1000, 1000, 1000, 1000]
        expected = ("InvalidPayeeCount", {"count": 6, "max": 5})
    elif case == "shares_mismatch":
        shares, expected = [7000, 3000], ("SharesMismatch", {"payees": 3, "shares": 2})
    elif case == "zero_share":
        shares, expected = [10_000, 0, 0], ("ZeroShare", {"payee": pl.address})
    elif case == "duplicate":
        payees, expected = [p, pl, p], ("DuplicatePayee", {"payee": p.address})
    elif case == "sum":
        shares, expected = [7000, 2000, 999], ("SharesDoNotSum", {"total": 9999})
    elif case == "zero_price":
        price, expected = 0, ("InvalidPrice", {"unitPrice": 0})
    else:
        price, expected = 2**80, ("InvalidPrice", {"unitPrice": 2**80})
    expect_refusal(count, lambda: _raw_list(shop, price, payees, shares, sender), expected[0], **expected[1])


def test_sdk_refuses_bad_listings_before_sending(shop):
    cat, p = shop.system.catalogue, shop.provider
    block = shop.system.chain.block_number
    for bad in ([(p, 5000)], [(p, 5000.0), (shop.platform, 5000)], [(p, True)], []):
        with pytest.raises(errors.InvalidInput):
            cat.list(Decimal(1), "download", bad, sender=p)
    with pytest.raises(errors.InvalidInput):
        cat.list(Decimal(1), "stream", [(p, 10_000)], sender=p)
    with pytest.raises(errors.InvalidAmount):
        cat.list(Decimal("0.001"), "download", [(p, 10_000)], sender=p)
    with pytest.raises(errors.InvalidAmount):
        cat.list(0, "download", [(p, 10_000)], sender=p)
    assert shop.system.chain.block_number == block


def test_buy_credits_every_payee_its_share_and_each_withdraws_its_own(shop):
    cur, cat, alice = shop.system.currency, shop.system.catalogue, shop.actors.alice
    before = shop.balances(alice, *shop.payees)
    receipt = cat.buy(shop.song.id, 2, sender=alice)
    assert shop.balances(alice)[0] - before[0] == Decimal(-6)
    assert shop.owed(*shop.payees) == (Decimal("4.20"), Decimal("1.20"), Decimal("0.60"))
    assert cat.total_owed() == Decimal(6) == cur.balance_of(cat.address)
    assert receipt.event("Purchased").args == {"contentId": shop.song.id, "buyer": alice.address, "units": 2,
                                               "unitPrice": 300, "total": 600}
    assert cur.allowance(alice, cat.address) == 0  # the permit covered exactly the price
    w = cat.withdraw(sender=shop.provider)
    assert w.event("Withdrawn").args == {"account": shop.provider.address, "amount": 420}
    cat.withdraw_for(shop.platform, sender=alice)  # anyone may pay a payee out, only to the payee
    after = shop.balances(*shop.payees)
    assert [b - a for a, b in zip(before[1:], after)] == [Decimal("4.20"), Decimal("1.20"), Decimal(0)]
    assert shop.owed(*shop.payees) == (0, 0, Decimal("0.60")) and cat.total_owed() == Decimal("0.60")
    expect_refusal(lambda: shop.owed(*shop.payees), lambda: cat.withdraw(sender=shop.provider), "NothingToWithdraw",
                   account=shop.provider.address)


def test_buy_with_approve_path(shop):
    alice = shop.actors.alice
    before = shop.balances(alice)[0]
    shop.system.catalogue.buy(shop.page.id, 3, sender=alice, use_permit=False)
    assert (before - shop.balances(alice)[0], shop.owed(shop.provider)[0]) == (Decimal("0.30"), Decimal("0.21"))


def test_rounding_remainder_goes_to_the_first_payee(shop):
    cat = shop.system.catalogue
    odd = cat.list(Decimal("0.07"), "call", list(zip(shop.payees, SPLIT_BPS)), sender=shop.provider)
    cat.buy(odd.id, 1, sender=shop.actors.alice)
    # 7 fen: 20 % is 1.4 -> 1, 10 % is 0.7 -> 0, the provider gets the rest (6): nothing lost or created.
    assert shop.owed(*shop.payees) == (Decimal("0.06"), Decimal("0.01"), Decimal(0))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amount=st.integers(min_value=0, max_value=2**96),
       shares=st.lists(st.integers(min_value=1, max_value=4000), min_size=1, max_size=4))
def test_split_adds_up_exactly_and_matches_the_sdk(shop, amount, shares):
    shares = [10_000 - sum(shares)] + shares if sum(shares) < 10_000 else [10_000]
    payees = [shop.provider, shop.platform, shop.service, shop.actors.alice, shop.actors.bob][:len(shares)]
    listing_id = shop.system.catalogue.content_count() + 1
    _raw_list(shop, 1, payees, shares, shop.provider)
    _, parts = shop.system.catalogue._read("splitAmount", listing_id, amount)
    assert parts == split_units(amount, shares)
    assert sum(parts) == amount
    assert all(p >= 0 for p in parts)


def test_price_change_applies_to_new_purchases(shop):
    cat, alice = shop.system.catalogue, shop.actors.alice
    receipt = cat.set_price(shop.song.id, Decimal("2.50"), sender=shop.provider)
    assert receipt.event("PriceChanged").args == {"contentId": shop.song.id, "previousPrice": 300, "newPrice": 250}
    before = shop.balances(alice)[0]
    cat.buy(shop.song.id, 1, sender=alice)
    assert before - shop.balances(alice)[0] == Decimal("2.50")
    expect_refusal(lambda: cat.get(shop.song.id), lambda: cat.set_price(shop.song.id, 1, sender=alice),
                   "NotProvider", contentId=shop.song.id, caller=alice.address)


def test_unavailable_unknown_and_zero_unit_purchases_are_refused(shop):
    cat, alice = shop.system.catalogue, shop.actors.alice
    bal = lambda: (shop.balances(alice), shop.owed(*shop.payees))  # noqa: E731
    anything = 2**256 - 1
    cat.set_available(shop.song.id, False, sender=shop.provider)
    expect_refusal(bal, lambda: cat.buy(shop.song.id, 1, sender=alice), "ContentUnavailable", contentId=shop.song.id)
    expect_refusal(bal, lambda: cat._write("buy", 99, 1, anything, sender=alice), "UnknownContent", contentId=99)
    expect_refusal(bal, lambda: cat._write("buy", shop.page.id, 0, anything, sender=alice), "ZeroUnits")
    expect_refusal(bal, lambda: cat._write("buy", shop.page.id, 2**96, anything, sender=alice), "TooManyUnits",
                   units=2**96, max=2**96 - 1)
    expect_refusal(bal, lambda: cat._write("buyWithPermit", shop.page.id, 2**255, anything, 0, 27, bytes(32), bytes(32),
                                           sender=alice), "TooManyUnits", units=2**255, max=2**96 - 1)
    expect_refusal(bal, lambda: cat.set_available(shop.page.id, False, sender=alice), "NotProvider",
                   contentId=shop.page.id, caller=alice.address)
    cat.set_available(shop.song.id, True, sender=shop.provider)
    cat.buy(shop.song.id, 1, sender=alice)
    assert shop.balances(alice)[0] == Decimal(997)


def test_a_frozen_payee_holds_only_its_own_share(shop):
    """Review finding 6: a frozen payee used to block every purchase of the listing. Now the purchase
    goes through, the others withdraw, and the frozen payee's share waits until compliance unfreezes it."""
    system, cat, alice = shop.system, shop.system.catalogue, shop.actors.alice
    system.registry.freeze_address(shop.service)
    cat.buy(shop.song.id, 1, sender=alice)
    assert shop.owed(*shop.payees) == (Decimal("2.10"), Decimal("0.60"), Decimal("0.30"))
    before = shop.balances(*shop.payees)
    cat.withdraw(sender=shop.provider)
    cat.withdraw(sender=shop.platform)
    expect_refusal(lambda: (shop.owed(*shop.payees), shop.balances(*shop.payees)),
                   lambda: cat.withdraw_for(shop.service, sender=alice), "AddressFrozen", account=shop.service.address)
    system.registry.unfreeze_address(shop.service)
    cat.withdraw(sender=shop.service)
    after = shop.balances(*shop.payees)
    assert [b - a for a, b in zip(before, after)] == [Decimal("2.10"), Decimal("0.60"), Decimal("0.30")]
    assert cat.total_owed() == 0 == system.currency.balance_of(cat.address)


def test_a_frozen_provider_cannot_change_its_listings(shop):
    system = shop.system
    system.registry.freeze_address(shop.provider)
    cat = system.catalogue
    expect_refusal(lambda: cat.get(shop.song.id), lambda: cat.set_price(shop.song.id, 1, sender=shop.provider),
                   "AddressFrozen", account=shop.provider.address)
    expect_refusal(lambda: cat.get(shop.song.id), lambda: cat.set_available(shop.song.id, False, sender=shop.provider),
                   "AddressFrozen", account=shop.provider.address)
