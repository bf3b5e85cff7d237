"""The connector's durable state: its deals in sqlite, and their rebuild from both chains at start-up.

Only the quote is the connector's own knowledge (who is to be paid where, for what); everything else
about a deal (the sender's lock, the connector's lock, claims, refunds, the preimage) is on the
chains. Every change is written with synchronous=FULL before the connector's next step, and on
start-up `rebuild` reads the locks under each unfinished deal's hashlock on both chains, so a crash
between a transaction and its record is read back, never redone: a lock the connector made but did
not record is found by its locker and hashlock; a direct payment (see Connector._pay_directly) by the
currency's Transfer events from the block recorded before it was sent.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from decimal import Decimal
from pathlib import Path

from .client import Bridge, LockRecord, LockState
from .connector import FINAL, Connector, Deal, DealState, Quote

_SCHEMA = """
CREATE TABLE IF NOT EXISTS deals (
    direction TEXT NOT NULL,
    hashlock BLOB NOT NULL,
    quote TEXT NOT NULL,
    state TEXT NOT NULL,
    outbound_id INTEGER,
    inbound_id INTEGER,
    preimage BLOB,
    reason TEXT NOT NULL DEFAULT '',
    payout_from INTEGER,
    updated REAL NOT NULL,
    PRIMARY KEY (direction, hashlock)
)
"""


def quote_to_json(q: Quote) -> str:
    return json.dumps({"hashlock": q.hashlock.hex(), "identity": q.identity.hex(), "destination": q.destination,
                       "amount": str(q.amount), "fee": str(q.fee), "pay_to": q.pay_to, "min_timelock": q.min_timelock,
                       "expires_at": q.expires_at, "sender": q.sender}, sort_keys=True)


def quote_from_json(text: str | dict) -> Quote:
    d = json.loads(text) if isinstance(text, str) else text
    return Quote(bytes.fromhex(d["hashlock"].removeprefix("0x")), bytes.fromhex(d["identity"].removeprefix("0x")),
                 d["destination"], Decimal(d["amount"]), Decimal(d["fee"]), d["pay_to"], int(d["min_timelock"]),
                 int(d["expires_at"]), d.get("sender"))


class ConnectorStore:
    """Deals per direction ("A->B", "B->A") in one sqlite file; safe to share between threads."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")  # a returned save survives a power cut, not only a crash
            self._db.execute(_SCHEMA)

    def save(self, direction: str, deal: Deal) -> None:
        row = (direction, deal.quote.hashlock, quote_to_json(deal.quote), deal.state.name,
               deal.outbound.id if deal.outbound else None, deal.inbound.id if deal.inbound else None,
               deal.preimage, deal.reason, deal.payout_from, time.time())
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO deals VALUES (?,?,?,?,?,?,?,?,?,?)", row)

    def rows(self, direction: str | None = None) -> list[dict]:
        query, args = "SELECT * FROM deals", ()
        if direction is not None:
            query, args = query + " WHERE direction = ?", (direction,)
        with self._lock:
            cur = self._db.execute(query + " ORDER BY updated", args)
            names = [c[0] for c in cur.description]
            return [dict(zip(names, r)) for r in cur.fetchall()]

    def load(self, direction: str, source: Bridge, dest: Bridge) -> list[Deal]:
        """The stored deals of one direction; an unfinished one's locks are read back from the chains."""
        deals = []
        for r in self.rows(direction):
            deal = Deal(quote_from_json(r["quote"]), DealState[r["state"]], reason=r["reason"],
                        preimage=r["preimage"], payout_from=r["payout_from"])
            if deal.state not in FINAL:  # a finished deal needs no chain reads
                deal.outbound = source.get(r["outbound_id"]) if r["outbound_id"] else None
                deal.inbound = dest.get(r["inbound_id"]) if r["inbound_id"] else None
            deals.append(deal)
        return deals

    def close(self) -> None:
        with self._lock:
            self._db.close()


def rebuild(connector: Connector, deal: Deal) -> None:
    """Bring an unfinished deal up to date from both chains' events (see the module docstring)."""
    q, source, dest = deal.quote, connector.source, connector.dest
    if deal.outbound is None:
        deal.outbound = next((lock for lock in source.locks_for(q.hashlock)
                              if connector.matches(q, lock.locker, lock.recipient, lock.identity, lock.amount)), None)
    if deal.inbound is None:
        deal.inbound = next((lock for lock in dest.locks_for(q.hashlock)
                             if lock.inbound and lock.locker == connector.account_b.address), None)
    out, inb = deal.outbound, deal.inbound
    if out is None or inb is None:
        return  # QUOTED: the next poll locks on B, refuses or lets the quote expire
    if inb.state is LockState.CLAIMED:
        deal.preimage = _preimage(dest, inb)
        deal.state = {LockState.CLAIMED: DealState.SETTLED, LockState.OPEN: DealState.REVEALED}.get(out.state, DealState.LOST)
    elif out.state is LockState.CLAIMED:  # paid on A, recipient not paid through the B lock
        deal.preimage = _preimage(source, out)
        deal.state = DealState.OWED
        if inb.state is LockState.REFUNDED and deal.payout_from is not None:
            if _paid(dest, connector.account_b.address, q.destination, q.amount, deal.payout_from):
                deal.state = DealState.DELIVERED
            elif _paid(source, connector.account_a.address, out.locker, out.amount, deal.payout_from):
                deal.state = DealState.RETURNED
    else:
        deal.state = DealState.INBOUND_LOCKED if inb.state is LockState.OPEN else DealState.INBOUND_REFUNDED


def _preimage(bridge: Bridge, lock: LockRecord) -> bytes:
    topic = bridge.artifact.event_topic("Claimed")
    [event] = bridge.chain.logs(bridge.address, [topic, lock.id.to_bytes(32, "big")], from_block=bridge.deployed_at_block)
    return event["preimage"]


def _paid(bridge: Bridge, frm: str, to: str, amount: Decimal, from_block: int) -> bool:
    """Whether `frm` paid `to` exactly `amount` of the bridge's currency since `from_block`."""
    currency = bridge.currency
    topic = currency.artifact.event_topic("Transfer")
    pad = lambda a: bytes(12) + bytes.fromhex(a.removeprefix("0x"))  # noqa: E731
    units = currency.to_units(amount)
    return any(e["value"] == units for e in currency.chain.logs(currency.address, [topic, pad(frm), pad(to)],
                                                                 from_block=from_block))


def recover(connector: Connector, store: ConnectorStore) -> list[Deal]:
    """Load the stored deals of the connector's direction and bring every unfinished one up to date
    from both chains (what a crash between a transaction and its record left behind is read back
    from the chains, never redone blindly). Call before the first poll; returns the deals."""
    for deal in store.load(connector.direction, connector.source, connector.dest):
        connector.deals[deal.quote.hashlock] = deal
        if deal.state not in FINAL:
            rebuild(connector, deal)
            store.save(connector.direction, deal)
    return list(connector.deals.values())
