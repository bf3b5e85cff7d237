"""`chainpay study sweep`: a grid of study parameters x seeds, each point an independent study run, on
Dask (`dask.distributed`): a local cluster by default, or any scheduler's address.

Each task builds its own chains in its worker process, so workers share nothing; the results are
summaries (one row per grid point, seed and path), gathered into one table whose order does not depend
on the cluster (a serial run gives the same rows).
"""

from __future__ import annotations

import csv
import itertools
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from ..core.errors import ChainpayError, InvalidInput
from . import bridging
from .config import StudyConfig
from .stats import METRICS, Figures, mean_ci

log = logging.getLogger(__name__)

COLUMNS = ("point", "seed", "path", *METRICS)


@dataclass(frozen=True)
class Task:
    point: int
    overrides: tuple[tuple[str, object], ...]
    seed: int
    transfers: int
    paths: tuple[str, ...]
    config_file: str | None = None
    engine: str = "eth-tester"  # each worker starts its own chain engine


def parse_grid(specs: Sequence[str]) -> dict[str, list[str]]:
    """`["chain.gas_price_yuan_per_million=0,1,5", ...]` -> {key: [values]}."""
    grid = {}
    for spec in specs:
        key, sep, values = spec.partition("=")
        items = [v.strip() for v in values.split(",") if v.strip()]
        if not sep or not key.strip() or not items:
            raise InvalidInput(f"{spec!r} is not KEY=V1,V2,... (e.g. chain.gas_price_yuan_per_million=0,1,5)")
        grid[key.strip()] = items
    return grid


def plan(config: StudyConfig, grid: dict[str, list[str]], seeds: int, transfers: int, first_seed: int = 1,
         paths: Sequence[str] = bridging.PATHS, config_file: str | None = None, engine: str = "eth-tester") -> list[Task]:
    """Every grid point x seed as a Task; each point's config is checked here, before anything runs."""
    keys = list(grid)
    tasks = []
    for point, values in enumerate(itertools.product(*(grid[k] for k in keys))):
        overrides = tuple(zip(keys, values))
        config.with_overrides(dict(overrides))  # raises on a bad key or value
        tasks += [Task(point, overrides, first_seed + k, transfers, tuple(paths), config_file, engine) for k in range(seeds)]
    return tasks


def run_task(task: Task) -> list[dict]:
    """One study run (on the worker that gets it): its per-path figures as rows of the sweep table."""
    config = StudyConfig.load(task.config_file).with_overrides(dict(task.overrides))
    rows = bridging.run(config, task.transfers, task.seed, paths=task.paths, engine=task.engine)
    out = []
    for path in task.paths:
        figures = Figures.of([r for r in rows if r.path == path])
        out.append({"point": task.point, "seed": task.seed, "path": path, **dict(task.overrides),
                    **{m: fn(figures) for m, fn in METRICS.items()}})
    return out


def run(tasks: Sequence[Task], *, workers: int = 2, scheduler: str | None = None,
        progress: Callable[[int], None] = lambda done: None) -> list[dict]:
    """Every task on Dask (`scheduler` address, else a local cluster of `workers` processes); rows sorted
    by point, seed and path order, so the table does not depend on which worker finished first."""
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ChainpayError("the sweep needs dask.distributed: pip install 'dask[distributed]'") from None
    cluster = None if scheduler else LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                                   dashboard_address=None, silence_logs=logging.WARNING)
    try:
        with Client(scheduler or cluster) as client:
            futures = client.map(run_task, list(tasks), pure=False)
            rows, done = [], 0
            for future in as_completed(futures):
                rows += future.result()
                done += 1
                progress(done)
    finally:
        if cluster is not None:
            cluster.close()
    return order(rows, tasks)


def run_serial(tasks: Sequence[Task]) -> list[dict]:
    return order([row for task in tasks for row in run_task(task)], tasks)


def order(rows: list[dict], tasks: Sequence[Task]) -> list[dict]:
    paths = {p: i for i, p in enumerate(bridging.PATHS)}
    return sorted(rows, key=lambda r: (r["point"], r["seed"], paths[r["path"]]))


def write_table(rows: Sequence[dict], keys: Sequence[str], file: Path) -> Path:
    with file.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["point", "seed", "path", *keys, *METRICS])
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
    return file


def write_report(rows: Sequence[dict], grid: dict[str, list[str]], out: Path, *, transfers: int, seeds: int) -> dict[str, Path]:
    """sweep.csv, one sensitivity chart per swept parameter (cost and time, 95 % bands across seeds) and sweep.md."""
    from .charts import COLOURS, LABELS, _plt, _save

    out.mkdir(parents=True, exist_ok=True)
    written = {"csv": write_table(rows, list(grid), out / "sweep.csv")}
    paths = [p for p in bridging.PATHS if any(r["path"] == p for r in rows)]
    lines = [f"# Sweep: {', '.join(grid)}", "", f"{transfers:,} transfers per run, {seeds} seed(s) per grid point; "
             "means with 95 % intervals across runs (Student's t); each value of a parameter pools the runs at every value of the "
             "other swept parameters. Cost is fees + gas over all attempted volume.", ""]
    plt = _plt()
    for key, values in grid.items():
        fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
        lines += [f"## {key}", "", "| path | " + " | ".join(f"{key} = {v}" for v in values) + " |",
                  "|---|" + "---:|" * len(values)]
        for path in paths:
            cells, xs, cost, cost_hw, time, time_hw = [], [], [], [], [], []
            for v in values:
                mine = [r for r in rows if r["path"] == path and str(r[key]) == v]
                c, t = mean_ci([r["cost_pct"] for r in mine]), mean_ci([r["mean_s"] for r in mine if not math.isnan(r["mean_s"])])
                cells.append(c.fmt(".3f", " %"))
                xs.append(v)
                cost.append(c.value)
                cost_hw.append(c.half_width or 0.0)
                time.append(t.value / 60)
                time_hw.append((t.half_width or 0.0) / 60)
            lines.append(f"| {LABELS[path]} | " + " | ".join(cells) + " |")
            for ax, ys, hw in ((axes[0], cost, cost_hw), (axes[1], time, time_hw)):
                ax.plot(xs, ys, marker="o", color=COLOURS[path], label=LABELS[path])
                ax.fill_between(xs, [y - h for y, h in zip(ys, hw)], [y + h for y, h in zip(ys, hw)], color=COLOURS[path], alpha=0.15)
        axes[0].set_ylabel("cost, % of attempted volume (symlog)")
        axes[0].set_yscale("symlog", linthresh=0.01)
        axes[1].set_ylabel("mean time to arrive (min)")
        axes[1].set_yscale("log")
        for ax in axes:
            ax.set_xlabel(key)
            ax.grid(True, alpha=0.3)
        axes[0].legend(fontsize=7)
        fig.suptitle(f"Sensitivity to {key} (bands: 95 % interval across seeds)")
        name = "sweep_" + key.replace(".", "_") + ".png"
        _save(plt, fig, out / name, dpi=100)
        written[key] = out / name
        lines += ["", f"![{key}]({name})", ""]
    (out / "sweep.md").write_text("\n".join(lines))
    written["report"] = out / "sweep.md"
    return written
