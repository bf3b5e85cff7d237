"""x402 (HTTP 402 payments, version 2) for chainpay: the wire format (protocol.py) and a facilitator
that verifies and settles ``exact`` payments in chainpay's permissioned currency (facilitator.py).
The paywall that speaks it is chainpay.content.paywall; the channel-voucher scheme is
chainpay.content.x402_channel."""

from .facilitator import Facilitator, create_facilitator_app
from .protocol import CHANNEL, EXACT, PAYMENT_REQUIRED, PAYMENT_RESPONSE, PAYMENT_SIGNATURE, X402Refused, network_of

__all__ = ["Facilitator", "create_facilitator_app", "CHANNEL", "EXACT", "PAYMENT_REQUIRED", "PAYMENT_RESPONSE",
           "PAYMENT_SIGNATURE", "X402Refused", "network_of"]
