"""One transfer across the hashed-timelock bridge between two platforms on two chains.

The sender locks on chain A under a hashlock, a white-listed connector locks on chain B, the
recipient (the same verified person, another address) claims on B with the secret, and the
connector claims on A with it. Two in-process chains on one simulated clock.

    python scripts/bridge_crossing.py [--amount 250]
"""

import argparse
from decimal import Decimal

from chainpay.bridge import Connector, ConnectorPolicy, build_network, cross

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--amount", type=Decimal, default=Decimal("250"), help="yuan to move from A to B")
args = parser.parse_args()

net = build_network(people=1)             # platforms A and B, one person registered on both
person = net.people[0]
connector = Connector(net.a.bridge, net.b.bridge, net.connector.a, net.connector.b, ConnectorPolicy(),
                      clock=lambda: net.now)
before = net.holdings(person)

result = cross(net, connector, person, args.amount)

print(f"{result.outcome}: {result.amount} in {result.seconds} s, fee {result.fee}, "
      f"gas {result.sender_gas:,} (sender) + {result.connector_gas:,} (connector)")
print(f"money is {result.money_at}")
print(f"person held {before} on A and B together, now {net.holdings(person)}")
