"""`chainpay connector run|deals`: the bridge connector as a long-running process against two nodes."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.table import Table

from ..core import errors
from .common import console, load_system

MANIFEST_HELP = "Deployment manifest of platform {} (chainpay deploy --rpc URL --out FILE, with a HashedTimelockBridge)."


@click.group("connector")
def connector_group() -> None:
    """The bridge connector: carries transfers between two platforms' chains (both directions)."""


def _bridge(manifest: Path, side: str):
    from ..bridge.client import BRIDGE_NAME, Bridge

    system = load_system(manifest)
    raw = json.loads(Path(manifest).read_text())
    entry = raw.get("contracts", {}).get(BRIDGE_NAME)
    if not entry:
        raise errors.ManifestError(f"{manifest} (platform {side}) has no {BRIDGE_NAME}: deploy a bridge and add it")
    return Bridge(system.chain, entry["address"], system.currency, deployed_at_block=int(raw.get("deployed_at_block", 0)))


@connector_group.command("run")
@click.option("--a", "manifest_a", type=click.Path(path_type=Path, exists=True, dir_okay=False), required=True,
              help=MANIFEST_HELP.format("A"))
@click.option("--b", "manifest_b", type=click.Path(path_type=Path, exists=True, dir_okay=False), required=True,
              help=MANIFEST_HELP.format("B"))
@click.option("--account", required=True, help="The connector's address (the same key on both chains), or an account index.")
@click.option("--account-b", default=None, help="The connector's address on B, if it differs from --account.")
@click.option("--db", type=click.Path(path_type=Path, dir_okay=False), default=Path("chainpay-connector.sqlite"),
              show_default=True, help="sqlite file with the connector's deals (kept across restarts).")
@click.option("--port", type=click.IntRange(1, 65535), required=True, help="Port for quotes (POST /quote).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--poll-every", type=click.FloatRange(min=0.05), default=2.0, show_default=True,
              help="Seconds between looks at both chains.")
def run(manifest_a: Path, manifest_b: Path, account: str, account_b: str | None, db: Path, port: int, host: str,
        poll_every: float):
    """Quote over HTTP, watch both chains, lock, claim and refund; killed at any point, it picks up where the
    chains and its sqlite file say it was."""
    import uvicorn

    from ..bridge.service import ConnectorService, create_app
    from ..bridge.store import ConnectorStore

    bridge_a, bridge_b = _bridge(manifest_a, "A"), _bridge(manifest_b, "B")
    if bridge_a.chain.chain_id == bridge_b.chain.chain_id:
        raise errors.InvalidInput(f"both manifests are on chain id {bridge_a.chain.chain_id}: two platforms need two chains")
    acct_a = bridge_a.chain.account(int(account) if account.isdigit() else account)
    raw_b = account_b or account
    acct_b = bridge_b.chain.account(int(raw_b) if raw_b.isdigit() else raw_b)
    for side, bridge, who in (("A", bridge_a, acct_a), ("B", bridge_b, acct_b)):
        if not bridge.is_connector(who):
            raise errors.InvalidInput(f"{who.address} is not a white-listed connector of the bridge on {side}")
    store = ConnectorStore(db)
    service = ConnectorService(bridge_a, bridge_b, acct_a, acct_b, store)
    console.print(f"connector {acct_a.address}: quotes on http://{host}:{port}/quote, deals in {db}")
    try:
        uvicorn.run(create_app(service, poll_every=poll_every), host=host, port=port, log_level="warning", lifespan="on")
    finally:
        store.close()


@connector_group.command("deals")
@click.option("--db", type=click.Path(path_type=Path, exists=True, dir_okay=False), default=Path("chainpay-connector.sqlite"),
              show_default=True, help="The connector's sqlite file.")
def deals(db: Path):
    """List the deals a connector has stored (no chain needed)."""
    from ..bridge.store import ConnectorStore, quote_from_json

    store = ConnectorStore(db)
    try:
        rows = store.rows()
    finally:
        store.close()
    table = Table("direction", "hashlock", "amount", "fee", "state", "lock out", "lock in", "reason")
    for r in rows:
        q = quote_from_json(r["quote"])
        table.add_row(r["direction"], q.hashlock.hex()[:12] + "…", str(q.amount), str(q.fee), r["state"].lower(),
                      str(r["outbound_id"] or "-"), str(r["inbound_id"] or "-"), r["reason"])
    console.print(table)
