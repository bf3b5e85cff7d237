"""An x402 client pays a chainpay paywall: the official x402 SDK's client pays `exact` (one EIP-3009
authorization per request, settled by chainpay's facilitator), chainpay's client pays with channel vouchers.

    python scripts/x402_pay.py [--requests 3]     (needs the x402 SDK: pip install 'chainpay[x402]')
"""

import argparse
import asyncio
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path

import uvicorn
from eth_account import Account as EthAccount
from x402 import x402Client
from x402.http.clients import x402HttpxClient
from x402.http.utils import decode_payment_response_header
from x402.mechanisms.evm.exact import ExactEvmScheme

import chainpay
from chainpay.content import ContentClient, ContentProvider, VoucherStore
from chainpay.content.paywall import Offer, create_app
from chainpay.content.x402_channel import X402ChannelClient
from chainpay.x402 import Facilitator

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--requests", type=int, default=3, help="paid requests per client")
parser.add_argument("--port", type=int, default=0, help="port of the paywall on 127.0.0.1 (default: a free one)")
args = parser.parse_args()

chain = chainpay.connect()
system = chainpay.deploy(chain)
registry, currency = system.registry, system.currency
officer, provider, alice, bob, relayer = chain.accounts[4:9]
registry.add_institution(1, "Platform A", max_tier=3)
registry.add_kyc_officer(officer, 1)
for who in (provider, alice, bob, relayer):       # the relayer (facilitator) pays gas and may hold escrowed money
    registry.register_identity(chainpay.identity_id(who.address), 3, who, sender=officer)
for who in (alice, bob):
    currency.mint(who, Decimal(10))
listing = system.catalogue.list(Decimal("0.10"), "call", [(provider, 10_000)], sender=provider)
page = Path(tempfile.mkdtemp()) / "article.txt"
page.write_text("one paid article")

lock = threading.RLock()                          # the in-process chain is shared with the server's threads
shop = ContentProvider(system.channels, provider, VoucherStore(page.with_name("vouchers.sqlite")))
app = create_app(shop, system.catalogue, {listing.id: Offer(listing.id, page, "text/plain")},
                 facilitator=Facilitator(currency, relayer), lock=lock, max_timeout_seconds=3600)
server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=args.port, log_level="warning"))
thread = threading.Thread(target=server.run)
thread.start()
while not server.started:
    time.sleep(0.05)
url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}/content/{listing.id}"

x402 = x402Client()                               # the official client: it signs, chainpay settles
x402.register(f"eip155:{chain.chain_id}", ExactEvmScheme(signer=EthAccount.from_key(alice.key)))
x402.set_spend_controls({"allowed_assets": [{"network": f"eip155:{chain.chain_id}", "asset": currency.address}]})


async def pay_exact():
    async with x402HttpxClient(x402, timeout=60) as http:
        return [await http.get(url) for _ in range(args.requests)]

for response in asyncio.run(pay_exact()):
    settled = decode_payment_response_header(response.headers["PAYMENT-RESPONSE"])
    print(f"exact: {response.text!r}, settled in {settled.transaction[:12]}..., {settled.amount} base units")

vouchers = X402ChannelClient(ContentClient(system.channels, bob), deposit_uses=10, lock=lock)
for _ in range(args.requests):
    vouchers.get(url)
vouchers.close()
server.should_exit = True                         # shutdown redeems the stored vouchers in one transaction
thread.join()
print(f"{args.requests} exact payments and {args.requests} vouchers paid; alice holds {currency.balance_of(alice)}, "
      f"provider {currency.balance_of(provider)}, vouchers redeemed {system.channels.earnings(listing.id)}")
