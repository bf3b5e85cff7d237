"""Onboard a payment platform and its customers: white-list the platform, appoint its KYC officer,
register customers by the hash of their real-name record, and issue them digital currency.

    python scripts/onboard_platform.py [--rpc URL]
"""

import argparse
from decimal import Decimal

import chainpay

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--rpc", help="JSON-RPC URL of a node (default: in-process chain)")
args = parser.parse_args()

chain = chainpay.connect(args.rpc) if args.rpc else chainpay.connect()
system = chainpay.deploy(chain)
registry, currency = system.registry, system.currency
officer, alice, bob = chain.accounts[4], chain.accounts[5], chain.accounts[6]

# The regulator (admin) white-lists the platform; it may grant tiers up to 3.
registry.add_institution(1, "Platform A", max_tier=3)
registry.add_kyc_officer(officer, 1)

# Only a hash of each verified record reaches the chain.
for who, record in ((alice, {"name": "Alice", "id": "110101199001011234"}),
                    (bob, {"name": "Bob", "id": "110101198502025678"})):
    receipt = registry.register_identity(chainpay.identity_id(record), 2, who, sender=officer)
    print(f"registered {record['name']} at tier 2 ({receipt.gas_used:,} gas)")

# The central bank (issuer) issues currency straight into the customers' wallets.
for who, amount in ((alice, Decimal("1000")), (bob, Decimal("250.50"))):
    currency.mint(who, amount)
print(f"Alice holds {currency.balance_of(alice)} {currency.symbol}, Bob {currency.balance_of(bob)}")
print(f"tier 2 may send {currency.daily_limit(2):,} a day")
