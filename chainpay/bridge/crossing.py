"""One cross-chain transfer, driven step by step on a two-chain network with simulated time.

The sender's wallet asks the connector for a quote, locks on A, watches B for the connector's lock,
checks it (amount, identity, time left) and claims with the secret; the connector polls both chains.
Every on-chain step lands one block interval after it is decided; watchers react one poll interval
after the event. Faults can be injected per transfer (see FAULTS); each still ends with every lock
claimed or refunded, and the result says where the money is.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal

from ..chain import Receipt
from ..core import errors
from .client import LockRecord, LockState, Secret
from .connector import Connector, ConnectorRefused, DealState
from .network import Network, Person

log = logging.getLogger(__name__)

DELIVERED = "on B (delivered)"
FAULTS = ("connector-offline", "recipient-absent", "chain-halt", "no-liquidity")


@dataclass(frozen=True)
class Timing:
    block_interval: int = 5  # seconds from deciding a transaction to its block
    poll_interval: int = 10  # seconds between a watcher's looks at a chain
    halt_seconds: int = 1800  # how long chain B stops in the chain-halt fault


@dataclass
class CrossingResult:
    amount: Decimal
    outcome: str  # delivered | refused | refunded
    seconds: int  # from the request to the money arriving on B (delivered) or back on A (otherwise)
    fee: Decimal = Decimal(0)
    sender_gas: int = 0
    connector_gas: int = 0
    money_at: str = ""  # where the money is at the end, in words
    detail: str = ""
    receipts: list[Receipt] = field(default_factory=list, repr=False)

    @property
    def gas(self) -> int:
        return self.sender_gas + self.connector_gas


def cross(net: Network, connector: Connector, who: Person, amount: Decimal, timing: Timing = Timing(),
          fault: str | None = None, secret: Secret | None = None) -> CrossingResult:
    """Move `amount` from `who`'s account on A to the same person's account on B (`secret`: the
    wallet's preimage, fresh unless given)."""
    if fault is not None and fault not in FAULTS:
        raise errors.InvalidInput(f"unknown fault {fault!r} (known: {', '.join(FAULTS)})")
    started, first_block_b = net.now, net.b.chain.block_number + 1
    secret = secret or Secret.new()
    blocker = _drain_liquidity(net, connector, amount) if fault == "no-liquidity" else None
    try:
        quote = connector.quote(amount, who.b, who.identity, secret.hashlock, sender=who.a)
    except ConnectorRefused as exc:
        return CrossingResult(amount, "refused", 0, money_at="on A (never left: refused before any lock)", detail=str(exc))
    finally:
        if blocker is not None:
            connector.deals.pop(blocker)
    sender_receipts: list[Receipt] = []

    wait = net.advance  # the chains follow the clock at their next transaction

    wait(timing.block_interval)
    try:
        outbound = net.a.bridge.lock(quote.pay_to, quote.total, secret.hashlock, quote.min_timelock, who.identity,
                                     sender=who.a)
    except errors.ContractRevert as exc:  # e.g. the sender's daily threshold: the quote lapses unused
        return CrossingResult(amount, "refused", net.now - started, money_at="on A (never left: chain A refused the lock)",
                              detail=f"{type(exc).__name__}: {exc}")
    sender_receipts.append(outbound.receipt)
    deal = connector.deals[secret.hashlock]
    if fault == "connector-offline":
        connector.online = False
    if fault == "chain-halt":
        net.halt(net.b, timing.halt_seconds)

    inbound: LockRecord | None = None
    arrived: int | None = None
    try:
        step = timing.poll_interval + timing.block_interval
        while net.now < outbound.timelock:
            wait(_skip_idle(net, deal, fault, step))
            # The wallet looks first, so it sees the connector's lock one poll after it was made.
            if inbound is None:
                inbound = _find_inbound(net, who, quote, first_block_b)
            if inbound is not None and arrived is None and fault != "recipient-absent" and not net.b.chain.halted:
                try:  # the wallet's dry run and margin: a claim that could revert is never sent (the preimage stays secret)
                    claimed = net.b.bridge.claim(inbound.id, secret.preimage, sender=who.b, now=net.now,
                                                 margin=timing.block_interval)
                except errors.ContractRevert as exc:
                    log.info("wallet does not claim lock %d on B: %s", inbound.id, exc)
                else:
                    sender_receipts.append(claimed.receipt)
                    arrived = net.now
            connector.poll()
            if deal.state in (DealState.SETTLED, DealState.LOST):
                break
            if deal.state in (DealState.REFUSED, DealState.EXPIRED) or (
                    deal.state is DealState.INBOUND_REFUNDED and arrived is None):
                break
            if not connector.online and arrived is None:
                break
        if arrived is None:  # the sender's wallet takes the money back once T_A has passed
            wait(max(0, outbound.timelock - net.now))
            while net.a.chain.halted:
                wait(timing.poll_interval)
            while deal.state is DealState.INBOUND_LOCKED and connector.online:  # the connector recovers its leg
                wait(timing.poll_interval)
                connector.poll()
            refunded = net.a.bridge.refund(outbound.id, sender=who.a)
            sender_receipts.append(refunded.receipt)
    finally:
        connector.online = True
    result = CrossingResult(amount, "delivered" if arrived is not None else "refunded",
                            (arrived if arrived is not None else net.now) - started, fee=quote.fee if arrived is not None else Decimal(0),
                            sender_gas=sum(r.gas_used for r in sender_receipts), connector_gas=deal.gas_used,
                            receipts=sender_receipts + deal.receipts)
    if arrived is not None:
        result.money_at = DELIVERED
        result.detail = f"connector {deal.state.value}"
    else:
        result.money_at = "on A (refunded to the sender after T_A)"
        result.detail = deal.reason or f"connector {deal.state.value}"
    return result


def _skip_idle(net: Network, deal, fault: str | None, step: int) -> int:
    """How long until the next poll that can change anything: one step, or whole steps up to the end
    of an outage or to T_B when the recipient is away (a watcher would look in vain meanwhile)."""
    until = None
    halted = [p.halted_until for p in (net.a, net.b) if p.halted_until is not None]
    if halted:
        until = min(halted)
    elif fault == "recipient-absent" and deal.state is DealState.INBOUND_LOCKED:
        until = deal.inbound.timelock
    if until is None or until - net.now <= step:
        return step
    return -(-(until - net.now) // step) * step


def _find_inbound(net: Network, who: Person, quote, from_block: int) -> LockRecord | None:
    """The connector's lock on B that the wallet will accept: the quoted amount, to this person."""
    for lock in net.b.bridge.locks_for(quote.hashlock, from_block=from_block):
        if (lock.state is LockState.OPEN and lock.inbound and lock.recipient == who.b.address
                and lock.amount >= quote.amount and lock.identity == who.identity):
            return lock
    return None


def _drain_liquidity(net: Network, connector: Connector, amount: Decimal) -> bytes:
    """Fault no-liquidity: another customer's open quote holds all but less than `amount` of the
    connector's B liquidity (returns its hashlock, to withdraw it afterwards)."""
    other = net.people[-1]
    hold = connector.free_liquidity() - amount + Decimal("0.01")
    secret = Secret.new()
    connector.quote(hold, other.b, other.identity, secret.hashlock)
    return secret.hashlock
