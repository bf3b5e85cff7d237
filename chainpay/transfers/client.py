"""Client of the time-locked revocable transfers (contracts/transfers/RevocableTransfers.sol).

A transfer waits in escrow for a cooling-off period; before it ends the sender may revoke, the
recipient may reject and either may dispute. Large transfers first wait for the sender's second
factor. After the cooling-off anyone releases it; :meth:`Transfers.deliver_due` is the keeper.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Iterable, Sequence

from ..chain import AccountLike, Receipt
from ..core import errors
from ..core.abi import load_artifact
from ..core.contract import ContractClient
from ..core.money import Amount
from ..currency.token import Currency

MAX_MEMO_BYTES = 140  # RevocableTransfers.MAX_MEMO_BYTES
MAX_AMOUNT_UNITS = 2**96 - 1  # RevocableTransfers keeps amounts in a uint96


class TransferState(enum.IntEnum):
    """RevocableTransfers.State, in the contract's order."""

    NONE = 0
    AWAITING_APPROVAL = 1
    PENDING = 2
    DISPUTED = 3
    RELEASED = 4
    REVOKED = 5
    REJECTED = 6
    RETURNED = 7  # undeliverable at release (recipient frozen or removed): back to the sender
    RESOLVED_TO_SENDER = 8
    RESOLVED_TO_RECIPIENT = 9
    DISPUTE_EXPIRED = 10  # compliance missed the dispute deadline: back to the sender

    @property
    def is_open(self) -> bool:
        """Money still in escrow."""
        return self in (TransferState.AWAITING_APPROVAL, TransferState.PENDING, TransferState.DISPUTED)

    @property
    def paid_to_recipient(self) -> bool:
        return self in (TransferState.RELEASED, TransferState.RESOLVED_TO_RECIPIENT)

    @property
    def returned_to_sender(self) -> bool:
        return not self.is_open and not self.paid_to_recipient and self is not TransferState.NONE

    def __str__(self) -> str:
        return self.name.lower().replace("_", " ")


@dataclass(frozen=True)
class TransferRecord:
    """One revocable transfer as the chain sees it, with the receipt of the call that returned it."""

    id: int
    sender: str
    recipient: str
    amount: Decimal
    memo: str
    state: TransferState
    release_at: int | None  # None while awaiting approval (the cooling-off has not started)
    dispute_deadline: int | None  # None unless disputed
    receipt: Receipt | None = field(default=None, compare=False, repr=False)

    def is_due(self, now: int) -> bool:
        """Pending with its cooling-off over: release() will deliver it."""
        return self.state is TransferState.PENDING and self.release_at is not None and now >= self.release_at


@dataclass(frozen=True)
class Delivery:
    """What one releaseMany batch (or a whole deliver_due run) did."""

    released: tuple[int, ...]
    returned: tuple[int, ...]  # undeliverable: refunded to the sender
    receipts: tuple[Receipt, ...]

    @property
    def gas_used(self) -> int:
        return sum(r.gas_used for r in self.receipts)

    @property
    def settled(self) -> int:
        return len(self.released) + len(self.returned)


class Transfers(ContractClient):
    """Send, approve, revoke, reject, dispute, resolve and release revocable transfers.

    Amounts are Decimal whole units of `currency`. Policy setters and resolve() default their
    sender to the deployment's COMPLIANCE holder; party actions need the party as sender.
    """

    artifact_name = "RevocableTransfers"

    def __init__(self, chain, address, currency: Currency, role_holders=None, *, deployed_at_block: int = 0):
        super().__init__(chain, address, role_holders)
        self.currency = currency
        self.deployed_at_block = deployed_at_block
        self._registry: str | None = None  # the currency's registry, read once by preflight_send

    # ------------------------------------------------------------- sending
    def send(self, to: AccountLike, amount: Amount, *, sender: AccountLike, memo: str = "",
             use_permit: bool | None = None) -> TransferRecord:
        """Send `amount` to `to` through escrow; returns the new transfer (state PENDING, or
        AWAITING_APPROVAL at or above the approval threshold).

        The escrow needs an allowance: with a held key the sender signs an EIP-2612 permit and the
        transfer goes out in one transaction (sendWithPermit); otherwise (use_permit=False, or a
        node-managed account) an approve() transaction precedes send().
        """
        account = self._sender(sender)
        units = self.currency.to_units(amount, allow_zero=False)
        _check_memo(memo)
        to_addr = self.chain.account(to).address
        if use_permit is None:
            use_permit = account.key is not None
        if use_permit:
            deadline = self.chain.now + 3600
            permit = self.currency.sign_permit(account, self.address, self.currency.from_units(units), deadline)
            sig = permit.signature
            args = (to_addr, units, memo, deadline, sig.v, sig.r, sig.s)
            # One transaction: its dry run is the transaction itself as a call (the same error, nothing sent).
            self.chain.call(self.address, self.artifact.fn("sendWithPermit").encode(args), sender=account)
            receipt = self._write("sendWithPermit", *args, sender=account)
        else:
            self.preflight_send(account, to_addr, units)
            before = self.currency.allowance(account, self.address)
            raised = before < self.currency.from_units(units)
            if raised:
                self.currency.approve(self.address, self.currency.from_units(units), sender=account)
            try:
                receipt = self._write("send", to_addr, units, memo, sender=account)
            except errors.ChainpayError:
                if raised:  # never leave a raised allowance behind a failure
                    self.currency.approve(self.address, before, sender=account)
                raise
        sent = receipt.event("TransferSent")
        return self._record(sent["id"], sent["memo"], receipt)

    def preflight_send(self, sender: AccountLike, to: AccountLike, units: int) -> None:
        """Dry run, as calls (nothing is sent), of the approve-then-send path: the approve (sender
        registered, not frozen, not paused), then what send() checks in the contract's order (the
        amount's range, the recipient, both parties active) and the sender's side of the deposit into
        escrow (balance, daily limit) by simulating the currency transfer into escrow. Raises the typed
        error the first failing transaction would have raised."""
        account, to_addr = self.chain.account(sender), self.chain.account(to).address
        self.chain.call(self.currency.address, self.currency.artifact.fn("approve").encode([self.address, units]),
                        sender=account)
        if units > MAX_AMOUNT_UNITS:
            raise errors.revert_class("AmountTooLarge")(units, MAX_AMOUNT_UNITS)
        if to_addr in (account.address, self.address) or int(to_addr, 16) == 0:
            raise errors.revert_class("InvalidRecipient")(to_addr)
        if self._registry is None:
            self._registry = self.currency._read("registry")
        pair = load_artifact("IdentityRegistry").fn("requireActivePair")
        self.chain.call(self._registry, pair.encode([account.address, to_addr]))
        self.chain.call(self.currency.address, self.currency.artifact.fn("transfer").encode([self.address, units]),
                        sender=account)

    # ------------------------------------------------------------- actions on one transfer
    def approve(self, transfer_id: int, *, sender: AccountLike | None = None) -> TransferRecord:
        """Second approval of a large transfer, by the sender's bound approver (or compliance, the default)."""
        return self._act("approve", transfer_id, self._sender(sender, "COMPLIANCE"))

    def revoke(self, transfer_id: int, *, sender: AccountLike) -> TransferRecord:
        """The sender takes the transfer back before its release time."""
        return self._act("revoke", transfer_id, self._sender(sender))

    def reject(self, transfer_id: int, *, sender: AccountLike) -> TransferRecord:
        """The recipient refuses the transfer before its release time; the sender is refunded."""
        return self._act("reject", transfer_id, self._sender(sender))

    def dispute(self, transfer_id: int, *, sender: AccountLike) -> TransferRecord:
        """Either party hands the transfer to compliance (within the dispute window)."""
        return self._act("dispute", transfer_id, self._sender(sender))

    def hold(self, transfer_id: int, *, sender: AccountLike | None = None) -> TransferRecord:
        """Compliance holds an open transfer of a frozen or removed party (even one already due): it
        becomes a dispute that compliance resolves (or that returns to the sender at its deadline)."""
        return self._act("hold", transfer_id, self._sender(sender, "COMPLIANCE"))

    def resolve(self, transfer_id: int, *, to_recipient: bool, sender: AccountLike | None = None) -> TransferRecord:
        """Compliance settles a dispute: to the recipient, or back to the sender."""
        if not isinstance(to_recipient, bool):
            raise errors.InvalidInput("to_recipient must be True (pay the recipient) or False (refund the sender)")
        return self._act("resolve", transfer_id, self._sender(sender, "COMPLIANCE"), to_recipient)

    def return_expired_dispute(self, transfer_id: int, *, sender: AccountLike) -> TransferRecord:
        """Anyone returns a dispute left unresolved past its deadline to the sender."""
        return self._act("returnExpiredDispute", transfer_id, self._sender(sender))

    def release(self, transfer_id: int, *, sender: AccountLike) -> TransferRecord:
        """Deliver a transfer whose cooling-off is over (anyone may); an undeliverable one is returned."""
        return self._act("release", transfer_id, self._sender(sender))

    def release_many(self, transfer_ids: Sequence[int], *, sender: AccountLike) -> Delivery:
        """Deliver many transfers in one transaction; ids not pending or not yet due are skipped."""
        ids = [_check_id(i) for i in transfer_ids]
        if not ids:
            return Delivery((), (), ())
        receipt = self._write("releaseMany", ids, sender=self._sender(sender))
        return _delivery(receipt)

    def deliver_due(self, *, sender: AccountLike, batch_size: int = 50) -> Delivery:
        """Keeper: release every transfer that is due now, `batch_size` per transaction."""
        if batch_size < 1:
            raise errors.InvalidInput("batch_size must be at least 1")
        now = self.chain.now
        due = [t.id for t in self._scan() if t.is_due(now)]
        released, returned, receipts = [], [], []
        for start in range(0, len(due), batch_size):
            batch = self.release_many(due[start:start + batch_size], sender=sender)
            released += batch.released
            returned += batch.returned
            receipts += batch.receipts
        return Delivery(tuple(released), tuple(returned), tuple(receipts))

    # ------------------------------------------------------------- views
    def get(self, transfer_id: int) -> TransferRecord:
        """The transfer's current record (UnknownTransfer if it was never sent)."""
        transfer_id = _check_id(transfer_id)
        return self._record(transfer_id, self._memo(transfer_id))

    def pending_for(self, who: AccountLike) -> list[TransferRecord]:
        """Open transfers (awaiting approval, pending or disputed) that `who` sends or receives."""
        address = self.chain.account(who).address
        return [t for t in self._scan(party=address) if t.state.is_open]

    def history_for(self, who: AccountLike) -> list[TransferRecord]:
        """Every transfer `who` ever sent or received, oldest first."""
        return self._scan(party=self.chain.account(who).address)

    def total_held(self) -> Decimal:
        """What the escrow owes: the sum of all open transfers."""
        return self.currency.from_units(self._read("totalHeld"))

    def transfer_count(self) -> int:
        return self._read("transferCount")

    # ------------------------------------------------------------- policy (compliance)
    def cooling_off_bands(self) -> list[tuple[Decimal, int]]:
        """[(lower bound in whole units, cooling-off seconds)], ascending."""
        mins, periods = self._read("coolingOffBands")
        return [(self.currency.from_units(m), p) for m, p in zip(mins, periods)]

    def cooling_off_for(self, amount: Amount) -> int:
        """Cooling-off seconds of a transfer of `amount`."""
        return self._read("coolingOffFor", self.currency.to_units(amount))

    def set_cooling_off(self, bands: Iterable[tuple[Amount, int]], *, sender: AccountLike | None = None) -> Receipt:
        """Set the bands: [(lower bound, seconds)], the first at 0, ascending, at most 8."""
        pairs = list(bands)
        mins = [self.currency.to_units(lo) for lo, _ in pairs]
        periods = []
        for _, seconds in pairs:
            if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0:
                raise errors.InvalidInput(f"a cooling-off period is a whole number of seconds >= 0, got {seconds!r}")
            periods.append(seconds)
        return self._write("setCoolingOff", mins, periods, sender=self._sender(sender, "COMPLIANCE"))

    def approval_threshold(self) -> Decimal:
        return self.currency.from_units(self._read("approvalThreshold"))

    def set_approval_threshold(self, threshold: Amount, *, sender: AccountLike | None = None) -> Receipt:
        return self._write("setApprovalThreshold", self.currency.to_units(threshold),
                           sender=self._sender(sender, "COMPLIANCE"))

    def dispute_window(self) -> int:
        return self._read("disputeWindow")

    def set_dispute_window(self, seconds: int, *, sender: AccountLike | None = None) -> Receipt:
        if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds <= 0:
            raise errors.InvalidInput(f"the dispute window is a positive whole number of seconds, got {seconds!r}")
        return self._write("setDisputeWindow", seconds, sender=self._sender(sender, "COMPLIANCE"))

    def recover_unheld(self, to: AccountLike, *, sender: AccountLike | None = None) -> Receipt:
        """Return currency paid to the escrow directly (never an escrowed transfer) to `to`."""
        return self._write("recoverUnheld", self.chain.account(to).address, sender=self._sender(sender, "COMPLIANCE"))

    # ------------------------------------------------------------- internals
    def _act(self, fn: str, transfer_id: int, sender, *extra) -> TransferRecord:
        transfer_id = _check_id(transfer_id)
        receipt = self._write(fn, transfer_id, *extra, sender=sender)
        return self._record(transfer_id, self._memo(transfer_id), receipt)

    def _record(self, transfer_id: int, memo: str, receipt: Receipt | None = None) -> TransferRecord:
        sender, recipient, units, state, release_at, deadline, _ = self._read("getTransfer", transfer_id)
        return TransferRecord(
            id=transfer_id,
            sender=sender,
            recipient=recipient,
            amount=self.currency.from_units(units),
            memo=memo,
            state=TransferState(state),
            release_at=release_at or None,
            dispute_deadline=deadline or None,
            receipt=receipt,
        )

    def _sent_events(self, *topics) -> list:
        topic0 = self.artifact.event_topic("TransferSent")
        return self.chain.logs(self.address, [topic0, *topics], from_block=self.deployed_at_block)

    def _memo(self, transfer_id: int) -> str:
        # Read from the log (the chain is the record), never cached: a snapshot revert or a reorg
        # would make a cache lie.
        found = self._sent_events(transfer_id.to_bytes(32, "big"))
        return found[0]["memo"] if found else ""

    def _scan(self, party: str | None = None) -> list[TransferRecord]:
        """Every transfer sent since deployment (from the TransferSent log), or only those `party`
        sends or receives, with their current state, oldest first."""
        if party is None:
            sent = self._sent_events()
        else:
            padded = bytes(12) + bytes.fromhex(party[2:])
            sent = self._sent_events(None, padded) + self._sent_events(None, None, padded)
        memos = {event["id"]: event["memo"] for event in sent}
        return [self._record(i, memos[i]) for i in sorted(memos)]


def _check_id(transfer_id) -> int:
    if isinstance(transfer_id, bool) or not isinstance(transfer_id, int) or not 1 <= transfer_id < 2**256:
        raise errors.InvalidInput(f"a transfer id is a whole number from 1 to 2**256-1, got {transfer_id!r:.80}")
    return transfer_id


def _check_memo(memo: str) -> bytes:
    if not isinstance(memo, str):
        raise errors.InvalidInput(f"memo must be text, got {type(memo).__name__}")
    encoded = memo.encode()
    if len(encoded) > MAX_MEMO_BYTES:
        raise errors.InvalidInput(f"memo is {len(encoded)} bytes of UTF-8; at most {MAX_MEMO_BYTES} are allowed")
    return encoded


def _delivery(receipt: Receipt) -> Delivery:
    released = tuple(e["id"] for e in receipt.events_named("TransferReleased"))
    returned = tuple(e["id"] for e in receipt.events_named("TransferReturned"))
    return Delivery(released, returned, (receipt,))
