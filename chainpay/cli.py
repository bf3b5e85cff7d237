"""`chainpay ...`: compile, deploy, demo, bench, study. Errors print one plain line and exit non-zero."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Optional

import click
from rich.console import Console
from rich.table import Table

from . import errors

console = Console()


@click.group(help="Permissioned digital-currency payments on a blockchain.")
def app() -> None:
    pass


def _keys_from_env() -> list[str]:
    raw = os.environ.get("CHAINPAY_PRIVATE_KEYS", "")
    return [k.strip() for k in raw.split(",") if k.strip()]


def _connect(rpc: Optional[str]):
    from .chain import connect

    return connect(rpc, private_keys=_keys_from_env()) if rpc else connect()


RPC_HELP = "JSON-RPC URL of a node (default: an in-process eth-tester chain). Keys: CHAINPAY_PRIVATE_KEYS=k1,k2,… else the node's accounts."


@app.command("compile")
@click.option("--check", is_flag=True, help="Exit 1 if committed artifacts differ from a fresh build.")
def compile_cmd(check: bool):
    """Build contracts/ into chainpay/artifacts/."""
    from . import compiler

    with console.status("compiling contracts…"):
        artifacts = compiler.build()
    if check:
        stale = compiler.diff_artifacts(artifacts)
        if stale:
            raise errors.CompilerError(f"committed artifacts differ from a fresh build: {', '.join(stale)} (run `chainpay compile`)")
        console.print(f"artifacts up to date ({len(artifacts)} contracts)")
        return
    for path in compiler.write_artifacts(artifacts):
        console.print(f"wrote {path}")


@app.command()
@click.option("--rpc", default=None, help=RPC_HELP)
@click.option("--out", type=click.Path(path_type=Path), default=Path("chainpay-manifest.json"), show_default=True,
              help="Where to write the deployment manifest.")
@click.option("--config", type=click.Path(path_type=Path), default=None, help="TOML/JSON with name, symbol, decimals, daily_limits.")
def deploy(rpc: Optional[str], out: Path, config: Optional[Path]):
    """Deploy the identity registry and the digital currency; write the manifest."""
    from .config import DeployConfig
    from .system import deploy as do_deploy

    cfg = DeployConfig.load(config) if config else DeployConfig()
    chain = _connect(rpc)
    with console.status(f"deploying to {chain.describe()}…"):
        system = do_deploy(chain, cfg)
    system.save(out)
    table = Table(title=f"Deployed on chain {chain.chain_id}")
    table.add_column("contract / role")
    table.add_column("address")
    for name, entry in system.manifest()["contracts"].items():
        table.add_row(name, entry["address"])
    for role, holders in system.roles.items():
        table.add_row(role, ", ".join(holders) or "-")
    console.print(table)
    console.print(f"manifest written to {out}")
    if rpc is None:
        console.print("[yellow]note:[/] this in-process chain ends with this command; use --rpc URL for a lasting deployment")


@app.command()
@click.option("--rpc", default=None, help=RPC_HELP)
def demo(rpc: Optional[str]):
    """Tell the story: issue, register, pay across platforms, refuse over-limit and frozen payments."""
    from .demo import run_demo

    run_demo(_connect(rpc), console)


@app.command()
@click.option("--json", "json_out", type=click.Path(path_type=Path), default=None, help="Also write the results as JSON here.")
@click.option("--transfers", type=click.IntRange(min=10), default=200, show_default=True, help="Transfers per throughput measurement.")
def bench(json_out: Optional[Path], transfers: int):
    """Measure gas and throughput against plain baselines in one run."""
    from . import bench as benchmarks

    with console.status("benchmarking…") as status:
        results = benchmarks.run(transfers, progress=lambda step: status.update(f"benchmarking: {step}…"))
    cur = results["currency"]
    table = Table(title="chainpay bench: currency")
    for col in ("measure", "chainpay", "baseline", "ratio"):
        table.add_column(col, justify="right" if col != "measure" else "left")
    table.add_row("transfer gas (steady state)", f"{cur['transfer_gas']:,}", f"{cur['oz_erc20_transfer_gas']:,} (OZ ERC-20)", f"{cur['gas_ratio']:.3f}x")
    table.add_row("transfer gas (new recipient)", f"{cur['new_recipient_transfer_gas']:,}", f"{cur['oz_erc20_new_recipient_transfer_gas']:,} (OZ ERC-20)",
                  f"{cur['new_recipient_transfer_gas'] / cur['oz_erc20_new_recipient_transfer_gas']:.3f}x")
    table.add_row("transfer gas (identity's first outflow ever)", f"{cur['first_outflow_transfer_gas']:,}", f"{cur['oz_erc20_first_transfer_gas']:,} (OZ ERC-20)",
                  f"{cur['first_outflow_transfer_gas'] / cur['oz_erc20_first_transfer_gas']:.3f}x")
    table.add_row("transfers per second (eth-tester)", f"{cur['sdk_tx_per_s']:,}", f"{cur['naive_web3_tx_per_s']:,} (web3 transact())", f"{cur['tx_per_s_ratio']:.2f}x")
    console.print(table)
    if json_out:
        json_out.write_text(json.dumps(results, indent=2) + "\n")
        console.print(f"results written to {json_out}")


# ---------------------------------------------------------------------------- studies
@app.group()
def study() -> None:
    """Measured comparisons (see chainpay/studies/)."""


@study.command("bridging")
@click.option("--transfers", type=click.IntRange(min=1), default=1000, show_default=True, help="Transfers through every path.")
@click.option("--config", type=click.Path(path_type=Path), default=None, help="TOML overriding chainpay/studies/bridging.toml.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("study-bridging"), show_default=True, help="Output directory.")
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same results.")
@click.option("--fault", "faults", multiple=True, type=click.Choice(["connector-offline", "recipient-absent", "chain-halt", "no-liquidity"]),
              help="Inject a fault into a share of bridge transfers (repeatable; share from [faults] in the config).")
def study_bridging(transfers: int, config: Optional[Path], out: Path, seed: int, faults: tuple[str, ...]):
    """Bank route vs shared digital currency vs cross-chain bridge: report.md, results.csv, PNG charts."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .studies import bridging, report
    from .studies.config import StudyConfig

    cfg = StudyConfig.load(config)
    with Progress(TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as bar:
        tasks = {name: bar.add_task(label, total=transfers) for name, label in
                 (("bank", "bank route (simulated)"), ("shared", "shared currency (on chain)"), ("bridge", "bridge (two chains)"))}
        rows = bridging.run(cfg, transfers, seed, faults, progress=lambda path, done: bar.update(tasks[path], completed=done))
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


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, errors.ContractRevert):
        return f"refused by the contract: {exc}"
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the command; any error is one plain line on stderr and a non-zero exit."""
    logging.basicConfig(level=os.environ.get("CHAINPAY_LOG", "WARNING").upper(), format="%(levelname)s %(name)s: %(message)s")
    try:
        result = app.main(args=argv, prog_name="chainpay", standalone_mode=False)
        return result if isinstance(result, int) else 0
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        print("chainpay: aborted", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("chainpay: interrupted", file=sys.stderr)
        return 130
    except errors.ChainpayError as exc:
        print(f"chainpay: {_one_line(exc)}", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug or an unexpected environment: still one line, traceback on request
        if os.environ.get("CHAINPAY_DEBUG"):
            raise
        print(f"chainpay: unexpected {type(exc).__name__}: {_one_line(exc)} (set CHAINPAY_DEBUG=1 for a traceback)", file=sys.stderr)
        return 1


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
