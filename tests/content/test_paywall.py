"""The HTTP paywall through a real uvicorn server on 127.0.0.1: 402 terms, paid requests, every kind
of bad voucher refused with a reason and no content, redemption periodically, on shutdown and after
a restart on the same sqlite file."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from decimal import Decimal

import httpx
import pytest
from content_support import Server

from chainpay.content.parties import ContentClient, ContentProvider
from chainpay.content.paywall import (
    VOUCHER_HEADER,
    Offer,
    PaymentRefused,
    PaywallClient,
    create_app,
)
from chainpay.content.store import VoucherStore
from chainpay.content.vouchers import Domain, Signer

PAGE_BODY = b"<html>one page of the paywalled article</html>"


@pytest.fixture
def paywall(shop, tmp_path):
    """Start paywall servers on one sqlite file; every server started is stopped at the end."""
    lock = threading.RLock()
    page = tmp_path / "page.html"
    page.write_bytes(PAGE_BODY)
    db = tmp_path / "vouchers.sqlite"
    started = []

    def start(**options):
        provider = ContentProvider(shop.system.channels, shop.provider, VoucherStore(db))
        app = create_app(provider, shop.system.catalogue, {shop.page.id: Offer(shop.page.id, page, "text/html")},
                         lock=lock, **{"redeem_every": 3600, **options})
        server = Server(app).start()
        started.append((server, provider))
        return server, provider

    start.lock = lock
    yield start
    for server, provider in started:
        if server.thread.is_alive():
            server.stop()
        provider.store.close()


def test_full_flow_pays_per_request_and_redeems_on_shutdown(shop, paywall):
    system, alice = shop.system, shop.actors.alice
    server, provider = paywall()
    url = f"{server.url}/content/{shop.page.id}"
    unpaid = httpx.get(url)
    assert unpaid.status_code == 402 and PAGE_BODY not in unpaid.content
    terms = unpaid.json()
    # The body is the x402 PaymentRequired (also in the PAYMENT-REQUIRED header) plus chainpay's channel terms.
    x402_fields = {k: terms.pop(k) for k in ("x402Version", "resource", "accepts")}
    assert x402_fields["x402Version"] == 2 and [a["scheme"] for a in x402_fields["accepts"]] == ["chainpay-channel"]
    assert terms == {"error": "payment_required", "reason": "pay with x402 (PAYMENT-SIGNATURE) or a channel voucher",
                     "content_id": shop.page.id,
                     "unit_price": "0.10", "unit_price_units": 10, "unit": "call", "available": True,
                     "currency": "eCNY", "decimals": 2, "provider": shop.provider.address,
                     "channels_contract": system.channels.address, "chain_id": system.chain.chain_id,
                     "challenge_period": 86_400, "voucher_header": VOUCHER_HEADER,
                     "voucher_format": terms["voucher_format"]}

    consumer = ContentClient(system.channels, alice)
    client = PaywallClient(consumer, deposit_uses=20, lock=paywall.lock)
    responses = [client.get(url) for _ in range(5)]
    assert all(r.status_code == 200 and r.content == PAGE_BODY for r in responses)
    assert [int(r.headers["X-Chainpay-Paid"]) for r in responses] == [10, 20, 30, 40, 50]
    assert responses[-1].headers["X-Chainpay-Remaining"] == "150"
    (key,) = consumer._keys.values()
    with paywall.lock:
        assert system.channels.get(key.id).redeemed == 0  # nothing on chain yet: vouchers only
        assert shop.balances(alice) == (Decimal(998),)  # the 2-yuan deposit
    assert [c.amount for c in provider.store.open_channels()] == [50]

    server.stop()  # shutdown redeems
    assert system.channels.get(key.id).redeemed == 50
    assert system.channels.earnings(shop.page.id) == Decimal("0.50")
    client.close()


def test_bad_vouchers_get_a_reason_and_no_content(shop, paywall):
    system, a = shop.system, shop.actors
    ch = system.channels
    server, provider = paywall()
    url = f"{server.url}/content/{shop.page.id}"
    with paywall.lock:
        key, _ = ch.open(shop.page.id, Decimal(1), sender=a.alice)
        bobs, _ = ch.open(shop.page.id, Decimal(1), sender=a.bob)

    def send(voucher_or_text):
        text = voucher_or_text if isinstance(voucher_or_text, str) else voucher_or_text.to_header()
        response = httpx.get(url, headers={VOUCHER_HEADER: text})
        assert PAGE_BODY not in response.content
        return response.status_code, response.json()["error"]

    assert httpx.get(url, headers={VOUCHER_HEADER: ch.sign_voucher(key, 20, signer=a.alice).to_header()}).content \
        == PAGE_BODY
    assert send(ch.sign_voucher(key, 10, signer=a.alice)) == (409, "stale")  # lower amount
    assert send(ch.sign_voucher(key, 20, signer=a.alice)) == (409, "stale")  # the same voucher replayed
    assert send(ch.sign_voucher(key, 110, signer=a.alice)) == (402, "over_deposit")
    assert send(ch.sign_voucher(key, 25, signer=a.alice)) == (402, "underpaid")
    assert send(ch.sign_voucher(key, 30, signer=a.bob)) == (403, "wrong_signer")
    assert send(replace(ch.sign_voucher(bobs, 30, signer=a.bob), channel_id=key.id)) == (403, "wrong_signer")
    other_chain = Signer(a.alice.key, Domain(system.chain.chain_id + 1, ch.address)).sign(key.id, 30)
    assert send(other_chain) == (403, "wrong_signer")
    assert send("0x1234:5:0xab") == (400, "malformed")
    assert send(replace(ch.sign_voucher(key, 30, signer=a.alice), channel_id=b"\x09" * 32)) == (403, "unknown_channel")
    with paywall.lock:
        provider.close(key.id)
    assert send(ch.sign_voucher(key, 30, signer=a.alice)) == (403, "closed")  # replay after close
    assert httpx.get(f"{server.url}/content/999").status_code == 404
    assert [c.amount for c in provider.store.open_channels()] == []  # only the closed channel was ever stored
    assert ch.get(key.id).redeemed == 20


def test_restart_keeps_vouchers_and_redeems_them(shop, paywall):
    system = shop.system
    server, _ = paywall(redeem_on_shutdown=False)  # stops like a crash: nothing redeemed on the way out
    consumer = ContentClient(system.channels, shop.actors.alice)
    client = PaywallClient(consumer, deposit_uses=10, lock=paywall.lock)
    for _ in range(3):
        client.get(f"{server.url}/content/{shop.page.id}")
    (key,) = consumer._keys.values()
    server.stop()
    assert system.channels.get(key.id).redeemed == 0

    server, provider = paywall()  # same sqlite file; redeems what the last run left at startup
    with paywall.lock:
        assert system.channels.get(key.id).redeemed == 30
    client._terms.clear()
    response = client.get(f"{server.url}/content/{shop.page.id}")  # and keeps serving the same channel
    assert response.headers["X-Chainpay-Paid"] == "40"
    server.stop()
    assert system.channels.get(key.id).redeemed == 40
    client.close()


def test_periodic_redemption(shop, paywall):
    system = shop.system
    server, _ = paywall(redeem_every=0.2)
    consumer = ContentClient(system.channels, shop.actors.bob)
    client = PaywallClient(consumer, deposit_uses=10, lock=paywall.lock)
    client.get(f"{server.url}/content/{shop.page.id}")
    client.get(f"{server.url}/content/{shop.page.id}")
    (key,) = consumer._keys.values()
    deadline = time.monotonic() + 15
    while True:
        with paywall.lock:
            redeemed = system.channels.get(key.id).redeemed
        if redeemed == 20 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert redeemed == 20
    client.close()


def test_client_opens_a_new_channel_when_the_deposit_runs_out(shop, paywall):
    server, _ = paywall()
    consumer = ContentClient(shop.system.channels, shop.actors.alice)
    client = PaywallClient(consumer, deposit_uses=2, lock=paywall.lock)
    paid = [client.get(f"{server.url}/content/{shop.page.id}").headers["X-Chainpay-Paid"] for _ in range(3)]
    assert paid == ["10", "20", "10"] and len(consumer._keys) == 2
    client.close()


def test_client_refuses_terms_it_cannot_or_will_not_pay(shop):
    system = shop.system
    terms = {"content_id": 2, "unit_price": "0.10", "unit_price_units": 10, "provider": shop.provider.address,
             "channels_contract": system.channels.address, "chain_id": system.chain.chain_id}

    def client_for(body, **options):
        transport = httpx.MockTransport(lambda request: httpx.Response(402, json=body))
        return PaywallClient(ContentClient(system.channels, shop.actors.alice), http=httpx.Client(transport=transport),
                             **options)

    block = system.chain.block_number
    for body, options, code in (({**terms, "chain_id": 1}, {}, "other_chain"),
                                ({**terms, "channels_contract": system.catalogue.address}, {}, "other_chain"),
                                (terms, {"max_unit_price": Decimal("0.05")}, "too_expensive"),
                                ({"error": "payment_required"}, {}, "bad_terms")):
        with pytest.raises(PaymentRefused) as info:
            client_for(body, **options).get("http://paywall.test/content/2")
        assert info.value.code == code
    assert system.chain.block_number == block  # no channel was opened
