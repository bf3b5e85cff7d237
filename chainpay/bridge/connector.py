"""The connector: a liquidity provider that carries transfers across the bridge from a source chain
(A) to a destination chain (B). One Connector object carries one direction; a service runs two.

Protocol (one transfer, hash H of a secret the sender keeps):
1. quote: the sender asks to move `amount` to its own account on B. The connector refuses up front
   if its free liquidity on B is short or the destination is not the same person, else it reserves
   the amount and names its fee, where to lock on A and the earliest acceptable timelock T_A.
2. the sender locks amount + fee on A for the connector under H until T_A.
3. poll: the connector sees the lock, checks that T_A leaves time for the inbound lock and a claim
   margin, and locks `amount` on B for the destination under H until T_B = now + inbound duration.
   If T_A is too close it refuses (no B lock), and the sender refunds after T_A.
4. the recipient claims on B with the secret; the connector reads it from the Claimed event and
   claims on A before T_A. A B lock nobody claims is refunded after T_B.

Two rules keep the person whole whatever happens on the chains:
- A hashlock is public once the sender locks, so anyone can lock under it too (a dust lock landing
  first). The connector takes only a lock from the quoted sender naming the quoted identity, with
  the quoted total; any other lock under H is ignored (its locker refunds it after its timelock).
- If the outbound lock on A is claimed by anyone while the recipient has not been paid on B (the
  preimage leaked, e.g. through a claim on B that was mined but reverted), the connector is paid
  and owes the delivery: it claims its B lock for the recipient while it can, and otherwise pays
  the recipient on B directly, or returns the whole outbound amount to the sender on A. It never
  keeps both legs.

With a `ConnectorStore` every change of a deal is written to sqlite before the next step, and
`store.recover()` rebuilds the open deals from both chains' events at start-up.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from typing import Callable, Protocol

from ..chain import Account, Receipt
from ..core import errors
from ..core.money import Amount
from ..currency.registry import as_identity
from .client import Bridge, LockRecord, LockState

log = logging.getLogger(__name__)


class DealStore(Protocol):
    """Where a connector writes each change of a deal (chainpay's is store.ConnectorStore)."""

    def save(self, direction: str, deal: "Deal") -> None: ...


class ConnectorRefused(errors.ChainpayError):
    """The connector will not carry this transfer (the reason says why); nothing was locked."""


@dataclass(frozen=True)
class ConnectorPolicy:
    """What a connector charges and how much time it insists on (seconds)."""

    fee_rate: Decimal = Decimal("0.001")  # of the amount delivered
    fee_min: Decimal = Decimal("0.01")
    sender_lock_duration: int = 4 * 3600  # the sender's T_A must lie at least this far ahead at quote time
    inbound_lock_duration: int = 2 * 3600  # T_B = the connector's lock time + this
    claim_margin: int = 3600  # T_A - T_B must leave this for the connector to claim on A after a reveal
    quote_ttl: int = 900  # a quote holds liquidity this long waiting for the sender's lock

    def validate(self) -> None:
        if self.fee_rate < 0 or self.fee_min < 0:
            raise errors.InvalidInput("connector fees cannot be negative")
        if min(self.sender_lock_duration, self.inbound_lock_duration, self.claim_margin, self.quote_ttl) <= 0:
            raise errors.InvalidInput("connector durations must be positive")
        if self.sender_lock_duration < self.inbound_lock_duration + self.claim_margin:
            raise errors.InvalidInput("sender_lock_duration must cover inbound_lock_duration + claim_margin "
                                      "(T_B well before T_A)")


class DealState(enum.Enum):
    QUOTED = "quoted"  # liquidity reserved, waiting for the sender's lock on A
    REFUSED = "refused"  # the sender's lock came too late: not matched on B
    EXPIRED = "expired"  # no acceptable lock on A within the quote's lifetime
    INBOUND_LOCKED = "inbound locked"  # locked on B, waiting for the recipient's claim
    REVEALED = "revealed"  # the recipient claimed on B; the connector still has to claim on A
    SETTLED = "settled"  # the recipient was paid on B and the connector on A
    INBOUND_REFUNDED = "inbound refunded"  # nobody claimed on B; the connector took it back
    LOST = "lost"  # revealed on B but the connector missed T_A: it paid and was not paid
    OWED = "owed"  # someone claimed on A (the connector is paid) but the recipient was not paid on B
    DELIVERED = "delivered directly"  # OWED, settled by a plain transfer to the recipient on B
    RETURNED = "returned on A"  # OWED, settled by returning the outbound amount to the sender on A


FINAL = frozenset({DealState.REFUSED, DealState.EXPIRED, DealState.SETTLED, DealState.LOST, DealState.DELIVERED,
                   DealState.RETURNED})


@dataclass(frozen=True)
class Quote:
    hashlock: bytes
    identity: bytes
    destination: str  # the sender's own address on B
    amount: Decimal  # delivered on B
    fee: Decimal
    pay_to: str  # the connector's address on A: the recipient of the sender's lock
    min_timelock: int  # the sender's T_A must be at least this
    expires_at: int  # the sender must lock before this
    sender: str | None = None  # the sender's address on A, when it said (only its lock is taken then)

    @property
    def total(self) -> Decimal:
        """What the sender locks on A."""
        return self.amount + self.fee


@dataclass
class Deal:
    quote: Quote
    state: DealState = DealState.QUOTED
    outbound: LockRecord | None = None
    inbound: LockRecord | None = None
    preimage: bytes | None = None
    reason: str = ""
    receipts: list[Receipt] = field(default_factory=list)  # the connector's own transactions
    payout_from: int | None = None  # OWED: the block of the payout chain from which a direct payment counts

    @property
    def gas_used(self) -> int:
        return sum(r.gas_used for r in self.receipts)


class Connector:
    """Carries transfers from `source` (chain A's bridge) to `dest` (chain B's bridge)."""

    def __init__(self, source: Bridge, dest: Bridge, account_a: Account, account_b: Account,
                 policy: ConnectorPolicy | None = None, *, clock: Callable[[], int] | None = None,
                 store: DealStore | None = None, direction: str = "A->B"):
        self.source, self.dest = source, dest
        self.account_a, self.account_b = account_a, account_b
        self.policy = policy or ConnectorPolicy()
        self.policy.validate()
        self.clock = clock or (lambda: max(source.chain.now, dest.chain.now))
        self.online = True
        self.store, self.direction = store, direction
        self.deals: dict[bytes, Deal] = {}
        self._setup_receipts: list[Receipt] = []  # standing allowances: not any one deal's cost
        # Next block to read, per (chain, event name): only events after the connector started count.
        a_next, b_next = source.chain.block_number + 1, dest.chain.block_number + 1
        self._cursor = {("A", "Locked"): a_next, ("A", "Claimed"): a_next, ("B", "Claimed"): b_next}

    @property
    def setup_gas_used(self) -> int:
        """Gas of the connector's standing allowances (shared by all deals, so in none of them)."""
        return sum(r.gas_used for r in self._setup_receipts)

    def _save(self, deal: Deal) -> None:
        if self.store is not None:
            self.store.save(self.direction, deal)

    def _set(self, deal: Deal, state: DealState, reason: str = "") -> None:
        deal.state = state
        if reason:
            deal.reason = reason
        self._save(deal)

    # ------------------------------------------------------------- quoting
    def fee_for(self, amount: Decimal) -> Decimal:
        quantum = Decimal(1).scaleb(-self.source.currency.decimals)
        fee = max(amount * self.policy.fee_rate, self.policy.fee_min)
        return fee.quantize(quantum, rounding=ROUND_CEILING)

    def free_liquidity(self) -> Decimal:
        """The connector's balance on B not promised to open quotes."""
        reserved = sum((d.quote.amount for d in self.deals.values() if d.state is DealState.QUOTED), Decimal(0))
        return self.dest.currency.balance_of(self.account_b) - reserved

    def quote(self, amount: Amount, destination, identity, hashlock: bytes, sender=None) -> Quote:
        """Accept a transfer of `amount` to `destination` on B (the same person as `identity`) under
        `hashlock`, reserving the liquidity; ConnectorRefused when it cannot be carried. With `sender`
        (the sender's address on A) only that account's lock is taken."""
        if not self.online:
            raise ConnectorRefused("the connector is offline")
        units = self.dest.currency.to_units(amount, allow_zero=False)
        value = self.dest.currency.from_units(units)
        identity = as_identity(identity)
        if not isinstance(hashlock, (bytes, bytearray)) or len(hashlock) != 32:
            raise errors.InvalidInput("a hashlock is 32 bytes")
        hashlock = bytes(hashlock)
        if hashlock in self.deals:
            raise ConnectorRefused("this hashlock was already quoted: use a fresh secret for every transfer")
        destination = self.dest.chain.account(destination).address
        sender = None if sender is None else self.source.chain.account(sender).address
        if self.dest.identity_of(destination) != identity:
            raise ConnectorRefused(f"{destination} on B is not registered to the sender's identity (same-name rule)")
        if sender is not None and self.source.identity_of(sender) != identity:
            raise ConnectorRefused(f"{sender} on A is not registered to the sender's identity (same-name rule)")
        free = self.free_liquidity()
        if free < value:
            raise ConnectorRefused(f"not enough liquidity on B: {free} free, {value} asked")
        now = self.clock()
        quote = Quote(hashlock, identity, destination, value, self.fee_for(value), self.account_a.address,
                      now + self.policy.sender_lock_duration, now + self.policy.quote_ttl, sender)
        deal = Deal(quote)
        self.deals[hashlock] = deal
        self._save(deal)  # durable before the sender hears of it
        log.info("quoted %s (+%s fee) to %s", value, quote.fee, destination)
        return quote

    # ------------------------------------------------------------- watching both chains
    def poll(self) -> None:
        """React to everything that happened on both chains since the last poll (no-op offline)."""
        if not self.online:
            return
        now = self.clock()
        for event in self._new_events(self.source, "A", "Locked"):
            self._on_outbound_lock(event, now)
        for deal in self.deals.values():
            if deal.state is DealState.QUOTED and deal.outbound is None and now >= deal.quote.expires_at:
                self._set(deal, DealState.EXPIRED, deal.reason or "no acceptable lock on A before the quote expired")
        for deal in self.deals.values():  # retry inbound locks a halted chain B refused earlier
            if deal.state is DealState.QUOTED and deal.outbound is not None:
                self._lock_inbound(deal, now)
        for event in self._new_events(self.dest, "B", "Claimed"):
            deal = self.deals.get(event["hashlock"])
            if deal is not None and deal.inbound is not None and deal.inbound.id == event["id"]:
                deal.preimage = event["preimage"]
                if deal.state in (DealState.INBOUND_LOCKED, DealState.OWED):
                    self._set(deal, DealState.SETTLED if deal.state is DealState.OWED else DealState.REVEALED)
        for event in self._new_events(self.source, "A", "Claimed"):
            deal = self.deals.get(event["hashlock"])
            if deal is not None and deal.outbound is not None and deal.outbound.id == event["id"]:
                self._on_outbound_claimed(deal, event["preimage"])
        for deal in self.deals.values():
            if deal.state is DealState.REVEALED:
                self._claim_outbound(deal, now)
            elif deal.state is DealState.INBOUND_LOCKED and now >= deal.inbound.timelock:
                self._refund_inbound(deal)
            elif deal.state is DealState.OWED:
                self._make_whole(deal, now)

    def _new_events(self, bridge: Bridge, side: str, name: str):
        start, end = self._cursor[side, name], bridge.chain.block_number
        if end < start:
            return []
        self._cursor[side, name] = end + 1
        return bridge.events(name, from_block=start, to_block=end)

    def matches(self, q: Quote, locker: str, recipient: str, identity: bytes, amount: Decimal) -> bool:
        """Whether a lock on A under the quote's hashlock is this deal's: to this connector, naming the
        quoted identity, from the quoted sender if one was named, for at least the quoted total."""
        return (recipient == self.account_a.address and identity == q.identity
                and (q.sender is None or locker == q.sender) and amount >= q.total)

    def _on_outbound_lock(self, event, now: int) -> None:
        deal = self.deals.get(event["hashlock"])
        if deal is None or deal.state is not DealState.QUOTED or deal.outbound is not None:
            return  # not ours, or a repeat: its locker refunds it after its timelock
        if not self.matches(deal.quote, event["locker"], event["recipient"], event["identity"],
                            self.source.currency.from_units(event["amount"])):
            log.info("ignored lock %d on A under %s…: not the quoted sender, identity or total",
                     event["id"], deal.quote.hashlock.hex()[:12])
            deal.reason = f"lock {event['id']} on A did not match the quote (ignored)"
            return
        deal.outbound = self.source.get(event["id"])
        self._save(deal)
        self._lock_inbound(deal, now)

    def _lock_inbound(self, deal: Deal, now: int) -> None:
        q, out = deal.quote, deal.outbound
        need = self.policy.inbound_lock_duration + self.policy.claim_margin
        if out.timelock - now < need:
            return self._refuse(deal, f"T_A leaves {out.timelock - now}s, the connector needs {need}s to lock and claim safely")
        try:
            self._ensure_allowance(q.amount)
            deal.inbound = self.dest.lock(q.destination, q.amount, q.hashlock, now + self.policy.inbound_lock_duration,
                                          q.identity, sender=self.account_b, use_permit=False)
        except errors.ChainConnectionError as exc:  # chain B is down: try again on the next poll
            log.info("inbound lock deferred: %s", exc)
            return
        except errors.ContractRevert as exc:
            return self._refuse(deal, f"chain B refused the inbound lock: {exc}")
        deal.receipts.append(deal.inbound.receipt)
        self._set(deal, DealState.INBOUND_LOCKED)

    def _ensure_allowance(self, amount: Decimal) -> None:
        # One standing allowance for the whole balance instead of a permit per lock (saves ~30k gas a lock).
        currency = self.dest.currency
        if currency.allowance(self.account_b, self.dest.address) < amount:
            self._setup_receipts.append(currency.approve(self.dest.address, currency.balance_of(self.account_b),
                                                         sender=self.account_b))

    def _refuse(self, deal: Deal, reason: str) -> None:
        self._set(deal, DealState.REFUSED, reason)
        log.info("refused %s: %s", deal.quote.hashlock.hex()[:12], reason)

    def _claim_outbound(self, deal: Deal, now: int) -> None:
        if now >= deal.outbound.timelock:
            self._set(deal, DealState.LOST, "chain A passed T_A before the connector could claim")
            log.error("lost %s: %s", deal.quote.amount, deal.reason)
            return
        try:
            record = self.source.claim(deal.outbound.id, deal.preimage, sender=self.account_a, margin=0)
        except errors.ChainConnectionError as exc:
            log.warning("claim on A deferred: %s", exc)
            return
        except errors.revert_class("WrongState"):  # someone else submitted the preimage for us: paid all the same
            self._set(deal, DealState.SETTLED)
            return
        except errors.revert_class("LockExpired"):
            self._set(deal, DealState.LOST, "chain A passed T_A before the connector could claim")
            return
        deal.receipts.append(record.receipt)
        self._set(deal, DealState.SETTLED)

    def _refund_inbound(self, deal: Deal) -> None:
        try:
            record = self.dest.refund(deal.inbound.id, sender=self.account_b)
        except errors.ChainConnectionError as exc:
            log.warning("refund on B deferred: %s", exc)
            return
        except errors.revert_class("LockNotExpired"):
            return  # chain B's clock lags the connector's: next poll
        except errors.revert_class("WrongState"):  # refunded already (anyone may), or claimed (an event says)
            if self.dest.get(deal.inbound.id).state is LockState.REFUNDED:
                self._set(deal, DealState.INBOUND_REFUNDED)
            return
        deal.receipts.append(record.receipt)
        self._set(deal, DealState.INBOUND_REFUNDED)

    # ------------------------------------------------------------- paid on A, not delivered on B
    def _on_outbound_claimed(self, deal: Deal, preimage: bytes) -> None:
        if deal.state in (DealState.INBOUND_LOCKED, DealState.INBOUND_REFUNDED):
            deal.preimage = preimage
            deal.payout_from = None
            self._set(deal, DealState.OWED, "the lock on A was claimed while the recipient was not paid on B: "
                                            "the connector owes the delivery")
            log.warning("owed %s: %s", deal.quote.amount, deal.reason)
        elif deal.state is DealState.REVEALED:
            self._set(deal, DealState.SETTLED)  # someone submitted the preimage on A for us

    def _make_whole(self, deal: Deal, now: int) -> None:
        """Settle an OWED deal: claim the B lock for the recipient while it is open and claimable;
        once it is refunded, pay the recipient on B or, failing that, the sender back on A."""
        inbound = self.dest.get(deal.inbound.id)
        if inbound.state is LockState.CLAIMED:
            return self._set(deal, DealState.SETTLED)
        if inbound.state is LockState.OPEN:
            if now < inbound.timelock:
                try:
                    record = self.dest.claim(inbound.id, deal.preimage, sender=self.account_b)
                except (errors.ChainConnectionError, errors.ContractRevert) as exc:
                    log.info("claim on B for the recipient not possible now: %s", exc)
                    return  # a frozen recipient or a paused chain may recover before T_B; else refund below
                deal.receipts.append(record.receipt)
                return self._set(deal, DealState.SETTLED)
            try:
                deal.receipts.append(self.dest.refund(inbound.id, sender=self.account_b).receipt)
            except (errors.ChainConnectionError, errors.ContractRevert) as exc:
                log.info("refund on B deferred: %s", exc)
                return
        self._pay_directly(deal)

    def _pay_directly(self, deal: Deal) -> None:
        q, out = deal.quote, deal.outbound
        # A direct payment leaves no bridge event: remember from where to look for it after a crash.
        if deal.payout_from is None:
            deal.payout_from = min(self.dest.chain.block_number, self.source.chain.block_number) + 1
            self._save(deal)
        for currency, account, to, amount, state in (
                (self.dest.currency, self.account_b, q.destination, q.amount, DealState.DELIVERED),
                (self.source.currency, self.account_a, out.locker, out.amount, DealState.RETURNED)):
            try:
                deal.receipts.append(currency.transfer(to, amount, sender=account))
            except (errors.ChainConnectionError, errors.ContractRevert) as exc:
                log.info("direct payment of %s to %s failed: %s", amount, to, exc)
                continue
            return self._set(deal, state)
        log.warning("owed %s to %s: neither chain takes the payment now; retrying", q.amount, q.destination)
