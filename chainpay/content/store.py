"""The provider's durable record of channels and their latest vouchers (stdlib sqlite3).

A voucher is money: it is committed (synchronous=FULL) before the content it pays for is served, so a
crash or restart loses nothing the provider could redeem. Amounts are stored as decimal text because
base units exceed sqlite's 64-bit integers. Safe to share between threads (one connection, a lock).
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
"""


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
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(channels)")}
            if "consent_until" not in columns:  # a store written before close consents had deadlines
                self._db.execute("ALTER TABLE channels ADD COLUMN consent_until INTEGER")
        except sqlite3.Error as exc:
            raise errors.InvalidInput(f"cannot open the voucher database {self.path}: {exc} (a writable sqlite file "
                                      "in an existing directory)") from None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def get(self, channel_id: bytes) -> StoredChannel | None:
        with self._lock:
            row = self._db.execute("SELECT key_json, amount, signature, redeemed, closed, closes_at, consent_until "
                                   "FROM channels WHERE channel_id = ?", (channel_id,)).fetchone()
        return None if row is None else _stored(row)

    def add_channel(self, key: ChannelKey) -> None:
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO channels (channel_id, key_json) VALUES (?, ?)",
                             (key.id, json.dumps(key.to_json())))

    def record(self, voucher: SignedVoucher, now: int | None = None) -> bool:
        """Store `voucher` if it raises the channel's latest amount and no close consent of the provider
        is live at `now` (atomically under the lock: compared in Python, since the amounts may exceed
        what sqlite compares exactly); False otherwise."""
        with self._lock:
            row = self._db.execute("SELECT amount, closed, consent_until FROM channels WHERE channel_id = ?",
                                   (voucher.channel_id,)).fetchone()
            if row is None or row[1] or int(row[0]) >= voucher.amount:
                return False
            if row[2] is not None and (now is None or now <= row[2]):
                return False
            self._db.execute("UPDATE channels SET amount = ?, signature = ? WHERE channel_id = ?",
                             (str(voucher.amount), voucher.signature, voucher.channel_id))
            return True

    def consent(self, channel_id: bytes, deadline: int) -> int:
        """Record the provider's close consent until `deadline` and return the amount it binds (the
        latest stored), atomically: no voucher is stored on this channel until the deadline passes."""
        with self._lock:
            self._db.execute("UPDATE channels SET consent_until = ? WHERE channel_id = ?", (deadline, channel_id))
            return int(self._db.execute("SELECT amount FROM channels WHERE channel_id = ?", (channel_id,)).fetchone()[0])

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


def _stored(row) -> StoredChannel:
    key_json, amount, signature, redeemed, closed, closes_at, consent_until = row
    return StoredChannel(ChannelKey.from_json(json.loads(key_json)), int(amount),
                         None if signature is None else bytes(signature), int(redeemed), bool(closed), closes_at,
                         consent_until)
