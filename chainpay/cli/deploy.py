"""`chainpay compile`, `chainpay deploy` and `chainpay demo`: build the contracts and put a system on a chain."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click
from rich.table import Table

from ..core import errors
from .common import RPC_HELP, connect_chain, console, engine_option, pick_engine


@click.command("compile")
@click.option("--check", is_flag=True, help="Exit 1 if committed artifacts differ from a fresh build.")
def compile_cmd(check: bool):
    """Build contracts/ into chainpay/artifacts/."""
    from ..core import compiler

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


@click.command()
@click.option("--rpc", default=None, help=RPC_HELP)
@click.option("--out", type=click.Path(path_type=Path), default=Path("chainpay-manifest.json"), show_default=True,
              help="Where to write the deployment manifest.")
@click.option("--config", type=click.Path(path_type=Path), default=None, help="TOML/JSON with name, symbol, decimals, daily_limits.")
def deploy(rpc: Optional[str], out: Path, config: Optional[Path]):
    """Deploy the identity registry and the digital currency; write the manifest."""
    from ..config import DeployConfig
    from ..system import deploy as do_deploy

    cfg = DeployConfig.load(config) if config else DeployConfig()
    chain = connect_chain(rpc)
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


@click.command()
@click.option("--rpc", default=None, help=RPC_HELP)
@engine_option
def demo(rpc: Optional[str], engine: str):
    """Tell the story: issue, register, pay across platforms, refuse over-limit and frozen payments."""
    from ..demo import run_demo

    with connect_chain(rpc, "eth-tester" if rpc else pick_engine(engine)) as chain:
        run_demo(chain, console)
