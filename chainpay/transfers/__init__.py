"""Time-locked revocable transfers (contracts/transfers): the escrow's client."""

from .client import MAX_MEMO_BYTES, Delivery, TransferRecord, Transfers, TransferState

__all__ = ["MAX_MEMO_BYTES", "Delivery", "TransferRecord", "TransferState", "Transfers"]
