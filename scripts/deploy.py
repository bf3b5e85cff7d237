"""Deploy a chainpay system and write its manifest.

    python scripts/deploy.py                                   # in-process chain (gone when the script ends)
    python scripts/deploy.py --rpc http://127.0.0.1:8545 --out manifest.json

Against a node, the node's own accounts sign unless CHAINPAY_PRIVATE_KEYS=0xk1,0xk2,... is set.
Later, `chainpay.load("manifest.json")` gives the same system back.
"""

import argparse
import os

import chainpay

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--rpc", help="JSON-RPC URL of a node (default: in-process eth-tester chain)")
parser.add_argument("--out", default="chainpay-manifest.json", help="where to write the manifest")
args = parser.parse_args()

keys = [k for k in os.environ.get("CHAINPAY_PRIVATE_KEYS", "").split(",") if k]
chain = chainpay.connect(args.rpc, private_keys=keys) if args.rpc else chainpay.connect()

# Deployment parameters: symbol, decimals, daily limits per tier, revocable-transfer policy.
config = chainpay.DeployConfig(symbol="eCNY", decimals=2)
system = chainpay.deploy(chain, config)    # admin = account 0, issuer 1, compliance 2, pauser 3
system.save(args.out)

print(f"deployed on chain {chain.chain_id} at block {system.manifest()['deployed_at_block']}")
for name, entry in system.manifest()["contracts"].items():
    print(f"  {name:<20} {entry['address']}")
print(f"manifest: {args.out}")
