"""What several transactions per block would give on EDR (a probe for a design not built: the SDK mines
one transaction per block). Same process, same deployment: the permissioned currency's transfer

1. through the SDK, one per block, receipt decoded (what `chainpay bench` measures);
2. N per block through the same host: automine off, the N sends as one batch line (run one after
   another inside node), one evm_mine, then the N receipts as one batch line (raw, not decoded).

    python tests/tools/edr_block_batch.py [N ...]      (default: 10 50 200)
"""
import sys
import time
from decimal import Decimal

from chainpay.bench import _bench_system, _rate


def main(sizes: list[int]) -> None:
    chain, system, _ = _bench_system(12, {5: 3, 6: 3}, engine="edr")
    try:
        cur = system.currency
        alice, bob = chain.accounts[5], chain.accounts[6]
        cur.mint(alice, Decimal(10_000_000))
        print(f"one per block through the SDK: {_rate(1000, lambda i: cur.transfer(bob, Decimal('0.01'), sender=alice)):,.0f} transfers/s")
        data = "0x" + cur.artifact.fn("transfer").encode([bob.address, 1]).hex()
        tx = {"from": alice.address, "to": cur.address, "data": data, "gas": hex(200_000)}
        for n in sizes:
            chain.rpc("evm_setAutomine", [False])
            start = time.perf_counter()
            rounds, failed = 3, 0
            for _ in range(rounds):
                hashes = chain._rpc_batch(*[("eth_sendTransaction", [tx])] * n)
                chain.rpc("evm_mine")
                receipts = chain._rpc_batch(*[("eth_getTransactionReceipt", [h]) for h in hashes])
                failed += sum(r["status"] != "0x1" for r in receipts)
            rate = rounds * n / (time.perf_counter() - start)
            chain.rpc("evm_setAutomine", [True])
            print(f"{n} per block, raw receipts: {rate:,.0f} transfers/s ({failed} failed)")
    finally:
        chain.close()


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10, 50, 200])
