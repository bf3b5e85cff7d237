"""chainpay's channel vouchers as an x402 scheme (``chainpay-channel``), and a client that pays with it.

The requirement names the currency (``asset``), the provider (``payTo``) and the price of one request
(``amount``, base units); its ``extra`` names the PaymentChannels contract, the listing and the
voucher's EIP-712 domain. The payload is one cumulative voucher of an open channel to that listing:
``{"channelId": "0x..", "cumulativeAmount": "<base units>", "signature": "0x<r s v>"}``. The server stores
it (group commit) before serving and redeems vouchers in batches; its ``PAYMENT-RESPONSE`` carries no
transaction but the voucher's stored state (``extra``: channel, cumulative amount, deposit remaining).
"""

from __future__ import annotations

import logging
import threading

import httpx

from ..core import errors
from ..x402 import protocol as p
from .channels import ChannelKey, Channels
from .parties import ContentClient
from .vouchers import DOMAIN_NAME, DOMAIN_VERSION, SignedVoucher

log = logging.getLogger(__name__)


def channel_requirement(channels: Channels, provider: str, content_id: int, unit_price: int, *,
                        max_timeout_seconds: int = 300) -> p.Requirement:
    """The ``chainpay-channel`` way to pay one request of listing `content_id`."""
    return p.Requirement(p.CHANNEL, p.network_of(channels.chain.chain_id), channels.currency.address, unit_price,
                         provider, max_timeout_seconds,
                         {"channels": channels.address, "contentId": content_id,
                          "challengePeriod": channels.challenge_period,
                          "voucher": "Voucher(bytes32 channelId,uint256 cumulativeAmount)",
                          "domain": {"name": DOMAIN_NAME, "version": DOMAIN_VERSION}})


def voucher_payload(voucher: SignedVoucher) -> dict:
    return {"channelId": "0x" + voucher.channel_id.hex(), "cumulativeAmount": str(voucher.amount),
            "signature": "0x" + voucher.signature.hex()}


def parse_voucher(payment: dict) -> SignedVoucher:
    """The voucher in a ``chainpay-channel`` payment; X402Refused(invalid_payload) if malformed."""
    body = payment.get("payload", {})
    try:
        header = f"{body['channelId']}:{body['cumulativeAmount']}:{body['signature']}"
        return SignedVoucher.from_header(header)
    except (KeyError, TypeError, errors.InvalidInput) as exc:
        raise p.X402Refused(p.INVALID_PAYLOAD, f"a chainpay-channel payload is {{channelId, cumulativeAmount, "
                                               f"signature}}: {exc}") from None


class X402Refusal(errors.ChainpayError):
    """The server refused an x402 payment: `reason` is its x402 error code."""

    def __init__(self, status: int, reason: str, message: str = ""):
        super().__init__(f"{reason}: {message} (HTTP {status})" if message else f"{reason} (HTTP {status})")
        self.status, self.reason, self.message = status, reason, message


class X402ChannelClient:
    """Fetches x402-paywalled content paying with chainpay channel vouchers: on the first 402 it picks
    the ``chainpay-channel`` requirement of its own chain and contract, opens a channel for
    `deposit_uses` requests (the price bounded by `max_unit_price` base units, default the offer's),
    and pays each request with the next cumulative voucher in ``PAYMENT-SIGNATURE``."""

    def __init__(self, content: ContentClient, *, deposit_uses: int = 100, max_unit_price: int | None = None,
                 lock: threading.RLock | None = None, http: httpx.Client | None = None):
        content.require_key()
        if isinstance(deposit_uses, bool) or not isinstance(deposit_uses, int) or deposit_uses < 1:
            raise errors.InvalidInput(f"deposit_uses is a positive whole number, got {deposit_uses!r}")
        self.content, self.deposit_uses, self.max_unit_price = content, deposit_uses, max_unit_price
        self._lock = lock or threading.RLock()
        self._http = http or httpx.Client(timeout=30)
        self._offers: dict[str, dict] = {}  # by URL: the requirement chosen

    def close(self) -> None:
        self._http.close()

    def get(self, url: str) -> httpx.Response:
        """The content at `url`, paid with a voucher; X402Refusal if the server refuses it."""
        accepted = self._offers.get(url)
        if accepted is None:
            first = self._http.get(url)
            if first.status_code != 402:
                return first
            accepted = self._offers[url] = self._choose(first, url)
        key = self._channel(accepted)
        with self._lock:
            voucher = self.content.pay(key)
        payment = {"x402Version": p.X402_VERSION, "accepted": accepted, "payload": voucher_payload(voucher)}
        response = self._http.get(url, headers={p.PAYMENT_SIGNATURE: p.encode(payment)})
        if response.status_code != 200:
            required = response.headers.get(p.PAYMENT_REQUIRED)
            reason = p.decode(required).get("error", "refused") if required else "refused"
            raise X402Refusal(response.status_code, reason, response.text[:300])
        return response

    def _choose(self, response: httpx.Response, url: str) -> dict:
        header = response.headers.get(p.PAYMENT_REQUIRED)
        if not header:
            raise X402Refusal(402, "not_x402", f"{url} answered 402 without a {p.PAYMENT_REQUIRED} header")
        channels = self.content.channels
        network = p.network_of(channels.chain.chain_id)
        for req in p.decode(header).get("accepts", []):
            extra = req.get("extra") or {}
            if req.get("scheme") == p.CHANNEL and req.get("network") == network \
                    and str(extra.get("channels", "")).lower() == channels.address.lower():
                if self.max_unit_price is not None and int(req["amount"]) > self.max_unit_price:
                    raise X402Refusal(402, "too_expensive", f"{req['amount']} base units per request is above "
                                                            f"this client's maximum {self.max_unit_price}")
                return req
        raise X402Refusal(402, p.UNSUPPORTED_SCHEME, f"{url} offers no {p.CHANNEL} payment on {network} at "
                                                     f"{channels.address}")

    def _channel(self, accepted: dict) -> ChannelKey:
        content_id, provider = int(accepted["extra"]["contentId"]), accepted["payTo"]
        price = int(accepted["amount"])
        key = self.content.channel_for(content_id, provider)
        if key is None:
            currency = self.content.channels.currency
            bound = self.max_unit_price if self.max_unit_price is not None else price
            with self._lock:
                key = self.content.open(content_id, currency.from_units(price * self.deposit_uses),
                                        max_unit_price=currency.from_units(bound))
        return key
