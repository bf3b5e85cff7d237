"""An HTTP paywall that speaks x402 (starlette + uvicorn), and chainpay's own client of it.

``GET /content/{id}`` without payment answers 402 Payment Required with an x402 v2 ``PAYMENT-REQUIRED``
header offering two ways to pay: ``exact`` (one EIP-3009 authorization per request, settled on chain by
a :class:`~chainpay.x402.facilitator.Facilitator` before the content is served; offered when the app
has one) and ``chainpay-channel`` (a cumulative channel voucher, stored durably, redeemed in batches;
see x402_channel.py). The JSON body also carries chainpay's channel terms (the older protocol). A
``PAYMENT-SIGNATURE`` is verified, stored or settled, and only then is the content served, with a
``PAYMENT-RESPONSE`` header (the settlement's transaction, or the voucher's stored state); a refused
payment gets 402 with the x402 error code in ``PAYMENT-REQUIRED`` and a JSON reason, and no content.

The older header keeps working: with a voucher in ``X-Chainpay-Voucher`` (``<channel id>:<cumulative
amount>:<signature>``) a refused voucher gets a 4xx with the reason. The server looks at the chain and
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
from starlette.routing import Mount, Route

from ..core import errors
from ..core.money import Amount
from ..x402 import protocol as x402
from ..x402.facilitator import Facilitator, create_facilitator_app
from .catalogue import Catalogue
from .parties import ContentClient, ContentProvider, VoucherRefused
from .vouchers import SignedVoucher
from .x402_channel import channel_requirement, parse_voucher

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
    refundable: bool = False  # x402 exact payments settle into the revocable-transfer escrow (facilitator's)

    def body(self) -> bytes:
        """The file's bytes, re-read whenever its size or modification time changes."""
        stat = self.path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        cached = _BODIES.get(self.path)
        if cached is None or cached[0] != stamp:
            cached = _BODIES[self.path] = (stamp, self.path.read_bytes())
        return cached[1]


_BODIES: dict[Path, tuple[tuple[int, int], bytes]] = {}


def create_app(provider: ContentProvider, catalogue: Catalogue, offers: dict[int, Offer], *,
               facilitator: Facilitator | None = None, redeem_every: float = 60.0, redeem_on_shutdown: bool = True,
               lock: threading.RLock | None = None, max_timeout_seconds: int = 300,
               channel_state_ttl: float = 0.0) -> Starlette:
    """The paywall as an ASGI app; redeems every `redeem_every` seconds and on shutdown
    (redeem_on_shutdown=False leaves that to the next start, as after a crash). With a `facilitator`
    (chainpay's, on the same chain) it also offers x402 ``exact`` payments to the provider.
    `channel_state_ttl` lets the provider reuse a channel's on-chain state that long (ContentProvider.info_ttl)."""
    lock = lock or (facilitator.lock if facilitator is not None else threading.RLock())
    if facilitator is not None:
        facilitator.lock = lock  # one chain, one lock
    provider.chain_lock = lock
    provider.info_ttl = channel_state_ttl
    channels = provider.channels
    network = x402.network_of(channels.chain.chain_id)

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

    def requirements(content_id: int) -> tuple[dict, list[x402.Requirement]]:
        offered = terms(content_id)
        price, payee = offered["unit_price_units"], offered["provider"]
        accepts = [channel_requirement(channels, payee, content_id, price, max_timeout_seconds=max_timeout_seconds)]
        if facilitator is not None:
            accepts.insert(0, facilitator.requirement(payee, price, max_timeout_seconds=max_timeout_seconds,
                                                      refundable=offers[content_id].refundable))
        return offered, accepts

    async def payment_required(request: Request, content_id: int, error: str, reason: str,
                               status: int = 402) -> Response:
        offered, accepts = await run_in_threadpool(locked, requirements, content_id)
        offer = offers[content_id]
        required = x402.payment_required(accepts, str(request.url), error=error, mime_type=offer.media_type,
                                         description=f"content {content_id}")
        return JSONResponse({**required, "reason": reason, **offered}, status_code=status,
                            headers={x402.PAYMENT_REQUIRED: x402.encode(required)})

    def settle_exact(payment: dict, content_id: int) -> dict:
        with lock:
            listing = catalogue.get(content_id)
            requirement = facilitator.requirement(listing.provider, channels.currency.to_units(listing.unit_price),
                                                  max_timeout_seconds=max_timeout_seconds,
                                                  refundable=offers[content_id].refundable)
        # The facilitator compares what the payment accepted, and what it signed, with this content's terms.
        result = facilitator.settle(payment, requirement.to_json())
        if result["success"]:  # the chain has it; the provider's books get it before the content goes out
            provider.store.record_settlement(result["transaction"], result["payer"], content_id,
                                             int(result["amount"]))
        return result

    async def accept_voucher(payment: dict, content_id: int) -> dict:
        accepted = payment["accepted"]
        if accepted.get("network") != network:
            raise x402.X402Refused(x402.NETWORK_MISMATCH, f"this paywall takes payment on {network}")
        if str(accepted.get("asset", "")).lower() != channels.currency.address.lower():
            raise x402.X402Refused(x402.ASSET_MISMATCH, f"channels here pay in {channels.currency.address}")
        voucher = parse_voucher(payment)
        try:
            done = await provider.accept_async(voucher, content_id=content_id, units=1)
        except VoucherRefused as exc:
            raise x402.X402Refused(exc.code, exc.reason) from None
        return x402.settle_response(True, network=network, payer=done.key.consumer, amount=done.paid,
                                    extra={"scheme": x402.CHANNEL, "channelId": "0x" + done.key.id.hex(),
                                           "cumulativeAmount": str(done.amount), "remaining": str(done.remaining),
                                           "stored": True})

    async def pay_x402(request: Request, header: str, content_id: int) -> Response:
        try:
            payment = x402.parse_payment(header)
            scheme = payment["accepted"].get("scheme")
            if scheme == x402.CHANNEL:
                result = await accept_voucher(payment, content_id)
            elif scheme == x402.EXACT and facilitator is not None:
                result = await run_in_threadpool(settle_exact, payment, content_id)
            else:
                raise x402.X402Refused(x402.UNSUPPORTED_SCHEME, f"this paywall takes {x402.CHANNEL!r}"
                                       + (f" and {x402.EXACT!r}" if facilitator is not None else "") + " payments")
        except x402.X402Refused as exc:
            return await payment_required(request, content_id, exc.reason, exc.message)
        if not result["success"]:
            return await payment_required(request, content_id, result.get("errorReason", "refused"),
                                          result.get("errorMessage", ""))
        # Stored (voucher) or settled and recorded (exact): only now is the content served.
        offer = offers[content_id]
        return Response(offer.body(), media_type=offer.media_type, headers={x402.PAYMENT_RESPONSE: x402.encode(result)})

    def settle_up() -> None:
        provider.watch()
        provider.redeem()

    async def content(request: Request) -> Response:
        content_id = request.path_params["content_id"]
        offer = offers.get(content_id)
        if offer is None:
            return JSONResponse({"error": "not_found", "reason": f"no content {content_id} here"}, status_code=404)
        paid = request.headers.get(x402.PAYMENT_SIGNATURE)
        if paid is not None:
            return await pay_x402(request, paid, content_id)
        header = request.headers.get(VOUCHER_HEADER)
        if header is None:
            return await payment_required(request, content_id, "payment_required",
                                          "pay with x402 (PAYMENT-SIGNATURE) or a channel voucher")
        try:
            voucher = SignedVoucher.from_header(header)
            accepted = await run_in_threadpool(provider.accept, voucher, content_id=content_id, units=1)
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

    routes = [Route("/content/{content_id:int}", content)]
    if facilitator is not None:  # the same facilitator, for x402 resource servers elsewhere
        routes.append(Mount("/facilitator", app=create_facilitator_app(facilitator)))
    return Starlette(routes=routes, lifespan=lifespan)


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
