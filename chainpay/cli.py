"""`chainpay ...`: compile, deploy, demo, bench, transfer, serve-content, study. Errors print one plain line and
exit non-zero."""

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


def load_system(manifest: Path):
    """The deployment a manifest describes, signing with CHAINPAY_PRIVATE_KEYS (else the node's accounts)."""
    from .system import load

    return load(manifest, private_keys=_keys_from_env())


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
    _print_content_bench(results)
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


def _parse_offer(value: str):
    import mimetypes

    from .paywall import Offer

    content_id, sep, path = value.partition("=")
    if not sep or not content_id.strip().isdigit() or int(content_id) < 1:
        raise click.BadParameter(f"{value!r} is not CONTENT_ID=PATH")
    file = Path(path).expanduser()
    if not file.is_file():
        raise click.BadParameter(f"{file} is not a readable file")
    return Offer(int(content_id), file, mimetypes.guess_type(file.name)[0] or "application/octet-stream")


@app.command("serve-content")
@click.option("--manifest", "manifest", type=click.Path(path_type=Path), required=True,
              help="Deployment manifest of a node deployment (chainpay deploy --rpc URL --out FILE).")
@click.option("--port", type=click.IntRange(1, 65535), required=True, help="Port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--provider", required=True, help="The provider's account: an address, or an index into the chain's accounts.")
@click.option("--offer", "offers", multiple=True, required=True, metavar="CONTENT_ID=PATH",
              help="Serve the file at PATH for listing CONTENT_ID (repeatable).")
@click.option("--db", type=click.Path(path_type=Path), default=Path("chainpay-vouchers.sqlite"), show_default=True,
              help="sqlite file that keeps the latest voucher of every channel.")
@click.option("--redeem-every", type=click.FloatRange(min=0.1), default=60.0, show_default=True,
              help="Seconds between redemption rounds (also at startup and on shutdown).")
def serve_content(manifest: Path, port: int, host: str, provider: str, offers: tuple[str, ...], db: Path,
                  redeem_every: float):
    """HTTP paywall: GET /content/ID answers 402 with the terms, or the content for a valid voucher."""
    from .content import ContentProvider
    from .paywall import create_app, run_server
    from .voucher_store import VoucherStore

    parsed = {o.content_id: o for o in (_parse_offer(v) for v in offers)}
    system = load_system(manifest)
    if system.channels is None or system.catalogue is None:
        raise errors.ManifestError(f"{manifest} has no ContentCatalogue / PaymentChannels (deployed before issue 4?)")
    who = system.chain.account(int(provider) if provider.isdigit() else provider)
    for content_id in parsed:
        listing = system.catalogue.get(content_id)
        if listing.provider != who.address:
            raise errors.InvalidInput(f"listing {content_id} belongs to {listing.provider}, not to {who.address}")
    store = VoucherStore(db)
    app_ = create_app(ContentProvider(system.channels, who, store), system.catalogue, parsed, redeem_every=redeem_every)
    console.print(f"paywall for {len(parsed)} listing(s) on http://{host}:{port}/content/ID (vouchers in {db})")
    try:
        run_server(app_, host, port)
    finally:
        store.close()


def _print_content_bench(results: dict) -> None:
    """Tables of the pay-per-use sections: voucher signatures and gas per use."""
    v = results["vouchers"]
    table = Table(title="chainpay bench: vouchers (EIP-712, per second)")
    for col in ("measure", "chainpay (keccak + coincurve)", "eth-account sign_typed_data", "ratio"):
        table.add_column(col, justify="right" if col != "measure" else "left")
    table.add_row("sign", f"{v['sign_per_s']:,}", f"{v['eth_account_sign_per_s']:,}", f"{v['sign_ratio']}x")
    table.add_row("verify (recover + compare)", f"{v['verify_per_s']:,}", f"{v['eth_account_verify_per_s']:,}",
                  f"{v['verify_ratio']}x")
    console.print(table)
    g = results["content_gas_per_use"]
    table = Table(title="chainpay bench: content gas per use")
    table.add_column("way of paying")
    table.add_column("gas per use", justify="right")
    table.add_column("vs buy", justify="right")
    table.add_row("buy (on chain, 3 payees)", f"{g['buy']:,}", "1x")
    for n in (10, 100, 1000):
        table.add_row(f"channel, {n:,} uses (open + close with last voucher) / {n:,}", f"{g[f'channel_{n}']:,}",
                      f"{g['buy'] / g[f'channel_{n}']:,.1f}x cheaper")
    table.add_row("channel, 1,000 uses, separate redeem tx", f"{g['channel_1000_separate_redeem']:,}", "")
    table.add_row("channel, 1,000 uses, + its own withdraw and distribute", f"{g['channel_1000_all_in']:,}", "")
    console.print(table)
    console.print(f"per transaction: open {g['open_gas']:,}, close with voucher {g['close_with_voucher_gas']:,}, "
                  f"redeem {g['redeem_gas']:,}, withdraw {g['withdraw_gas']:,} (one per consumer, any number of "
                  f"channels), distribute {g['distribute_gas']:,} (one per listing, any number of channels)")
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
