"""`chainpay study ...`: the measured comparisons of chainpay/studies/."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click
from rich.table import Table

from .common import check_writable_dir, console, engine_option, pick_engine, status

MAX_TRANSFERS = 20_000  # larger runs belong in a sweep on a cluster
# Seconds per transfer through every path, measured here (`chainpay study bridging --transfers 1000`, loaded
# 2-core machine): 85 s on EDR, 1,496 s on eth-tester.
SECONDS_PER_TRANSFER = {"edr": 0.085, "eth-tester": 1.5}


def _estimate(transfers: int, engine: str) -> str:
    seconds = 20 + transfers * SECONDS_PER_TRANSFER[engine]
    return f"{seconds / 60:.0f} minutes" if seconds >= 90 else f"{seconds:.0f} seconds"


@click.group()
def study() -> None:
    """Measured comparisons (see chainpay/studies/)."""


@study.command("bridging")
@click.option("--transfers", type=click.IntRange(min=1, max=MAX_TRANSFERS), default=1000, show_default=True,
              help=f"Transfers through every path (at most {MAX_TRANSFERS:,}; the run says how long it expects).")
@click.option("--config", type=click.Path(path_type=Path), default=None, help="TOML overriding chainpay/studies/bridging.toml.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("study-bridging"), show_default=True, help="Output directory.")
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same results.")
@click.option("--fault", "faults", multiple=True, type=click.Choice(["connector-offline", "recipient-absent", "chain-halt", "no-liquidity"]),
              help="Inject a fault into a share of bridge transfers (repeatable; share from [faults] in the config).")
@engine_option
def study_bridging(transfers: int, config: Optional[Path], out: Path, seed: int, faults: tuple[str, ...], engine: str):
    """Bank route vs shared digital currency vs cross-chain bridge: report.md, results.csv, PNG charts."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ..studies import bridging, report
    from ..studies.config import StudyConfig

    cfg = StudyConfig.load(config)
    check_writable_dir(out, "output directory")
    engine = pick_engine(engine)
    console.print(f"{transfers:,} transfers through 4 paths on {engine}: about {_estimate(transfers, engine)} here",
                  highlight=False)
    labels = (("bank", "bank route (simulated)"), ("shared", "shared currency (on chain)"), ("bridge", "bridge (two chains)"))
    if console.is_terminal:
        with Progress(TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console) as bar:
            tasks = {name: bar.add_task(label, total=transfers) for name, label in labels}
            rows = bridging.run(cfg, transfers, seed, faults, progress=lambda path, done: bar.update(tasks[path], completed=done),
                                engine=engine)
    else:  # logs and pipes: a plain line every few seconds
        names = dict(labels)
        with status("study bridging: starting") as lines:
            rows = bridging.run(cfg, transfers, seed, faults, engine=engine,
                                progress=lambda path, done: lines.update(f"study bridging: {names[path]} {done:,}/{transfers:,}"))
    written = report.write_all(rows, cfg, out, seed=seed, faults=faults)
    table = Table(title=f"chainpay study bridging: {transfers:,} transfers, seed {seed}")
    for col in ("path", "delivered", "failure rate", "mean time", "p95", "fees %", "gas %"):
        table.add_column(col, justify="left" if col == "path" else "right")
    for path in bridging.PATHS:
        s = report.summarise(rows, path)
        table.add_row(report.LABELS[path], f"{s.delivered:,}", f"{s.failure_rate:.1%}", report.duration(s.mean_s),
                      report.duration(s.p95_s), f"{s.fee_pct:.3f}", f"{s.gas_pct:.3f}")
    console.print(table)
    console.print(f"wrote {written['report']}, {written['csv'].name} and {len(written) - 2} charts in {out}")
