"""An HTTP paywall over micropayment channels (starlette + uvicorn) and the client that pays it.

``GET /content/{id}`` without payment answers 402 Payment Required with the price and the channel
terms as JSON. With a voucher in the ``X-Chainpay-Voucher`` header (``<channel id>:<cumulative
amount>:<signature>``) the provider checks it, commits it to sqlite, and only then serves the content;
a refused voucher gets a 4xx with the reason and no content. The server looks at the chain and
redeems its vouchers periodically and once more on shutdown.

Chain access is serialised with one lock (``lock=``): the in-process eth-tester chain is not
thread-safe, and request handlers run in worker threads. A caller that shares the chain with a
running server passes the same lock to :class:`PaywallClient` and takes it for its own chain calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

import httpx
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..core import errors
from ..core.money import Amount
from .catalogue import Catalogue
from .parties import ContentClient, ContentProvider, VoucherRefused
from .vouchers import SignedVoucher

log = logging.getLogger(__name__)

VOUCHER_HEADER = "X-Chainpay-Voucher"
VOUCHER_FORMAT = "<channel id hex>:<cumulative amount in base units>:<signature hex (r, s, v)>"

# Refusal code -> HTTP status: 402 when more money would fix it, 409 for a voucher that does not
# raise the amount (a replay or an out-of-order request), 403 for one that can never pay here.
_STATUS = {"underpaid": 402, "over_deposit": 402, "stale": 409, "malformed": 400}


@dataclass(frozen=True)
class Offer:
    """What one listing serves: a file read on each paid request."""

    content_id: int
    path: Path
    media_type: str = "application/octet-stream"


def create_app(provider: ContentProvider, catalogue: Catalogue, offers: dict[int, Offer], *,
               redeem_every: float = 60.0, redeem_on_shutdown: bool = True,
               lock: threading.RLock | None = None) -> Starlette:
    """The paywall as an ASGI app; redeems every `redeem_every` seconds and on shutdown
    (redeem_on_shutdown=False leaves that to the next start, as after a crash)."""
    lock = lock or threading.RLock()
    channels = provider.channels

    def locked(fn: Callable, *args, **kwargs):
        with lock:
            return fn(*args, **kwargs)

    def terms(content_id: int) -> dict:
        listing = catalogue.get(content_id)
        currency = channels.currency
        return {"content_id": content_id, "unit_price": str(listing.unit_price),
                "unit_price_units": currency.to_units(listing.unit_price), "unit": str(listing.kind),
                "available": listing.available, "currency": currency.symbol, "decimals": currency.decimals,
                "provider": listing.provider, "channels_contract": channels.address, "chain_id": channels.chain.chain_id,
                "challenge_period": channels.challenge_period, "voucher_header": VOUCHER_HEADER,
                "voucher_format": VOUCHER_FORMAT}

    def settle_up() -> None:
        provider.watch()
        provider.redeem()

    async def content(request: Request) -> Response:
        content_id = request.path_params["content_id"]
        offer = offers.get(content_id)
        if offer is None:
            return JSONResponse({"error": "not_found", "reason": f"no content {content_id} here"}, status_code=404)
        header = request.headers.get(VOUCHER_HEADER)
        if header is None:
            offered = await run_in_threadpool(locked, terms, content_id)
            return JSONResponse({"error": "payment_required", "reason": "pay with a channel voucher", **offered},
                                status_code=402)
        try:
            voucher = SignedVoucher.from_header(header)
            accepted = await run_in_threadpool(locked, provider.accept, voucher, content_id=content_id, units=1)
        except errors.InvalidInput as exc:
            return JSONResponse({"error": "malformed", "reason": str(exc)}, status_code=400)
        except VoucherRefused as exc:
            status = _STATUS.get(exc.code, 403)
            body = {"error": exc.code, "reason": exc.reason}
            if status == 402:
                body.update(await run_in_threadpool(locked, terms, content_id))
            return JSONResponse(body, status_code=status)
        # The voucher is committed to sqlite: only now is the content served.
        body = await run_in_threadpool(offer.path.read_bytes)
        return Response(body, media_type=offer.media_type,
                        headers={"X-Chainpay-Paid": str(accepted.amount), "X-Chainpay-Remaining": str(accepted.remaining)})

    @contextlib.asynccontextmanager
    async def lifespan(app):
        async def every():
            while True:
                await asyncio.sleep(redeem_every)
                try:
                    await run_in_threadpool(locked, settle_up)
                except Exception:  # a node hiccup must not stop the server; the next round retries
                    log.exception("periodic redemption failed")

        await run_in_threadpool(locked, settle_up)  # whatever a previous run left unredeemed
        task = asyncio.create_task(every())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            if redeem_on_shutdown:
                await run_in_threadpool(locked, settle_up)
                log.info("redeemed on shutdown")

    return Starlette(routes=[Route("/content/{content_id:int}", content)], lifespan=lifespan)


class PaymentRefused(errors.ChainpayError):
    """The server refused the voucher (or its terms are not payable by this client)."""

    def __init__(self, status: int, code: str, reason: str):
        super().__init__(f"{code}: {reason} (HTTP {status})")
        self.status, self.code, self.reason = status, code, reason


class PaywallClient:
    """Fetches paywalled content, paying each request with a voucher; opens a channel (with a
    deposit for `deposit_uses` uses) on the first 402 from a provider it has no channel with."""

    def __init__(self, content: ContentClient, *, deposit_uses: int = 100, max_unit_price: Amount | None = None,
                 lock: threading.RLock | None = None, http: httpx.Client | None = None):
        content.require_key()  # it signs a voucher per request: refuse now, before any channel is paid for
        if isinstance(deposit_uses, bool) or not isinstance(deposit_uses, int) or deposit_uses < 1:
            raise errors.InvalidInput(f"deposit_uses is a positive whole number, got {deposit_uses!r}")
        self.content = content
        self.deposit_uses = deposit_uses
        currency = content.channels.currency
        self.max_unit_price = None if max_unit_price is None else currency.to_units(max_unit_price)
        self._lock = lock or threading.RLock()
        self._http = http or httpx.Client(timeout=30)
        self._terms: dict[str, dict] = {}  # by URL

    def close(self) -> None:
        self._http.close()

    def get(self, url: str) -> httpx.Response:
        """The content at `url`, paid for; PaymentRefused if the server will not take the voucher."""
        terms = self._terms.get(url)
        if terms is None:
            first = self._http.get(url)
            if first.status_code != 402:
                return first
            terms = self._terms[url] = self._check_terms(first.json(), url)
        key = self._channel(terms)
        with self._lock:
            voucher = self.content.pay(key)
        response = self._http.get(url, headers={VOUCHER_HEADER: voucher.to_header()})
        if response.status_code != 200:
            try:
                body = response.json()
            except ValueError:
                body = {}
            raise PaymentRefused(response.status_code, body.get("error", "refused"), body.get("reason", response.text))
        return response

    def _check_terms(self, terms: dict, url: str) -> dict:
        channels = self.content.channels
        try:
            chain_id, contract, price = terms["chain_id"], terms["channels_contract"], int(terms["unit_price_units"])
            content_id, provider = int(terms["content_id"]), terms["provider"]
        except (KeyError, TypeError, ValueError):
            raise PaymentRefused(402, "bad_terms", f"{urlsplit(url).netloc} sent payment terms chainpay cannot read") from None
        if chain_id != channels.chain.chain_id or contract.lower() != channels.address.lower():
            raise PaymentRefused(402, "other_chain", f"the server takes payment on contract {contract} of chain "
                                                     f"{chain_id}, this client pays on {channels.address} of chain "
                                                     f"{channels.chain.chain_id}")
        if self.max_unit_price is not None and price > self.max_unit_price:
            raise PaymentRefused(402, "too_expensive", f"the price per unit ({terms.get('unit_price')}) is above "
                                                       "this client's maximum")
        return {"content_id": content_id, "provider": provider, "unit_price_units": price}

    def _channel(self, terms: dict):
        key = self.content.channel_for(terms["content_id"], terms["provider"])
        if key is None:
            currency = self.content.channels.currency
            deposit = currency.from_units(terms["unit_price_units"] * self.deposit_uses)
            with self._lock:
                # The channel may lock in no more than this client accepts (or the offer's price).
                bound = self.max_unit_price if self.max_unit_price is not None else terms["unit_price_units"]
                key = self.content.open(terms["content_id"], deposit, max_unit_price=currency.from_units(bound))
            if key.unit_price != terms["unit_price_units"]:
                log.info("price changed between the offer and the opening: the channel pays %s", key.unit_price)
        return key


def run_server(app: Starlette, host: str, port: int) -> None:
    """Serve until interrupted (uvicorn; shutdown runs the final redemption)."""
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level="warning", lifespan="on")
