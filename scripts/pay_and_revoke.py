"""Pay, be refused over the daily limit, and take back a mis-sent revocable transfer.

    python scripts/pay_and_revoke.py [--rpc URL]
"""

import argparse
from datetime import datetime, timezone
from decimal import Decimal

import chainpay
from chainpay import errors

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--rpc", help="JSON-RPC URL of a node (default: in-process chain)")
args = parser.parse_args()

chain = chainpay.connect(args.rpc) if args.rpc else chainpay.connect()
system = chainpay.deploy(chain)
registry, currency, transfers = system.registry, system.currency, system.transfers
officer, alice, bob, stranger = chain.accounts[4:8]
registry.add_institution(1, "Platform A", max_tier=3)
registry.add_kyc_officer(officer, 1)
for who, name in ((alice, "Alice"), (bob, "Bob"), (stranger, "Stranger")):
    registry.register_identity(chainpay.identity_id({"name": name, "id": name}), 2, who, sender=officer)
currency.mint(alice, Decimal("6000"))

# A direct payment: final in one block.
receipt = currency.transfer(bob, Decimal("120.50"), sender=alice)
print(f"Alice paid Bob 120.50 ({receipt.gas_used:,} gas)")

# Tier 2 may send 5,000 a day: the next payment is refused before anything moves.
try:
    currency.transfer(bob, Decimal("4900"), sender=alice)
except errors.DailyLimitExceeded as refusal:
    print(f"refused: DailyLimitExceeded (limit {refusal.limit}, sent today {refusal.spent_today}, base units)")

# A revocable transfer to the wrong person waits out its cooling-off; the sender takes it back.
record = transfers.send(stranger, Decimal("200"), sender=alice, memo="rent (wrong person)")
release = datetime.fromtimestamp(record.release_at, timezone.utc)
print(f"transfer {record.id} {record.state.name}, releases at {release:%Y-%m-%d %H:%M} UTC unless revoked")
record = transfers.revoke(record.id, sender=alice)
print(f"transfer {record.id} {record.state.name}; Alice holds {currency.balance_of(alice)} again")
