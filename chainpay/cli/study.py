"""`chainpay study ...`: the measured comparisons of chainpay/studies/."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click
from rich.table import Table

from .common import check_writable_dir, console, engine_option, pick_engine, status

MAX_TRANSFERS = 20_000  # larger runs belong in a sweep on a cluster
# Seconds per transfer through the on-chain paths with two workers, measured here on the quiet 2-core machine
# (`chainpay study bridging --transfers N --engine E`): EDR 39.5-42.5 s for 1,000 and 405.5 s for 10,000, eth-tester
# 414.7 s for 1,000. One worker took 83.4 s for 1,000 on EDR (1.96x).
SECONDS_PER_TRANSFER = {"edr": 0.042, "eth-tester": 0.41}
ONE_WORKER_FACTOR = 2.0


def _estimate(transfers: int, engine: str, workers: int) -> str:
    seconds = 5 + transfers * SECONDS_PER_TRANSFER[engine] * (ONE_WORKER_FACTOR if workers == 1 else 1)
    return f"{seconds / 60:.0f} minutes" if seconds >= 90 else f"{seconds:.0f} seconds"


@click.group()
def study() -> None:
    """Measured comparisons (see chainpay/studies/)."""


def _paths(text: Optional[str]) -> tuple[str, ...]:
    from ..studies import bridging

    if not text:
        return bridging.PATHS
    chosen = tuple(p.strip() for p in text.split(",") if p.strip())
    unknown = [p for p in chosen if p not in bridging.PATHS]
    if unknown or not chosen:
        raise click.BadParameter(f"unknown path(s) {', '.join(unknown)}; known: {', '.join(bridging.PATHS)}", param_hint="--paths")
    return chosen


PATHS_HELP = "Comma-separated paths to run (default: all; the simulated routes take no chain)."


@study.command("bridging")
@click.option("--transfers", type=click.IntRange(min=1, max=MAX_TRANSFERS), default=1000, show_default=True,
              help=f"Transfers through every path, per replicate (at most {MAX_TRANSFERS:,}; the run says how long it expects).")
@click.option("--config", type=click.Path(path_type=Path), default=None, help="TOML overriding chainpay/studies/bridging.toml.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("study-bridging"), show_default=True, help="Output directory.")
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same results.")
@click.option("--replicates", type=click.IntRange(min=1, max=100), default=1, show_default=True,
              help="Independent runs (seeds seed, seed+1, ...): figures get 95 % confidence intervals.")
@click.option("--paths", "paths_text", default=None, help=PATHS_HELP)
@click.option("--fault", "faults", multiple=True, type=click.Choice(["connector-offline", "recipient-absent", "chain-halt", "no-liquidity"]),
              help="Inject a fault into faults.share of bridge transfers (repeatable; rates also in [faults] of the config).")
@click.option("--workers", type=click.IntRange(min=1, max=2), default=2, show_default=True,
              help="Processes for the on-chain paths: 2 runs the shared chain and the bridge side by side (the same rows); "
                   "1 runs them one after the other.")
@engine_option
def study_bridging(transfers: int, config: Optional[Path], out: Path, seed: int, replicates: int, paths_text: Optional[str],
                   faults: tuple[str, ...], workers: int, engine: str):
    """Today's routes vs shared digital currency vs cross-chain bridge: report.md, results.csv, PNG charts."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ..studies import bridging, report
    from ..studies.config import StudyConfig

    cfg = bridging.with_faults(StudyConfig.load(config), faults)
    paths = _paths(paths_text)
    check_writable_dir(out, "output directory")
    engine = pick_engine(engine)
    total = transfers * replicates
    on_chain = sum(p in bridging.ON_CHAIN for p in paths) / len(bridging.ON_CHAIN)
    console.print(f"{total:,} transfers through {len(paths)} paths on {engine}: about "
                  f"{_estimate(round(total * on_chain), engine, workers)} here", highlight=False)
    labels = (("simulated", "routes (simulated)"), ("shared", "shared currency (on chain)"), ("bridge", "bridge (two chains)"))
    if console.is_terminal:
        with Progress(TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console) as bar:
            tasks = {name: bar.add_task(label, total=total) for name, label in labels}
            rows = bridging.run_replicates(cfg, transfers, seed, replicates, paths=paths, engine=engine, workers=workers,
                                           progress=lambda group, n: bar.update(tasks[group], completed=n))
    else:  # logs and pipes: a plain line every few seconds
        names = dict(labels)
        with status("study bridging: starting") as lines:
            rows = bridging.run_replicates(cfg, transfers, seed, replicates, paths=paths, engine=engine, workers=workers,
                                           progress=lambda group, n: lines.update(f"study bridging: {names[group]} {n:,}/{total:,}"))
    failure = None
    if "platform-interconvert" in paths:
        from ..studies import platform_failure

        with status("study bridging: a platform's insider drains its reserve (on chain)"):
            failure = platform_failure.run(cfg, engine)
    written = report.write_all(rows, cfg, out, seed=seed, faults=faults, failure=failure)
    table = Table(title=f"chainpay study bridging: {transfers:,} transfers x {replicates} replicate(s), seed {seed}")
    for col in ("path", "arrived", "failure rate %", "mean time", "p95", "cost % of volume", "median cost %"):
        table.add_column(col, justify="left" if col == "path" else "right")
    for path in paths:
        s = report.summarise(rows, path)
        table.add_row(report.LABELS[path], f"{s.delivered:,} / {s.n:,}", s["failure_rate"].fmt(".1f"),
                      report.duration(s["mean_s"].value), report.duration(s["p95_s"].value), s["cost_pct"].fmt(".3f"),
                      s["median_cost_pct"].fmt(".2f"))
    console.print(table)
    if failure:
        drain = Table(title="a platform's insider drains what its reserve ratio allows; the platform fails")
        for col in ("reserve ratio", "customers' balances", "drained", "customers got back", "customers lost"):
            drain.add_column(col, justify="left" if col == "reserve ratio" else "right")
        for r in failure:
            drain.add_row(r.label, f"{r.supply:,.2f}", f"{r.drained:,.2f}", f"{r.recovered:,.2f}", f"{r.lost:,.2f} ({r.lost_pct:.0f} %)")
        console.print(drain)
    console.print(f"wrote {written['report'].name}, {written['csv'].name} and {len(written) - 2} charts in {out}")


@study.command("sweep")
@click.option("--grid", "grid_specs", multiple=True, required=True, metavar="KEY=V1,V2,...",
              help="A parameter and its values (repeatable; the grid is every combination), e.g. "
                   "chain.gas_price_yuan_per_million=0,1,5 or bank_route.minimum_fee=false,true.")
@click.option("--seeds", type=click.IntRange(min=1, max=100), default=3, show_default=True, help="Seeds per grid point.")
@click.option("--transfers", type=click.IntRange(min=1, max=100_000), default=200, show_default=True, help="Transfers per run.")
@click.option("--config", type=click.Path(path_type=Path), default=None, help="TOML overriding the defaults for every run.")
@click.option("--paths", "paths_text", default=None, help=PATHS_HELP)
@click.option("--workers", type=click.IntRange(min=1, max=64), default=2, show_default=True, help="Local cluster size.")
@click.option("--scheduler", default=None, help="Address of a running Dask scheduler (default: a local cluster).")
@click.option("--out", type=click.Path(path_type=Path), default=Path("study-sweep"), show_default=True, help="Output directory.")
@engine_option
def study_sweep(grid_specs: tuple[str, ...], seeds: int, transfers: int, config: Optional[Path], paths_text: Optional[str],
                workers: int, scheduler: Optional[str], out: Path, engine: str):
    """Run the bridging study over a grid of parameters x seeds on Dask: sweep.csv, sweep.md, one chart per parameter."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ..studies import sweep
    from ..studies.config import StudyConfig

    grid = sweep.parse_grid(grid_specs)
    tasks = sweep.plan(StudyConfig.load(config), grid, seeds, transfers, paths=_paths(paths_text),
                       config_file=str(config) if config else None, engine=pick_engine(engine))
    check_writable_dir(out, "output directory")
    with Progress(TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as bar:
        task = bar.add_task(f"{len(tasks)} runs on {'the scheduler' if scheduler else f'{workers} workers'}", total=len(tasks))
        rows = sweep.run(tasks, workers=workers, scheduler=scheduler, progress=lambda n: bar.update(task, completed=n))
    written = sweep.write_report(rows, grid, out, transfers=transfers, seeds=seeds)
    console.print(f"wrote {written['report'].name}, {written['csv'].name} and {len(grid)} chart(s) in {out}")
