"""The provider's durable record of channels and their latest vouchers (stdlib sqlite3).

A voucher is money: it is committed (synchronous=FULL) before the content it pays for is served, so a
crash or restart loses nothing the provider could redeem. Amounts are stored as decimal text because
base units exceed sqlite's 64-bit integers. Safe to share between threads (one connection, a lock).

Group commit: concurrent :meth:`VoucherStore.record` calls share one transaction (one fsync). The
first caller to find no commit running becomes the leader and commits every voucher queued so far;
the others wait until the transaction holding theirs is durable. Each call still returns only once
its own voucher is on disk, so the durable store is no longer one fsync per paid request.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from ..core import errors
from .channels import ChannelKey
from .vouchers import SignedVoucher

_SCHEMA = """
CREATE TABLE IF NOT EXISTS channels (
    channel_id  BLOB PRIMARY KEY,
    key_json    TEXT NOT NULL,
    amount      TEXT NOT NULL DEFAULT '0',   -- latest voucher's cumulative amount (base units)
    signature   BLOB,                        -- latest voucher's signature (NULL: none yet)
    redeemed    TEXT NOT NULL DEFAULT '0',   -- what the chain has paid for this channel
    closed      INTEGER NOT NULL DEFAULT 0,
    closes_at   INTEGER,                     -- end of the challenge period of a unilateral close
    consent_until INTEGER                    -- deadline of the provider's close consent (no vouchers until then)
);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS settlements (         -- x402 exact payments settled on chain before serving
    tx_hash     TEXT PRIMARY KEY,
    payer       TEXT NOT NULL,
    content_id  INTEGER NOT NULL,
    amount      TEXT NOT NULL
);
"""

_SET_VOUCHER = "UPDATE channels SET amount = ?, signature = ? WHERE channel_id = ?"
_ADD_SETTLEMENT = "INSERT INTO settlements (tx_hash, payer, content_id, amount) VALUES (?, ?, ?, ?)"


@dataclass(frozen=True)
class StoredChannel:
    key: ChannelKey
    amount: int
    signature: bytes | None
    redeemed: int
    closed: bool
    closes_at: int | None
    consent_until: int | None = None  # the provider consented to a close until then: accept no voucher

    def consent_live(self, now: int) -> bool:
        return self.consent_until is not None and now <= self.consent_until

    @property
    def voucher(self) -> SignedVoucher | None:
        return None if self.signature is None else SignedVoucher(self.key.id, self.amount, self.signature)

    @property
    def unredeemed(self) -> int:
        return self.amount - self.redeemed if self.signature is not None else 0


class VoucherStore:
    """Channels a provider serves, keyed by channel id."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.Lock()  # the connection
        self._group = threading.Condition()  # group commit: queued vouchers, batch numbers
        self._queue: list[tuple[str, tuple]] = []  # (statement, parameters) waiting for the next commit
        self._queued: dict[bytes, int] = {}  # channel id -> highest queued amount (what record compares with)
        self._filling = 1  # number of the batch new vouchers join
        self._durable = 0  # highest batch number committed
        self._committing = False
        self.commits = 0  # transactions that stored vouchers (for the benchmark: vouchers per fsync)
        self._async_waiters: list[tuple] = []  # (batch number, loop, future) of record_async callers
        self._committer: threading.Thread | None = None
        self._closing = False
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(channels)")}
            if "consent_until" not in columns:  # a store written before close consents had deadlines
                self._db.execute("ALTER TABLE channels ADD COLUMN consent_until INTEGER")
            # A second connection for reads: in WAL mode it reads the last commit while the writer
            # syncs the next one, so lookups never wait behind a group commit's fsync.
            self._reader = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._read_lock = threading.Lock()
        except sqlite3.Error as exc:
            raise errors.InvalidInput(f"cannot open the voucher database {self.path}: {exc} (a writable sqlite file "
                                      "in an existing directory)") from None

    def close(self) -> None:
        self.flush()
        with self._group:
            self._closing = True
            self._group.notify_all()
        if self._committer is not None:
            self._committer.join(timeout=30)
        with self._lock, self._read_lock:
            self._db.close()
            self._reader.close()

    def get(self, channel_id: bytes) -> StoredChannel | None:
        with self._read_lock:
            row = self._reader.execute("SELECT key_json, amount, signature, redeemed, closed, closes_at, consent_until "
                                   "FROM channels WHERE channel_id = ?", (channel_id,)).fetchone()
        return None if row is None else _stored(row)

    def add_channel(self, key: ChannelKey) -> None:
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO channels (channel_id, key_json) VALUES (?, ?)",
                             (key.id, json.dumps(key.to_json())))

    def record(self, voucher: SignedVoucher, now: int | None = None, *, min_increase: int = 1) -> bool:
        """Store `voucher` if it raises the channel's latest amount (stored or queued) by at least
        `min_increase` and no close consent of the provider is live at `now`; False otherwise. Returns
        once the voucher is committed (group commit: see the module's docstring). The comparison is in
        Python, atomic under the lock, since the amounts may exceed what sqlite compares exactly."""
        with self._group:
            ticket = self._enqueue_voucher(voucher, now, min_increase)
        if ticket is None:
            return False
        self._wait_durable(ticket)
        return True

    def record_async(self, voucher: SignedVoucher, now: int | None = None, *, min_increase: int = 1):
        """record() for a caller on an asyncio loop: None if refused, else an awaitable that completes
        once the voucher is committed. A committer thread leads the group commits, so the loop never
        waits on the disk and no worker thread is tied up per request."""
        import asyncio

        loop = asyncio.get_running_loop()
        with self._group:
            ticket = self._enqueue_voucher(voucher, now, min_increase)
            if ticket is None:
                return None
            future = loop.create_future()
            self._async_waiters.append((ticket, loop, future))
            if self._committer is None:
                self._committer = threading.Thread(target=self._commit_for_async, name="voucher-commits", daemon=True)
                self._committer.start()
            self._group.notify_all()
        return future

    def _enqueue_voucher(self, voucher: SignedVoucher, now: int | None, min_increase: int) -> int | None:
        """Compare and queue (under self._group); the batch number it joins, or None if refused."""
        with self._read_lock:  # the last commit; what is queued is in self._queued
            row = self._reader.execute("SELECT amount, closed, consent_until FROM channels WHERE channel_id = ?",
                                       (voucher.channel_id,)).fetchone()
        if row is None or row[1]:
            return None
        latest = max(int(row[0]), self._queued.get(voucher.channel_id, 0))
        if voucher.amount - latest < max(min_increase, 1):
            return None
        if row[2] is not None and (now is None or now <= row[2]):
            return None
        self._queued[voucher.channel_id] = voucher.amount
        self._queue.append((_SET_VOUCHER, (str(voucher.amount), voucher.signature, voucher.channel_id)))
        return self._filling

    def _commit_for_async(self) -> None:
        while True:
            with self._group:
                while not self._async_waiters and not self._closing:
                    self._group.wait()
                if not self._async_waiters:
                    return
                ticket = max(t for t, _, _ in self._async_waiters)
            self._wait_durable(ticket)

    def record_settlement(self, tx_hash: str, payer: str, content_id: int, amount: int) -> bool:
        """Record an x402 settlement (its transaction) durably, in the next group commit; False if
        that transaction was recorded before (a settlement is never booked twice)."""
        with self._group:
            with self._read_lock:
                if self._reader.execute("SELECT 1 FROM settlements WHERE tx_hash = ?", (tx_hash,)).fetchone():
                    return False
            if any(params[0] == tx_hash for sql, params in self._queue if sql is _ADD_SETTLEMENT):
                return False
            self._queue.append((_ADD_SETTLEMENT, (tx_hash, payer, content_id, str(amount))))
            ticket = self._filling
        self._wait_durable(ticket)
        return True

    def settlements(self) -> list[tuple[str, str, int, int]]:
        """(tx hash, payer, content id, amount) of every recorded x402 settlement."""
        self.flush()
        with self._lock:
            rows = self._db.execute("SELECT tx_hash, payer, content_id, amount FROM settlements ORDER BY rowid").fetchall()
        return [(tx, payer, cid, int(amount)) for tx, payer, cid, amount in rows]

    def flush(self) -> None:
        """Return once every queued voucher is committed."""
        with self._group:
            ticket = self._filling if self._queue else self._filling - 1
        self._wait_durable(ticket)

    def _wait_durable(self, ticket: int) -> None:
        while True:
            with self._group:
                while self._durable < ticket and self._committing:
                    self._group.wait()
                if self._durable >= ticket:
                    return
                # No commit running and ours is not durable: lead one for everything queued.
                batch, self._queue = self._queue, []
                number, self._filling = self._filling, self._filling + 1
                self._committing = True
            try:
                if batch:
                    with self._lock:
                        self._db.execute("BEGIN IMMEDIATE")
                        try:
                            for sql, params in batch:
                                self._db.execute(sql, params)
                            self._db.execute("COMMIT")
                        except BaseException:
                            self._db.execute("ROLLBACK")
                            raise
                    self.commits += 1
            finally:
                with self._group:
                    self._committing = False
                    if batch and self._durable < number - 1:  # cannot happen: batches commit in order
                        raise AssertionError("group commit out of order")
                    self._durable = number
                    for sql, params in batch:
                        if sql is _SET_VOUCHER and self._queued.get(params[2]) == int(params[0]):
                            del self._queued[params[2]]
                    ready = [w for w in self._async_waiters if w[0] <= number]
                    self._async_waiters = [w for w in self._async_waiters if w[0] > number]
                    self._group.notify_all()
                for _, loop, future in ready:
                    loop.call_soon_threadsafe(_done, future)

    def consent(self, channel_id: bytes, deadline: int) -> int:
        """Record the provider's close consent until `deadline` and return the amount it binds (the
        latest stored or queued), atomically with record(): no voucher is stored on this channel until
        the deadline passes. Returns once that amount is committed."""
        with self._group:
            with self._lock:
                self._db.execute("UPDATE channels SET consent_until = ? WHERE channel_id = ?", (deadline, channel_id))
                stored = int(self._db.execute("SELECT amount FROM channels WHERE channel_id = ?",
                                              (channel_id,)).fetchone()[0])
            amount = max(stored, self._queued.get(channel_id, 0))
        self.flush()
        return amount

    def mark_redeemed(self, channel_id: bytes, amount: int) -> None:
        with self._lock:
            self._db.execute("UPDATE channels SET redeemed = ? WHERE channel_id = ?", (str(amount), channel_id))

    def mark_closing(self, channel_id: bytes, closes_at: int) -> None:
        with self._lock:
            self._db.execute("UPDATE channels SET closes_at = ? WHERE channel_id = ?", (closes_at, channel_id))

    def mark_closed(self, channel_id: bytes, redeemed: int) -> None:
        with self._lock:
            self._db.execute("UPDATE channels SET closed = 1, redeemed = ? WHERE channel_id = ?",
                             (str(redeemed), channel_id))

    def open_channels(self) -> list[StoredChannel]:
        self.flush()
        with self._lock:
            rows = self._db.execute("SELECT key_json, amount, signature, redeemed, closed, closes_at, consent_until "
                                    "FROM channels WHERE closed = 0 ORDER BY rowid").fetchall()
        return [_stored(r) for r in rows]

    def get_meta(self, name: str, default: str | None = None) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return default if row is None else row[0]

    def set_meta(self, name: str, value: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", (name, value))


def _done(future) -> None:
    if not future.done():
        future.set_result(True)


_KEYS: dict[str, ChannelKey] = {}  # parsed channel keys by their stored JSON (immutable terms)


def _stored(row) -> StoredChannel:
    key_json, amount, signature, redeemed, closed, closes_at, consent_until = row
    key = _KEYS.get(key_json)
    if key is None:
        if len(_KEYS) > 100_000:
            _KEYS.clear()
        key = _KEYS[key_json] = ChannelKey.from_json(json.loads(key_json))
    return StoredChannel(key, int(amount),
                         None if signature is None else bytes(signature), int(redeemed), bool(closed), closes_at,
                         consent_until)
