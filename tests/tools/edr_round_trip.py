"""Where an EDR round trip's time goes, measured in one process (the README's Engines section cites it):

1. inside node, no pipe: EDR's handleRequest for eth_chainId awaited one at a time, against 5,000 in
   flight at once (the first is the hand-off between node's thread and EDR's, the second the work);
2. from Python through the pipe: an eth_call and an SDK currency transfer with the answer read by a
   blocking read (SPIN_SECONDS = 0) against polling first (the default), alternating, three rounds.

    python tests/tools/edr_round_trip.py
"""
import json
import subprocess
import time
from decimal import Decimal

from chainpay.bench import _bench_system, _rate
from chainpay.chain import edr

NODE_LOOP = r"""
const { createProvider } = require(process.argv[1]);
(async () => {
  const p = await createProvider({ keys: [], balance: "0", chainId: 1337, hardfork: "prague", blockGasLimit: 30000000 });
  const request = '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}';
  const n = 5000, out = {};
  let t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await p.handleRequest(request);
  out.sequential_ms = Number(process.hrtime.bigint() - t) / n / 1e6;
  t = process.hrtime.bigint();
  await Promise.all(Array.from({ length: n }, () => p.handleRequest(request)));
  out.in_flight_ms = Number(process.hrtime.bigint() - t) / n / 1e6;
  console.log(JSON.stringify(out));
})();
"""


def main() -> None:
    node, modules = edr.find_engine()
    # the same provider the engine runs (edr_host.js's createProvider), without the pipe
    inside = json.loads(subprocess.run([node, "-e", NODE_LOOP, str(edr.HOST_SCRIPT)], capture_output=True, text=True,
                                       check=True, env={"NODE_PATH": str(modules)}).stdout)
    print(f"inside node, eth_chainId: {inside['sequential_ms']:.3f} ms awaited one at a time, "
          f"{inside['in_flight_ms']:.3f} ms each with 5,000 in flight")
    chain, system, _ = _bench_system(12, {5: 3, 6: 3}, engine="edr")
    try:
        cur = system.currency
        alice, bob = chain.accounts[5], chain.accounts[6]
        cur.mint(alice, Decimal(1_000_000))
        read = cur.artifact.fn("balanceOf").encode([bob.address])
        default = edr.SPIN_SECONDS
        for _ in range(3):
            line = []
            for spin, label in ((0.0, "blocking read"), (default, "polling first")):
                edr.SPIN_SECONDS = spin
                start = time.perf_counter()
                for _ in range(2000):
                    chain.call(cur.address, read)
                call_ms = (time.perf_counter() - start) / 2000 * 1e3
                rate = _rate(1000, lambda i: cur.transfer(bob, Decimal("0.01"), sender=alice))
                line.append(f"{label}: eth_call {call_ms:.3f} ms, {rate:,.0f} transfers/s")
            print(" | ".join(line))
        edr.SPIN_SECONDS = default
    finally:
        chain.close()


if __name__ == "__main__":
    main()
