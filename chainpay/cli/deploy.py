"""`chainpay compile`, `chainpay deploy` and `chainpay demo`: build the contracts and put a system on a chain."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click
from rich.table import Table

from ..core import errors
from .common import RPC_HELP, check_writable_dir, check_writable_file, connect_chain, console, engine_option, pick_engine, status


@click.command("compile")
@click.option("--check", is_flag=True, help="Exit 1 if committed artifacts differ from a fresh build.")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Write the artifacts here instead of chainpay/artifacts (required when chainpay is installed, "
                   "not run from its source checkout).")
def compile_cmd(check: bool, out: Optional[Path]):
    """Build chainpay's contracts/ into chainpay/artifacts/ (or --out DIR)."""
    from ..core import compiler

    if out is not None:
        check_writable_dir(out, "artifact directory")
    elif not check and not compiler.installed_as_checkout():
        raise errors.InvalidInput(f"chainpay runs from an installed copy ({compiler.PACKAGE_DIR}), which compile never "
                                  "rewrites: pass --out DIR, or run from a source checkout")
    with status("compiling contracts…"):
        artifacts = compiler.build()
    if check:
        stale = compiler.diff_artifacts(artifacts)
        if stale:
            raise errors.CompilerError(f"committed artifacts differ from a fresh build: {', '.join(stale)} (run `chainpay compile`)")
        console.print(f"artifacts up to date ({len(artifacts)} contracts)")
        return
    for path in compiler.write_artifacts(artifacts, out or compiler.ARTIFACTS_DIR):
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
    check_writable_file(out, "manifest")
    chain = connect_chain(rpc)
    with status(f"deploying to {chain.describe()}…"):
        system = do_deploy(chain, cfg)
    try:
        system.save(out)
    except OSError as exc:
        where = ", ".join(f"{name} at {entry['address']}" for name, entry in system.manifest()["contracts"].items())
        raise errors.ChainpayError(f"deployed ({where}) but could not write the manifest {out}: {exc}") from None
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
