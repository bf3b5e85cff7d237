"""`chainpay serve-content`: the HTTP paywall of a provider against a node deployment."""

from __future__ import annotations

from pathlib import Path

import click

from ..core import errors
from .common import check_writable_file, console, load_system


def _parse_offer(value: str):
    import mimetypes

    from ..content.paywall import Offer

    content_id, sep, path = value.partition("=")
    if not sep or not content_id.strip().isdigit() or int(content_id) < 1:
        raise click.BadParameter(f"{value!r} is not CONTENT_ID=PATH")
    file = Path(path).expanduser()
    if not file.is_file():
        raise click.BadParameter(f"{file} is not a readable file")
    return Offer(int(content_id), file, mimetypes.guess_type(file.name)[0] or "application/octet-stream")


@click.command("serve-content")
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
@click.option("--facilitator", "facilitator_account", default=None, metavar="ACCOUNT",
              help="Also take x402 `exact` payments (EIP-3009), settled by this account (it pays the gas; "
                   "its key in CHAINPAY_PRIVATE_KEYS); serves the facilitator at /facilitator too.")
@click.option("--refundable", "refundable", multiple=True, type=int, metavar="CONTENT_ID",
              help="x402 exact payments for this listing settle into the revocable-transfer escrow (repeatable).")
@click.option("--channel-state-ttl", type=click.FloatRange(min=0, max=60), default=1.0, show_default=True,
              help="Seconds a channel's on-chain state is reused between vouchers (0: read it for every voucher).")
def serve_content(manifest: Path, port: int, host: str, provider: str, offers: tuple[str, ...], db: Path,
                  redeem_every: float, facilitator_account: str | None, refundable: tuple[int, ...],
                  channel_state_ttl: float):
    """HTTP paywall speaking x402: GET /content/ID answers 402 with PAYMENT-REQUIRED (channel vouchers,
    and exact payments with --facilitator), or the content for a valid payment."""
    from dataclasses import replace

    from ..content.parties import ContentProvider
    from ..content.paywall import create_app, run_server
    from ..content.store import VoucherStore
    from ..x402 import Facilitator

    parsed = {o.content_id: o for o in (_parse_offer(v) for v in offers)}
    for content_id in refundable:
        if content_id not in parsed:
            raise click.BadParameter(f"--refundable {content_id} names no --offer", param_hint="--refundable")
        parsed[content_id] = replace(parsed[content_id], refundable=True)
    check_writable_file(db, "voucher database")
    system = load_system(manifest)
    if system.channels is None or system.catalogue is None:
        raise errors.ManifestError(f"{manifest} has no ContentCatalogue / PaymentChannels (deployed before issue 4?)")
    who = system.chain.account(int(provider) if provider.strip().isdigit() else provider)
    for content_id in parsed:
        listing = system.catalogue.get(content_id)
        if listing.provider != who.address:
            raise errors.InvalidInput(f"listing {content_id} belongs to {listing.provider}, not to {who.address}")
    facilitator = None
    if facilitator_account is not None:
        relayer = system.chain.account(int(facilitator_account) if facilitator_account.strip().isdigit()
                                       else facilitator_account)
        facilitator = Facilitator(system.currency, relayer, escrow=system.transfers)
    elif refundable:
        raise click.BadParameter("refundable payments are x402 exact payments: pass --facilitator too",
                                 param_hint="--refundable")
    store = VoucherStore(db)
    app_ = create_app(ContentProvider(system.channels, who, store), system.catalogue, parsed, redeem_every=redeem_every,
                      facilitator=facilitator, channel_state_ttl=channel_state_ttl)
    console.print(f"paywall for {len(parsed)} listing(s) on http://{host}:{port}/content/ID (vouchers in {db})")
    try:
        run_server(app_, host, port)
    finally:
        store.close()
