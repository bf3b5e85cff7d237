"""`chainpay ...`: compile, deploy, demo, bench, transfer. Errors print one plain line and exit non-zero."""

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
    _transfers_table(results["transfers"])
    if json_out:
        json_out.write_text(json.dumps(results, indent=2) + "\n")
        console.print(f"results written to {json_out}")


def _transfers_table(tr: dict) -> None:
    base = tr["currency_transfer_gas"]
    table = Table(title="chainpay bench: revocable transfers (gas; baseline: a plain currency transfer)")
    for col in ("step", "gas", "x currency transfer"):
        table.add_column(col, justify="left" if col == "step" else "right")
    rows = [("send (after a separate approve)", tr["send_gas"]), ("  the approve itself", tr["approve_allowance_gas"]),
            ("send with permit (one transaction)", tr["send_with_permit_gas"]),
            ("second approval", tr["second_approval_gas"]), ("revoke (refund + limit give-back)", tr["revoke_gas"]),
            ("release", tr["release_gas"])]
    rows += [(f"releaseMany, per item of {key.split('_')[2]} (10 recipients)", tr[key])
             for key in tr if key.startswith("release_many_")]
    rows.append(("plain currency transfer", base))
    for label, gas in rows:
        table.add_row(label, f"{gas:,}", f"{gas / base:.2f}x")
    console.print(table)


def _register_groups() -> None:
    from .transfer_cli import transfer

    app.add_command(transfer)


_register_groups()


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
