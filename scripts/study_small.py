"""Run the bridging study small: today's routes (simulated) against the on-chain paths, with its
report (report.md, results.csv and charts) written to a directory.

    python scripts/study_small.py [--transfers 20] [--out study-small]
"""

import argparse
from pathlib import Path

from chainpay.studies import bridging, report
from chainpay.studies.config import StudyConfig

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--transfers", type=int, default=20, help="transfers through every path")
parser.add_argument("--out", type=Path, default=Path("study-small"), help="output directory")
parser.add_argument("--seed", type=int, default=1, help="same seed, same results")
args = parser.parse_args()

config = StudyConfig.load(None)           # the defaults, with their sources, from bridging.toml
rows = bridging.run(config, args.transfers, args.seed)
written = report.write_all(rows, config, args.out, seed=args.seed, faults=())

for path in bridging.PATHS:  # every figure over all attempted transfers (see report.md)
    s = report.summarise(rows, path)
    print(f"{report.LABELS[path]:<36} arrived {s.delivered:>4}/{s.n}  mean {report.duration(s['mean_s'].value):>8}  "
          f"cost {s['cost_pct'].value:.3f} % of volume")
print(f"report: {written['report']}")
