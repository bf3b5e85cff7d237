"""Two platforms issue balances against reserve; a customer moves hers from one to the other in one
transaction; a partial-reserve platform's insider takes out what its ratio allows.

    python scripts/platform_balances.py
"""

from decimal import Decimal

import chainpay
from chainpay import errors
from chainpay.config import PlatformSpec

chain = chainpay.connect()
# Platform 101 keeps 100 % reserve; platform 102 only 20 % (the pre-2017 rule).
config = chainpay.DeployConfig(platforms=[PlatformSpec(101, "Pay A"), PlatformSpec(102, "Pay B", ratio=Decimal("0.2"))])
system = chainpay.deploy(chain, config)  # officers #4, #6 and treasuries #5, #7 of the two platforms
registry, currency, platforms = system.registry, system.currency, system.platforms
officer_a, treasury_a, officer_b, treasury_b, ann, ann_at_b = chain.accounts[4:10]
ann_id = chainpay.identity_id({"name": "Ann", "id": "Ann"})
registry.register_identity(ann_id, 2, ann, sender=officer_a)
registry.link_address(ann_id, ann_at_b, sender=officer_b, consenting=ann)  # her consent, signed with her key
currency.mint(ann, Decimal("1000"))

platforms.top_up(101, Decimal("600"), sender=ann)
print(f"Ann topped up 600.00 at Pay A: reserve {platforms.reserve_of(101)}, issued {platforms.supply_of(101)}")

moved = platforms.interconvert(101, 102, Decimal("500"), sender=ann, to=ann_at_b)
print(f"moved 500.00 from Pay A to Pay B in block {moved.receipt.block_number} ({moved.receipt.gas_used:,} gas)")

try:  # the same-name rule: a balance moves only between one person's own wallets
    platforms.interconvert(101, 102, Decimal("1"), sender=ann, to=treasury_b)
except errors.ContractRevert as refusal:
    print(f"refused: {type(refusal).__name__}")

info = platforms.info(102)
print(f"Pay B keeps {info.ratio:.0%} of {info.supply}: its treasury may take out {info.excess}")
platforms.withdraw_excess(102, info.excess, sender=treasury_b)
print(f"after the withdrawal Pay B holds {platforms.reserve_of(102)} for {platforms.supply_of(102)} issued")
platforms.redeem(102, Decimal("100"), sender=ann_at_b)
print(f"Ann redeemed 100.00 at Pay B; its reserve is now {platforms.reserve_of(102)}, "
      f"and {platforms.balance_of(ann_at_b, 102)} of her balance is backed by nothing")
