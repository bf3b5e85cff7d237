"""The paywall speaks x402 v2 through a real uvicorn server on 127.0.0.1 (in-process chain): the 402
offers `exact` and `chainpay-channel`; the official x402 client pays `exact` (one EIP-3009 transfer per
request, settled before the content is served); chainpay's channel client pays with vouchers; every
refused payment gets 402 with the x402 reason, no content and no transaction."""

from __future__ import annotations

import asyncio
import threading
from decimal import Decimal

import httpx
import pytest
from content_support import Server

from chainpay.content.parties import ContentClient, ContentProvider
from chainpay.content.paywall import Offer, create_app
from chainpay.content.store import VoucherStore
from chainpay.content.x402_channel import X402ChannelClient, X402Refusal, voucher_payload
from chainpay.currency.registry import identity_id
from chainpay.x402 import Facilitator
from chainpay.x402 import protocol as p

PAGE_BODY = b"<html>one page of the paywalled article</html>"
TIMEOUT = 3 * 86400  # the test chain runs ahead of the wall clock (tests start at 01:00 UTC tomorrow)


@pytest.fixture
def x402_paywall(shop, tmp_path):
    lock = threading.RLock()
    relayer = shop.actors.spare[3]
    shop.system.registry.register_identity(identity_id("x402 relayer"), 3, relayer, sender=shop.actors.officer_a)
    facilitator = Facilitator(shop.system.currency, relayer, lock=lock, escrow=shop.system.transfers)
    page = tmp_path / "page.html"
    page.write_bytes(PAGE_BODY)
    provider = ContentProvider(shop.system.channels, shop.provider, VoucherStore(tmp_path / "v.sqlite"))
    offers = {shop.page.id: Offer(shop.page.id, page, "text/html"),
              shop.song.id: Offer(shop.song.id, page, "text/html", refundable=True)}
    app = create_app(provider, shop.system.catalogue, offers, facilitator=facilitator, lock=lock, redeem_every=3600,
                     max_timeout_seconds=TIMEOUT)
    server = Server(app).start()
    server.lock, server.provider, server.facilitator = lock, provider, facilitator
    yield server
    if server.thread.is_alive():
        server.stop()
    provider.store.close()


def official_client(chain, currency, payer):
    from eth_account import Account as EthAccount
    from x402 import x402Client
    from x402.mechanisms.evm.exact import ExactEvmScheme

    client = x402Client()
    client.register(f"eip155:{chain.chain_id}", ExactEvmScheme(signer=EthAccount.from_key(payer.key)))
    client.set_spend_controls({"allowed_assets": [{"network": f"eip155:{chain.chain_id}", "asset": currency.address}]})
    return client


async def official_get(client, url: str, times: int) -> list[httpx.Response]:
    from x402.http.clients import x402HttpxClient

    async with x402HttpxClient(client, timeout=30) as http:
        return [await http.get(url) for _ in range(times)]


def test_402_offers_exact_and_channel_in_x402_v2(shop, x402_paywall, chain):
    from x402.http.utils import decode_payment_required_header

    unpaid = httpx.get(f"{x402_paywall.url}/content/{shop.page.id}")
    assert unpaid.status_code == 402 and PAGE_BODY not in unpaid.content
    required = decode_payment_required_header(unpaid.headers["PAYMENT-REQUIRED"])
    exact, channel = required.accepts
    currency = shop.system.currency
    assert (required.x402_version, required.resource.url) == (2, f"{x402_paywall.url}/content/{shop.page.id}")
    assert (exact.scheme, exact.network, exact.asset, exact.amount, exact.pay_to) == (
        "exact", f"eip155:{chain.chain_id}", currency.address, "10", shop.provider.address)
    assert exact.extra == {"name": currency.name, "version": "1"} and exact.max_timeout_seconds == TIMEOUT
    assert (channel.scheme, channel.amount, channel.pay_to) == ("chainpay-channel", "10", shop.provider.address)
    assert channel.extra["channels"] == shop.system.channels.address and channel.extra["contentId"] == shop.page.id
    assert unpaid.json()["channels_contract"] == shop.system.channels.address  # the older terms stay in the body
    song = decode_payment_required_header(httpx.get(f"{x402_paywall.url}/content/{shop.song.id}").headers[
        "PAYMENT-REQUIRED"]).accepts[0]
    assert (song.pay_to, song.extra["recipient"], song.extra["refundable"]) == (
        x402_paywall.facilitator.account.address, shop.provider.address, True)
    supported = httpx.get(f"{x402_paywall.url}/facilitator/supported").json()  # the facilitator, mounted
    assert supported["kinds"] == [{"x402Version": 2, "scheme": "exact", "network": f"eip155:{chain.chain_id}",
                                   "extra": {"name": currency.name, "version": "1"}}]


def test_the_official_x402_client_pays_exact_per_request(shop, x402_paywall, chain):
    from x402.http.utils import decode_payment_response_header

    alice, currency = shop.actors.alice, shop.system.currency
    with x402_paywall.lock:
        before = currency.balance_of(alice), currency.balance_of(shop.provider)
    client = official_client(chain, currency, alice)
    responses = asyncio.run(official_get(client, f"{x402_paywall.url}/content/{shop.page.id}", 3))
    assert [r.status_code for r in responses] == [200] * 3 and all(r.content == PAGE_BODY for r in responses)
    settled = [decode_payment_response_header(r.headers["PAYMENT-RESPONSE"]) for r in responses]
    assert all(s.success and s.payer == alice.address and s.amount == "10" for s in settled)
    receipts = x402_paywall.facilitator.settled
    assert [s.transaction for s in settled] == [r.tx_hash for r in receipts]
    assert all(r.event("Transfer").args == {"from": alice.address, "to": shop.provider.address, "value": 10}
               for r in receipts)
    booked = x402_paywall.provider.store.settlements()
    assert [(tx, payer, cid, amount) for tx, payer, cid, amount in booked] == [
        (s.transaction, alice.address, shop.page.id, 10) for s in settled]
    with x402_paywall.lock:
        assert (currency.balance_of(alice), currency.balance_of(shop.provider)) == (before[0] - Decimal("0.30"),
                                                                                    before[1] + Decimal("0.30"))


def test_the_official_client_pays_a_refundable_offer_into_escrow(shop, x402_paywall, chain):
    from x402.http.utils import decode_payment_response_header

    alice, escrow = shop.actors.alice, shop.system.transfers
    (response,) = asyncio.run(official_get(official_client(chain, shop.system.currency, alice),
                                           f"{x402_paywall.url}/content/{shop.song.id}", 1))
    assert response.status_code == 200 and response.content == PAGE_BODY
    settled = decode_payment_response_header(response.headers["PAYMENT-RESPONSE"])
    with x402_paywall.lock:
        transfer = escrow.get(settled.extra["escrowTransferId"])
        assert (transfer.recipient, transfer.amount, transfer.state.name) == (shop.provider.address, Decimal(3),
                                                                              "PENDING")
        assert transfer.memo == f"x402 refundable for {alice.address}"
        before = shop.system.currency.balance_of(alice)
        x402_paywall.facilitator.refund(transfer.id)
        assert escrow.get(transfer.id).state.name == "REVOKED"
        assert shop.system.currency.balance_of(alice) == before + Decimal(3)


def test_chainpay_channel_client_pays_with_vouchers_over_x402(shop, x402_paywall):
    alice = shop.actors.alice
    client = X402ChannelClient(ContentClient(shop.system.channels, alice), deposit_uses=10, lock=x402_paywall.lock)
    url = f"{x402_paywall.url}/content/{shop.page.id}"
    try:
        responses = [client.get(url) for _ in range(5)]
    finally:
        client.close()
    assert all(r.status_code == 200 and r.content == PAGE_BODY for r in responses)
    states = [p.decode(r.headers["PAYMENT-RESPONSE"]) for r in responses]
    assert [s["extra"]["cumulativeAmount"] for s in states] == ["10", "20", "30", "40", "50"]
    assert all(s["success"] and s["transaction"] == "" and s["amount"] == "10" and s["payer"] == alice.address
               for s in states)
    assert states[-1]["extra"]["remaining"] == "50"
    (stored,) = x402_paywall.provider.store.open_channels()
    assert (stored.amount, stored.redeemed) == (50, 0)  # stored before serving, redeemed later in a batch


def _refused(response: httpx.Response, reason: str) -> None:
    assert response.status_code == 402 and PAGE_BODY not in response.content
    assert p.decode(response.headers["PAYMENT-REQUIRED"])["error"] == reason, response.json()


def test_refused_x402_payments_get_the_reason_no_content_and_no_transaction(shop, x402_paywall, chain):
    from eth_account import Account as EthAccount
    from x402 import x402ClientSync
    from x402.http.utils import decode_payment_required_header, encode_payment_signature_header
    from x402.mechanisms.evm.exact import ExactEvmScheme

    alice, url = shop.actors.alice, f"{x402_paywall.url}/content/{shop.page.id}"
    required = decode_payment_required_header(httpx.get(url).headers["PAYMENT-REQUIRED"])
    client = x402ClientSync()
    client.register(f"eip155:{chain.chain_id}", ExactEvmScheme(signer=EthAccount.from_key(alice.key)))
    client.set_spend_controls(False)
    payload = client.create_payment_payload(required)
    header = encode_payment_signature_header(payload)
    assert httpx.get(url, headers={"PAYMENT-SIGNATURE": header}).status_code == 200
    with x402_paywall.lock:
        block = chain.block_number
    _refused(httpx.get(url, headers={"PAYMENT-SIGNATURE": header}), p.NONCE_ALREADY_USED)  # replayed
    wrong_network = payload.model_copy(update={"accepted": payload.accepted.model_copy(update={"network": "eip155:1"})})
    _refused(httpx.get(url, headers={"PAYMENT-SIGNATURE": encode_payment_signature_header(wrong_network)}),
             p.NETWORK_MISMATCH)
    wrong_asset = payload.model_copy(update={"accepted": payload.accepted.model_copy(
        update={"asset": shop.system.channels.address})})
    _refused(httpx.get(url, headers={"PAYMENT-SIGNATURE": encode_payment_signature_header(wrong_asset)}),
             p.ASSET_MISMATCH)
    _refused(httpx.get(url, headers={"PAYMENT-SIGNATURE": "bm90IGpzb24="}), p.INVALID_PAYLOAD)
    other = x402ClientSync()
    other.register(f"eip155:{chain.chain_id}", ExactEvmScheme(signer=EthAccount.from_key(shop.actors.carol.key)))
    other.set_spend_controls(False)
    forged = other.create_payment_payload(required)
    forged.payload["authorization"]["from"] = alice.address  # carol signs, names alice
    _refused(httpx.get(url, headers={"PAYMENT-SIGNATURE": encode_payment_signature_header(forged)}),
             p.INVALID_SIGNATURE)
    with x402_paywall.lock:
        shop.system.registry.freeze_address(alice)
        block = chain.block_number
    fresh = encode_payment_signature_header(client.create_payment_payload(required))
    _refused(httpx.get(url, headers={"PAYMENT-SIGNATURE": fresh}), p.PAYER_FROZEN)
    with x402_paywall.lock:
        assert chain.block_number == block  # nothing was sent for any refusal
    assert len(x402_paywall.facilitator.settled) == 1 and len(x402_paywall.provider.store.settlements()) == 1


def test_refused_vouchers_over_x402(shop, x402_paywall):
    alice, carol = shop.actors.alice, shop.actors.carol
    consumer = ContentClient(shop.system.channels, alice)
    with x402_paywall.lock:
        key = consumer.open(shop.page.id, Decimal("0.50"))
    url = f"{x402_paywall.url}/content/{shop.page.id}"
    accepted = p.decode(httpx.get(url).headers["PAYMENT-REQUIRED"])["accepts"][1]

    def pay(voucher, **changes):
        payment = {"x402Version": 2, "accepted": {**accepted, **changes}, "payload": voucher_payload(voucher)}
        return httpx.get(url, headers={"PAYMENT-SIGNATURE": p.encode(payment)})

    first = consumer.pay(key)
    assert pay(first).status_code == 200
    _refused(pay(first), "stale")  # replayed
    forged = shop.system.channels.sign_voucher(key, 20, signer=carol)
    _refused(pay(forged), "wrong_signer")
    _refused(pay(shop.system.channels.sign_voucher(key, 60, signer=alice)), "over_deposit")
    _refused(pay(shop.system.channels.sign_voucher(key, 15, signer=alice)), "underpaid")
    _refused(pay(consumer.pay(key), network="eip155:1"), p.NETWORK_MISMATCH)
    (stored,) = x402_paywall.provider.store.open_channels()
    assert stored.amount == 10


def test_channel_client_refuses_a_server_without_its_scheme(shop, x402_paywall):
    client = X402ChannelClient(ContentClient(shop.system.channels, shop.actors.alice), max_unit_price=5,
                               lock=x402_paywall.lock)
    with pytest.raises(X402Refusal) as refused:
        client.get(f"{x402_paywall.url}/content/{shop.page.id}")
    assert refused.value.reason == "too_expensive"
    client.close()
