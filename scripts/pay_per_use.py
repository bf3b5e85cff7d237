"""Pay per use through a micropayment channel: list content, open a channel, pay each use with an
off-chain voucher, redeem in one transaction, close, and split the revenue.

    python scripts/pay_per_use.py [--rpc URL] [--uses 100]
"""

import argparse
import secrets
import tempfile
from decimal import Decimal
from pathlib import Path

import chainpay
from chainpay.content import ContentClient, ContentProvider, VoucherStore

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--rpc", help="JSON-RPC URL of a node (default: in-process chain)")
parser.add_argument("--uses", type=int, default=100, help="uses to pay for, one voucher each")
args = parser.parse_args()

chain = chainpay.connect(args.rpc) if args.rpc else chainpay.connect()
system = chainpay.deploy(chain)
registry, currency = system.registry, system.currency
officer, provider, platform, consumer = chain.accounts[4:8]
if consumer.key is None:  # a node's own account cannot sign vouchers: the consumer gets a key of its own
    consumer = chain.add_account(secrets.token_bytes(32))
    chain.send(chain.accounts[0], consumer.address, b"", value=10**17)  # and ether for its gas
registry.add_institution(1, "Platform A", max_tier=3)
registry.add_kyc_officer(officer, 1)
for who, name in ((provider, "provider"), (platform, "platform"), (consumer, "consumer")):
    registry.register_identity(chainpay.identity_id({"name": name, "id": name}), 3, who, sender=officer)
currency.mint(consumer, Decimal("50"))

# 0.10 yuan per call, revenue split 90 % provider / 10 % platform (basis points).
listing = system.catalogue.list(Decimal("0.10"), "call", [(provider, 9000), (platform, 1000)], sender=provider)
client = ContentClient(system.channels, consumer)
store = VoucherStore(Path(tempfile.mkdtemp()) / "vouchers.sqlite")   # the provider's durable voucher store
shop = ContentProvider(system.channels, provider, store)

key = client.open(listing.id, Decimal(args.uses) * Decimal("0.10"))   # one transaction, permit inside
for _ in range(args.uses):
    shop.accept(client.pay(key), content_id=listing.id)                 # off chain: sign, verify, store
redeemed = shop.redeem()                                                # one transaction for all news
shop.close(key.id)
system.channels.distribute(listing.id, sender=platform)             # credits each payee's share
for payee in (provider, platform):
    system.channels.withdraw(sender=payee)                             # each payee collects its own
print(f"{args.uses} uses paid off chain; redeemed in {len(redeemed)} transaction(s), "
      f"{sum(r.gas_used for r in redeemed):,} gas")
print(f"provider {currency.balance_of(provider)}, platform {currency.balance_of(platform)}, "
      f"consumer {currency.balance_of(consumer)} {currency.symbol}")
