"""`chainpay study ...`: the measured comparisons of chainpay/studies/."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click
from rich.table import Table

from .common import check_writable_dir, console, status

MAX_TRANSFERS = 20_000  # ~2.5 hours here; larger runs belong in a sweep (chainpay/studies) on a cluster
SECONDS_PER_TRANSFER = 0.42  # measured: `chainpay study bridging --transfers 1000` took ~7 minutes on 2 cores


def _estimate(transfers: int) -> str:
    seconds = 20 + transfers * SECONDS_PER_TRANSFER
    return f"{seconds / 60:.0f} minutes" if seconds >= 90 else f"{seconds:.0f} seconds"


@click.group()
def study() -> None:
    """Measured comparisons (see chainpay/studies/)."""


@study.command("bridging")
@click.option("--transfers", type=click.IntRange(min=1, max=MAX_TRANSFERS), default=1000, show_default=True,
              help=f"Transfers through every path (at most {MAX_TRANSFERS:,}: about 0.4 s each here, so 1,000 take ~7 minutes).")
@click.option("--config", type=click.Path(path_type=Path), default=None, help="TOML overriding chainpay/studies/bridging.toml.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("study-bridging"), show_default=True, help="Output directory.")
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same results.")
@click.option("--fault", "faults", multiple=True, type=click.Choice(["connector-offline", "recipient-absent", "chain-halt", "no-liquidity"]),
              help="Inject a fault into a share of bridge transfers (repeatable; share from [faults] in the config).")
def study_bridging(transfers: int, config: Optional[Path], out: Path, seed: int, faults: tuple[str, ...]):
    """Bank route vs shared digital currency vs cross-chain bridge: report.md, results.csv, PNG charts."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ..studies import bridging, report
    from ..studies.config import StudyConfig

    cfg = StudyConfig.load(config)
    check_writable_dir(out, "output directory")
    console.print(f"{transfers:,} transfers through 4 paths: about {_estimate(transfers)} on this machine", highlight=False)
    labels = (("bank", "bank route (simulated)"), ("shared", "shared currency (on chain)"), ("bridge", "bridge (two chains)"))
    if console.is_terminal:
        with Progress(TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console) as bar:
            tasks = {name: bar.add_task(label, total=transfers) for name, label in labels}
            rows = bridging.run(cfg, transfers, seed, faults, progress=lambda path, done: bar.update(tasks[path], completed=done))
    else:  # logs and pipes: a plain line every few seconds
        names = dict(labels)
        with status("study bridging: starting") as lines:
            rows = bridging.run(cfg, transfers, seed, faults,
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
