"""On a real node (anvil): the official x402 client from PyPI pays a chainpay paywall end to end with the
`exact` scheme (EIP-3009 on chainpay's currency, settled by chainpay's facilitator) and chainpay's
channel client pays the same paywall with vouchers, redeemed on shutdown."""

from __future__ import annotations

import asyncio
import threading
import time
from decimal import Decimal

import pytest
from content_support import Server
from eth_account import Account as EthAccount
from eth_utils import keccak

import chainpay
from chainpay.content import ContentClient, ContentProvider, VoucherStore
from chainpay.content.paywall import Offer, create_app
from chainpay.content.x402_channel import X402ChannelClient
from chainpay.x402 import Facilitator

pytestmark = pytest.mark.anvil


def test_official_x402_client_pays_a_chainpay_paywall_on_anvil(anvil_url, tmp_path):
    from x402 import x402Client
    from x402.http.clients import x402HttpxClient
    from x402.http.utils import decode_payment_response_header
    from x402.mechanisms.evm.exact import ExactEvmScheme

    keys = [keccak(text=f"chainpay x402 key {i}") for i in range(8)]
    node = chainpay.connect(anvil_url)
    for key in keys:
        node.send(node.accounts[0], EthAccount.from_key(key).address, b"", value=10**20)
    chain = chainpay.connect(anvil_url, private_keys=keys)
    system = chainpay.deploy(chain)
    officer, provider, alice, relayer, bob = (chain.accounts[i] for i in (4, 5, 6, 7, 3))
    system.registry.add_institution(1, "Platform A", 3)
    system.registry.add_kyc_officer(officer, 1)
    for who, tier in ((provider, 3), (alice, 2), (relayer, 3), (bob, 2)):
        system.registry.register_identity(chainpay.identity_id(who.address), tier, who, sender=officer)
    system.currency.mint(alice, Decimal(100))
    system.currency.mint(bob, Decimal(100))
    listing = system.catalogue.list(Decimal("0.10"), "call", [(provider, 10_000)], sender=provider)
    page = tmp_path / "page.txt"
    page.write_text("one paid page")
    lock = threading.RLock()
    shop = ContentProvider(system.channels, provider, VoucherStore(tmp_path / "v.sqlite"))
    facilitator = Facilitator(system.currency, relayer, lock=lock)
    # The x402 client dates its authorizations by the wall clock; this session's node may run ahead of it
    # (other suites move its time), so the offer's timeout covers the gap.
    timeout = max(300, chain.now - int(time.time()) + 300)
    app = create_app(shop, system.catalogue, {listing.id: Offer(listing.id, page, "text/plain")},
                     facilitator=facilitator, lock=lock, redeem_every=3600, max_timeout_seconds=timeout)
    server = Server(app).start()
    url = f"{server.url}/content/{listing.id}"
    try:
        client = x402Client()  # the official client: nothing of chainpay's signs or sends
        client.register(f"eip155:{chain.chain_id}", ExactEvmScheme(signer=EthAccount.from_key(alice.key)))
        client.set_spend_controls({"allowed_assets": [{"network": f"eip155:{chain.chain_id}",
                                                       "asset": system.currency.address}]})

        async def pay(times: int):
            async with x402HttpxClient(client, timeout=60) as http:
                return [await http.get(url) for _ in range(times)]

        responses = asyncio.run(pay(3))
        assert [(r.status_code, r.text) for r in responses] == [(200, "one paid page")] * 3
        for response in responses:
            settled = decode_payment_response_header(response.headers["PAYMENT-RESPONSE"])
            assert settled.success and settled.network == f"eip155:{chain.chain_id}" and settled.amount == "10"
        assert system.currency.balance_of(alice) == Decimal("99.70")
        assert system.currency.balance_of(provider) == Decimal("0.30")
        assert [tx for tx, *_ in shop.store.settlements()] == [r.tx_hash for r in facilitator.settled] == [
            decode_payment_response_header(r.headers["PAYMENT-RESPONSE"]).transaction for r in responses]

        channel_client = X402ChannelClient(ContentClient(system.channels, bob), deposit_uses=10, lock=lock)
        assert [channel_client.get(url).text for _ in range(4)] == ["one paid page"] * 4
        channel_client.close()
    finally:
        server.stop()  # redeems the vouchers on shutdown
        shop.store.close()
    assert system.channels.earnings(listing.id) == Decimal("0.40")  # bob's four vouchers, redeemed on shutdown
