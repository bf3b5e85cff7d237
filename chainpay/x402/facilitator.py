"""An x402 facilitator for chainpay's permissioned currency: ``verify``, ``settle`` and ``supported``
for the ``exact`` scheme (EIP-3009 ``transferWithAuthorization``), as an object and as an HTTP app
(``POST /verify``, ``POST /settle``, ``GET /supported``, answering the x402 v2 JSON).

verify checks the payment against the requirement (scheme, network, asset, payee, amount, the EIP-712
domain's name and version, the validity window against the chain's clock) and then dry-runs the
authorization on chain from the facilitator's account: the currency itself answers whether the
signature is good, the nonce unused, the payer and payee registered and not frozen, the currency not
paused and the payer's identity within its daily limit. Each refusal is an x402 error code naming the
reason (chainpay's own codes for the registry's refusals); nothing is sent. settle verifies again and
sends the authorization.

Refundable payments (an offer the server marks refundable, or any payment at or above the escrow's
second-approval threshold, when the facilitator has the revocable-transfer escrow): the requirement's
``payTo`` is the facilitator itself and its ``extra`` names the escrow and the real recipient. settle
dry-runs both legs, then sends the authorization (payer -> facilitator) and at once the escrow transfer
(facilitator -> recipient, memo ``x402 refundable for <payer>``); within the cooling-off,
:meth:`Facilitator.refund` revokes it and pays the payer back. The facilitator is the escrow's sender on
chain (the currency's escrow pull takes only from the caller; an authorization-funded escrow send would
need a contract change), so the payer's dispute goes through the facilitator, which holds the money for
the window: a custodial step, said as such.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import Any

from ..chain import AccountLike, Receipt
from ..core import errors
from ..currency.token import Authorization, Currency, Signature
from ..transfers.client import Transfers
from . import protocol as p

log = logging.getLogger(__name__)

MIN_VALIDITY = 6  # seconds an authorization must still be valid for (as the x402 SDK's facilitator)


class Facilitator:
    """Verifies and settles x402 ``exact`` payments in chainpay's currency, sending from `account`
    (which pays the gas). `lock` serialises chain access with others sharing an in-process chain."""

    def __init__(self, currency: Currency, account: AccountLike, *, lock: threading.RLock | None = None,
                 escrow: Transfers | None = None):
        self.currency = currency
        self.account = currency.chain.account(account)
        self.network = p.network_of(currency.chain.chain_id)
        self.lock = lock or threading.RLock()
        self.escrow = escrow
        self.settled: deque[Receipt] = deque(maxlen=100_000)  # the latest settlements sent (for accounting)
        self.escrowed: dict[int, tuple[str, int]] = {}  # escrow transfer id -> (payer, amount), this run's

    # ------------------------------------------------------------- x402
    def supported(self) -> dict:
        return {"kinds": [{"x402Version": p.X402_VERSION, "scheme": p.EXACT, "network": self.network,
                           "extra": self.domain_extra()}],
                "extensions": [], "signers": {"eip155:*": [self.account.address]}}

    def domain_extra(self) -> dict:
        """The currency's EIP-712 name and version: what an x402 client signs under."""
        return {"name": self.currency.name, "version": "1"}

    def requirement(self, pay_to: str, amount: int, *, max_timeout_seconds: int = 300, refundable: bool = False
                    ) -> p.Requirement:
        """The ``exact`` requirement for `amount` base units of the currency to `pay_to`; refundable
        (asked, or at or above the escrow's second-approval threshold) when this facilitator has the
        escrow: then it is paid to the facilitator, which settles into the escrow for `pay_to`."""
        extra = self.domain_extra()
        if self.escrow is not None and (refundable or amount >= self.currency.to_units(self.escrow.approval_threshold())):
            extra.update(refundable=True, escrow=self.escrow.address, recipient=pay_to)
            pay_to = self.account.address
        return p.Requirement(p.EXACT, self.network, self.currency.address, amount, pay_to, max_timeout_seconds, extra)

    def verify(self, payment: dict, requirement: dict) -> dict:
        """x402 VerifyResponse: valid, or the reason it is not (nothing is sent either way)."""
        try:
            auth = self.check(payment, requirement)
        except p.X402Refused as exc:
            return p.verify_response(False, payer=exc.payer, reason=exc.reason, message=exc.message)
        return p.verify_response(True, payer=auth.sender)

    def settle(self, payment: dict, requirement: dict) -> dict:
        """x402 SettleResponse: the authorization verified and sent (its transaction hash), or refused
        before anything was sent with the reason, or failed on chain with the currency's error."""
        try:
            auth = self.check(payment, requirement)
        except p.X402Refused as exc:
            return p.settle_response(False, network=self.network, payer=exc.payer, error_reason=exc.reason,
                                     error_message=exc.message)
        recipient = self._escrow_recipient(requirement)
        try:
            with self.lock:
                if recipient is not None:  # both legs dry-run before anything is sent
                    self._preflight_escrow(recipient, auth.value)
                receipt = self.currency.transfer_with_authorization(auth, sender=self.account)
        except errors.ContractRevert as exc:  # the escrow leg refused, or a race lost since the dry run
            reason, message = _refusal(exc, auth)
            return p.settle_response(False, network=self.network, payer=auth.sender, error_reason=reason,
                                     error_message=message, transaction=exc.tx_hash or "")
        self.settled.append(receipt)
        extra: dict[str, Any] = {"gasUsed": receipt.gas_used}
        if recipient is not None:
            extra.update(self._into_escrow(auth, recipient))
        return p.settle_response(True, network=self.network, transaction=receipt.tx_hash, payer=auth.sender,
                                 amount=auth.value, extra=extra)

    # ------------------------------------------------------------- refundable payments
    def _escrow_recipient(self, requirement: dict) -> str | None:
        extra = requirement.get("extra") or {}
        if not extra.get("refundable"):
            return None
        if self.escrow is None or str(extra.get("escrow", "")).lower() != self.escrow.address.lower():
            raise p.X402Refused(p.UNSUPPORTED_SCHEME, "a refundable payment names an escrow this facilitator lacks")
        return _address(extra.get("recipient"))

    def _preflight_escrow(self, recipient: str, units: int) -> None:
        """The escrow leg's dry run. The facilitator holds the money only once the authorization is
        settled, so a shortfall of at most `units` is expected: the currency checks the balance last
        (after pause, registry and daily limit), so that error alone means every other check passed."""
        try:
            self.escrow.preflight_send(self.account, recipient, units)
        except errors.ContractRevert as exc:
            if type(exc).__name__ != "ERC20InsufficientBalance" or exc.balance + units < exc.needed:
                raise

    def _into_escrow(self, auth: Authorization, recipient: str) -> dict:
        amount = self.currency.from_units(auth.value)
        with self.lock:
            try:
                record = self.escrow.send(recipient, amount, sender=self.account, memo=f"x402 refundable for {auth.sender}")
            except errors.ChainpayError:  # the preflight passed a moment ago: give the money straight back
                log.exception("escrow leg failed after the authorization settled: refunding %s", auth.sender)
                back = self.currency.transfer(auth.sender, amount, sender=self.account)
                return {"escrow": "failed", "refundTransaction": back.tx_hash}
        self.escrowed[record.id] = (auth.sender, auth.value)
        return {"escrowTransferId": record.id, "escrowTransaction": record.receipt.tx_hash,
                "escrowState": str(record.state), "releaseAt": record.release_at, "recipient": recipient}

    def refund(self, transfer_id: int) -> tuple[Receipt, Receipt]:
        """Revoke a refundable payment's escrow transfer (within its cooling-off: the escrow's own errors
        otherwise) and pay its payer back; returns (revoke receipt, refund receipt)."""
        payer, units = self.escrowed.get(transfer_id) or self._escrowed_on_chain(transfer_id)
        with self.lock:  # the revoke's dry run first: past the window its error, and nothing sent
            revoke = self.escrow.artifact.fn("revoke").encode([transfer_id])
            self.escrow.chain.call(self.escrow.address, revoke, sender=self.account)
            revoked = self.escrow.revoke(transfer_id, sender=self.account)
            back = self.currency.transfer(payer, self.currency.from_units(units), sender=self.account)
        self.escrowed.pop(transfer_id, None)
        return revoked.receipt, back

    def _escrowed_on_chain(self, transfer_id: int) -> tuple[str, int]:
        """(payer, amount) of a refundable payment sent before this process started: from the escrow
        transfer itself (sent by this facilitator, memo naming the payer)."""
        with self.lock:
            record = self.escrow.get(transfer_id)
        prefix = "x402 refundable for "
        if record.sender != self.account.address or not record.memo.startswith(prefix):
            raise errors.InvalidInput(f"escrow transfer {transfer_id} is not a refundable x402 payment of this facilitator")
        return _address(record.memo[len(prefix):]), self.currency.to_units(record.amount)

    # ------------------------------------------------------------- checks
    def check(self, payment: dict, requirement: dict) -> Authorization:
        """The payment's authorization if it pays `requirement` and the chain would take it now;
        X402Refused with the x402 reason otherwise."""
        auth = parse_authorization(payment)
        payer = auth.sender
        accepted = payment.get("accepted", {})
        req = requirement if isinstance(requirement, dict) else {}
        if accepted.get("scheme") != p.EXACT or req.get("scheme") != p.EXACT:
            raise p.X402Refused(p.UNSUPPORTED_SCHEME, f"this facilitator settles {p.EXACT!r} payments", payer)
        if accepted.get("network") != self.network or req.get("network") != self.network:
            raise p.X402Refused(p.NETWORK_MISMATCH, f"this facilitator settles on {self.network}, the payment names "
                                                    f"{accepted.get('network')!r}", payer)
        for side in (accepted, req):
            if str(side.get("asset", "")).lower() != self.currency.address.lower():
                raise p.X402Refused(p.ASSET_MISMATCH, f"the asset is {side.get('asset')!r}, this facilitator settles "
                                                      f"{self.currency.symbol} at {self.currency.address}", payer)
        if str(req.get("payTo", "")).lower() != auth.to.lower() or str(accepted.get("payTo", "")).lower() != auth.to.lower():
            raise p.X402Refused(p.RECIPIENT_MISMATCH, f"the authorization pays {auth.to}, the requirement "
                                                      f"{req.get('payTo')!r}", payer)
        if str(auth.value) != str(req.get("amount")) or str(auth.value) != str(accepted.get("amount")):
            raise p.X402Refused(p.VALUE_MISMATCH, f"the authorization moves {auth.value}, the requirement asks "
                                                  f"{req.get('amount')!r}", payer)
        extra = accepted.get("extra") or {}
        if extra.get("name", self.currency.name) != self.currency.name:
            raise p.X402Refused(p.TOKEN_NAME_MISMATCH, f"signed for a token named {extra.get('name')!r}", payer)
        if str(extra.get("version", "1")) != "1":
            raise p.X402Refused(p.TOKEN_VERSION_MISMATCH, f"signed for EIP-712 version {extra.get('version')!r}", payer)
        with self.lock:
            now = self.currency.chain.now
            if auth.valid_before < now + MIN_VALIDITY:
                raise p.X402Refused(p.VALID_BEFORE_EXPIRED, f"valid before {auth.valid_before}, the chain's clock is "
                                                            f"{now}", payer)
            if auth.valid_after > now:
                raise p.X402Refused(p.VALID_AFTER_FUTURE, f"valid only after {auth.valid_after}, the chain's clock "
                                                          f"is {now}", payer)
            try:  # the currency decides: signature, nonce, registry, pause, daily limit
                self.currency.chain.call(self.currency.address, _calldata(self.currency, auth), sender=self.account)
            except errors.ContractRevert as exc:
                raise p.X402Refused(*_refusal(exc, auth), payer) from None
        return auth


def parse_authorization(payment: dict) -> Authorization:
    """An ``exact`` payload's EIP-3009 authorization; X402Refused(invalid_payload) if malformed."""
    body = payment.get("payload") if isinstance(payment, dict) else None
    try:
        raw, sig = body["authorization"], bytes.fromhex(str(body["signature"]).removeprefix("0x"))
        frm, to = _address(raw["from"]), _address(raw["to"])
        value, after, before = int(raw["value"]), int(raw["validAfter"]), int(raw["validBefore"])
        nonce = bytes.fromhex(str(raw["nonce"]).removeprefix("0x"))
    except (KeyError, TypeError, ValueError):
        raise p.X402Refused(p.INVALID_PAYLOAD, "an exact payload is {authorization: {from, to, value, validAfter, "
                                               "validBefore, nonce}, signature}") from None
    if len(sig) != 65 or len(nonce) != 32 or min(value, after, before) < 0 or max(value, after, before) >= 2**256:
        raise p.X402Refused(p.INVALID_PAYLOAD, "a 65-byte signature, a 32-byte nonce and uint256 numbers", frm)
    v = sig[64] + 27 if sig[64] < 27 else sig[64]
    return Authorization("transfer", frm, to, value, after, before, nonce, Signature(v, sig[:32], sig[32:64]))


def _address(value: Any) -> str:
    from eth_utils import is_address, to_checksum_address

    if not isinstance(value, str) or not is_address(value):
        raise ValueError(value)
    return to_checksum_address(value)


def _calldata(currency: Currency, auth: Authorization) -> bytes:
    sig = auth.signature
    return currency.artifact.fn("transferWithAuthorization").encode(
        [auth.sender, auth.to, auth.value, auth.valid_after, auth.valid_before, auth.nonce, sig.v, sig.r, sig.s])


def _refusal(exc: errors.ContractRevert, auth: Authorization) -> tuple[str, str]:
    """The x402 reason for a currency revert, with the typed error in the message."""
    name = type(exc).__name__
    account = str(getattr(exc, "account", "")).lower()
    party = "payer" if account == auth.sender.lower() else "payee"
    reasons = {"ERC3009InvalidSignature": p.INVALID_SIGNATURE, "ECDSAInvalidSignature": p.INVALID_SIGNATURE,
               "ECDSAInvalidSignatureS": p.INVALID_SIGNATURE, "ECDSAInvalidSignatureLength": p.INVALID_SIGNATURE,
               "ERC3009UsedAuthorization": p.NONCE_ALREADY_USED, "ERC20InsufficientBalance": p.INSUFFICIENT_BALANCE,
               "EnforcedPause": p.CURRENCY_PAUSED, "DailyLimitExceeded": p.DAILY_LIMIT_EXCEEDED,
               "NotRegistered": p.PAYER_NOT_REGISTERED if party == "payer" else p.PAYEE_NOT_REGISTERED,
               "AddressFrozen": p.PAYER_FROZEN if party == "payer" else p.PAYEE_FROZEN,
               "IdentityFrozen": p.PAYER_FROZEN if party == "payer" else p.PAYEE_FROZEN}
    if name == "ERC3009InvalidAuthorizationTime":
        return p.VALID_BEFORE_EXPIRED, f"the currency refused the validity window: {exc}"
    return reasons.get(name, p.SIMULATION_FAILED), f"the currency refused the authorization: {exc}"


def create_facilitator_app(facilitator: Facilitator):
    """The facilitator as an ASGI app: POST /verify and /settle take {x402Version, paymentPayload,
    paymentRequirements}; GET /supported. Answers 200 with the x402 JSON (400 for an unreadable body)."""
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def body_of(request: Request) -> tuple[dict, dict] | JSONResponse:
        try:
            body = await request.json()
            payment, requirement = body["paymentPayload"], body["paymentRequirements"]
            if not isinstance(payment, dict) or not isinstance(requirement, dict):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": p.INVALID_PAYLOAD, "message": "the body is {x402Version, paymentPayload, "
                                                                        "paymentRequirements}"}, status_code=400)
        return payment, requirement

    async def verify(request: Request):
        parsed = await body_of(request)
        if isinstance(parsed, JSONResponse):
            return parsed
        return JSONResponse(await run_in_threadpool(facilitator.verify, *parsed))

    async def settle(request: Request):
        parsed = await body_of(request)
        if isinstance(parsed, JSONResponse):
            return parsed
        return JSONResponse(await run_in_threadpool(facilitator.settle, *parsed))

    async def supported(request: Request):
        return JSONResponse(await run_in_threadpool(facilitator.supported))

    return Starlette(routes=[Route("/verify", verify, methods=["POST"]), Route("/settle", settle, methods=["POST"]),
                             Route("/supported", supported, methods=["GET"])])
