"""The x402 version 2 wire format, as chainpay speaks it (no dependency on the x402 SDK).

An unpaid request gets HTTP 402 with a ``PAYMENT-REQUIRED`` header: base64 of the JSON
``{"x402Version": 2, "error", "resource", "accepts": [requirements, ...]}``. Each requirement names a
``scheme``, a ``network`` (``eip155:<chain id>``), an ``asset`` (the currency's address), an ``amount``
in base units (a decimal string), ``payTo``, ``maxTimeoutSeconds`` and a scheme's ``extra``. The client
answers with ``PAYMENT-SIGNATURE``: base64 of ``{"x402Version": 2, "accepted": <the requirement it
chose>, "payload": {...}}``; a paid response carries ``PAYMENT-RESPONSE``: base64 of the settlement
``{"success", "transaction", "network", "payer", "amount", "errorReason"?, "extra"?}``.

Two schemes are offered:
- ``exact`` (the x402 standard for EVM): the payload is one EIP-3009 ``transferWithAuthorization`` signed
  under the currency's EIP-712 domain, whose ``name`` and ``version`` travel in ``extra``;
- ``chainpay-channel``: the payload is a cumulative voucher of a chainpay micropayment channel
  (``{"channelId", "cumulativeAmount", "signature"}``), stored by the provider and redeemed in batches.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from ..core import errors

X402_VERSION = 2
PAYMENT_REQUIRED = "PAYMENT-REQUIRED"
PAYMENT_SIGNATURE = "PAYMENT-SIGNATURE"
PAYMENT_RESPONSE = "PAYMENT-RESPONSE"
EXACT = "exact"
CHANNEL = "chainpay-channel"

# Refusal reasons. The x402 SDK's own names where one exists (mechanisms/evm/constants.py), chainpay's
# for what only a permissioned currency refuses.
INVALID_PAYLOAD = "invalid_payload"
UNSUPPORTED_SCHEME = "unsupported_scheme"
NETWORK_MISMATCH = "network_mismatch"
ASSET_MISMATCH = "invalid_exact_evm_asset_mismatch"
RECIPIENT_MISMATCH = "invalid_exact_evm_payload_recipient_mismatch"
VALUE_MISMATCH = "invalid_exact_evm_payload_authorization_value_mismatch"
VALID_BEFORE_EXPIRED = "invalid_exact_evm_payload_authorization_valid_before"
VALID_AFTER_FUTURE = "invalid_exact_evm_payload_authorization_valid_after"
INVALID_SIGNATURE = "invalid_exact_evm_payload_signature"
NONCE_ALREADY_USED = "invalid_exact_evm_nonce_already_used"
INSUFFICIENT_BALANCE = "invalid_exact_evm_insufficient_balance"
TOKEN_NAME_MISMATCH = "invalid_exact_evm_token_name_mismatch"
TOKEN_VERSION_MISMATCH = "invalid_exact_evm_token_version_mismatch"
SIMULATION_FAILED = "invalid_exact_evm_transaction_simulation_failed"
TRANSACTION_FAILED = "transaction_failed"
PAYER_NOT_REGISTERED = "chainpay_payer_not_registered"
PAYEE_NOT_REGISTERED = "chainpay_payee_not_registered"
PAYER_FROZEN = "chainpay_payer_frozen"
PAYEE_FROZEN = "chainpay_payee_frozen"
CURRENCY_PAUSED = "chainpay_currency_paused"
DAILY_LIMIT_EXCEEDED = "chainpay_daily_limit_exceeded"


class X402Refused(errors.ChainpayError):
    """A payment refused under x402: `reason` is the protocol's error code, `message` says why."""

    def __init__(self, reason: str, message: str, payer: str | None = None):
        super().__init__(f"{reason}: {message}")
        self.reason, self.message, self.payer = reason, message, payer


def network_of(chain_id: int) -> str:
    """The CAIP-2 name of an EVM chain: ``eip155:<chain id>``."""
    return f"eip155:{chain_id}"


def encode(obj: dict) -> str:
    """A header value: base64 of compact JSON."""
    return base64.b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode()


def decode(value: str) -> dict:
    """The JSON object in a header value; X402Refused(invalid_payload) if it is not one."""
    try:
        obj = json.loads(base64.b64decode(value.encode(), validate=True))
    except (binascii.Error, ValueError, UnicodeError) as exc:
        raise X402Refused(INVALID_PAYLOAD, f"the header is not base64 of JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise X402Refused(INVALID_PAYLOAD, "the header's JSON is not an object")
    return obj


@dataclass(frozen=True)
class Requirement:
    """One way to pay (x402 PaymentRequirements)."""

    scheme: str
    network: str
    asset: str
    amount: int  # base units
    pay_to: str
    max_timeout_seconds: int
    extra: dict

    def to_json(self) -> dict:
        return {"scheme": self.scheme, "network": self.network, "asset": self.asset, "amount": str(self.amount),
                "payTo": self.pay_to, "maxTimeoutSeconds": self.max_timeout_seconds, "extra": dict(self.extra)}

    def matches(self, accepted: Any) -> bool:
        """The client's `accepted` names this requirement (scheme, network, asset, amount, payee)."""
        if not isinstance(accepted, dict):
            return False
        return (accepted.get("scheme") == self.scheme and accepted.get("network") == self.network
                and str(accepted.get("asset", "")).lower() == self.asset.lower()
                and str(accepted.get("amount")) == str(self.amount)
                and str(accepted.get("payTo", "")).lower() == self.pay_to.lower())


def payment_required(accepts: list[Requirement], url: str, *, error: str = "payment required",
                     description: str | None = None, mime_type: str | None = None) -> dict:
    resource = {"url": url}
    if description:
        resource["description"] = description
    if mime_type:
        resource["mimeType"] = mime_type
    return {"x402Version": X402_VERSION, "error": error, "resource": resource, "accepts": [a.to_json() for a in accepts]}


def parse_payment(value: str) -> dict:
    """A PAYMENT-SIGNATURE header -> its payload object, checked for shape (version 2, an
    `accepted` requirement and a `payload` object)."""
    payment = decode(value)
    if payment.get("x402Version") != X402_VERSION:
        raise X402Refused(INVALID_PAYLOAD, f"x402Version {payment.get('x402Version')!r}: this server speaks version 2")
    if not isinstance(payment.get("accepted"), dict) or not isinstance(payment.get("payload"), dict):
        raise X402Refused(INVALID_PAYLOAD, "a payment carries an `accepted` requirement and a `payload` object")
    return payment


def settle_response(success: bool, *, network: str, transaction: str = "", payer: str | None = None,
                    amount: int | None = None, error_reason: str | None = None, error_message: str | None = None,
                    extra: dict | None = None) -> dict:
    out: dict[str, Any] = {"success": success, "transaction": transaction, "network": network}
    if payer is not None:
        out["payer"] = payer
    if amount is not None:
        out["amount"] = str(amount)
    if error_reason is not None:
        out["errorReason"] = error_reason
    if error_message is not None:
        out["errorMessage"] = error_message
    if extra:
        out["extra"] = extra
    return out


def verify_response(valid: bool, *, payer: str | None = None, reason: str | None = None,
                    message: str | None = None) -> dict:
    out: dict[str, Any] = {"isValid": valid}
    if payer is not None:
        out["payer"] = payer
    if reason is not None:
        out["invalidReason"] = reason
    if message is not None:
        out["invalidMessage"] = message
    return out
