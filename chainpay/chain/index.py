"""The event index every Chain keeps: answers ``Chain.logs`` without rescanning history.

Per-transfer questions (a transfer's memo, an address's open transfers, a channel's terms, a bridge
lock by hashlock, a watcher's new events) used to be log queries from the deployment block, and
eth-tester answers those by re-reading every block (the bridging study's cost grew as N^3). The index
holds every decoded log the SDK has seen, keyed by (contract, topic position, topic value), so a
lookup costs what it returns. It grows by new blocks only:

- engines whose blocks all come from this process (``trusted_blocks``: eth-tester, EDR) hand it the
  logs of every receipt they produce; any block it did not see (mined behind the SDK's back, or a
  failed transaction's) is read with one bounded log query over just the missing range;
- on a JSON-RPC node others may write, so each read first fetches the new range
  (latest known + 1 .. head) for the contracts asked about so far; a contract asked about for the first
  time is filled once from the block the caller names (its deployment block).

``Chain.revert`` cuts the index back to the reverted head, and on a node the index also checks that
the block it last read still has the same hash (someone else reverted the node): if not, it starts
again. Entries are kept in block order, so a cut is a pop from the end.
"""

from __future__ import annotations

import weakref
from bisect import bisect_left
from dataclasses import dataclass
from typing import Iterable, Protocol, Sequence

from ..core.abi import Event, decode_log
from ..core.abitypes import checksum



class _Source(Protocol):
    """What the index reads from its chain (a Chain; named here so index.py needs no import of base.py)."""

    @property
    def block_number(self) -> int: ...

    def _logs(self, address, topics: list, from_block: int, to_block: int | str) -> list[dict]: ...

    def _block_hash(self, number: int) -> str | None: ...


@dataclass(frozen=True)
class _Entry:
    block: int
    log_index: int
    address: str  # lower-case
    topics: tuple[bytes, ...]
    event: Event


class LogIndex:
    """Decoded logs by (address, topic position, topic value); see the module docstring."""

    def __init__(self, chain: _Source, *, trusted: bool, head: int):
        self._chain = weakref.proxy(chain)  # no reference cycle: an EDR chain closes when dropped
        self.trusted = trusted
        self.synced = head if trusted else -1  # every covered log up to this block is held
        self._synced_hash: str | None = None
        self._entries: list[_Entry] = []
        self._by_key: dict[tuple, list[_Entry]] = {}
        self._seen: dict[int, list[dict]] = {}  # blocks handed over ahead of a gap (trusted mode)
        self._covered: dict[str, int] = {}  # address -> first covered block (node mode)
        self.queries = 0  # log queries made to fill gaps (tests count them)

    # ---------------------------------------------------------------- filling
    def saw_block(self, number: int, logs: Sequence[dict]) -> None:
        """The logs of a block this process produced (trusted engines only; ignored on a node)."""
        if not self.trusted or number <= self.synced:
            return
        if number == self.synced + 1:
            self._add(logs, number)
            self.synced = number
        else:
            self._seen[number] = list(logs)

    def rewind(self, head: int) -> None:
        """Forget everything after block `head` (the chain was reverted to it)."""
        while self._entries and self._entries[-1].block > head:
            entry = self._entries.pop()
            for key in _keys(entry):
                bucket = self._by_key[key]
                bucket.pop()  # entries are appended in block order, so it is the last one
                if not bucket:
                    del self._by_key[key]
        self._seen = {n: logs for n, logs in self._seen.items() if n <= head}
        self.synced = min(self.synced, head)
        self._synced_hash = None

    def _add(self, logs: Iterable[dict], block: int | None = None) -> None:
        for raw in logs:
            event = raw.get("event") or decode_log(raw["address"], raw["topics"], raw["data"], raw["log_index"])
            if event is None:
                continue
            entry = _Entry(raw.get("block_number", block), raw["log_index"], raw["address"].lower(),
                           tuple(bytes(t) for t in raw["topics"]), event)
            self._entries.append(entry)
            for key in _keys(entry):
                self._by_key.setdefault(key, []).append(entry)

    def _sync(self) -> None:
        chain = self._chain
        head = chain.block_number
        if self.trusted:
            if head < self.synced:
                self.rewind(head)
            block = self.synced + 1
            while block <= head:
                logs = self._seen.pop(block, None)
                if logs is not None:
                    self._add(logs, block)
                    block += 1
                    continue
                gap_end = block
                while gap_end + 1 <= head and gap_end + 1 not in self._seen:
                    gap_end += 1
                self.queries += 1
                self._add(chain._logs(None, [], block, gap_end))
                block = gap_end + 1
            self.synced = head
            return
        # a node: check the last block read is still there, then read the new range
        if self.synced >= 0 and self._synced_hash is not None and chain._block_hash(self.synced) != self._synced_hash:
            self._restart()
        if self._covered and head > self.synced:
            self.queries += 1
            self._add(chain._logs([checksum(a) for a in sorted(self._covered)], [], self.synced + 1, head))
        if head != self.synced or self._synced_hash is None:
            self.synced = head
            self._synced_hash = chain._block_hash(head) if head >= 0 else None

    def _restart(self) -> None:
        starts = dict(self._covered)
        self._entries.clear()
        self._by_key.clear()
        self._covered.clear()
        self.synced, self._synced_hash = -1, None
        head = self._chain.block_number
        for address, start in starts.items():
            self._cover(address, start, head)
        self.synced = head

    def _cover(self, address: str, start: int, head: int) -> None:
        """Node mode: make sure `address` is held from block `start` on."""
        known = self._covered.get(address)
        if known is not None and known <= start:
            return
        end = head if known is None else known - 1
        if start <= end:
            self.queries += 1
            self._insert_older(self._chain._logs(checksum(address), [], start, end))
        self._covered[address] = start

    def _insert_older(self, logs: list[dict]) -> None:
        # Logs older than some held ones (a contract asked about for the first time): add, then re-sort.
        self._add(logs)
        order = lambda e: (e.block, e.log_index)  # noqa: E731
        self._entries.sort(key=order)
        for bucket in self._by_key.values():
            bucket.sort(key=order)

    # ---------------------------------------------------------------- reading
    def query(self, address: str, topics: Sequence, from_block: int, to_block: int | str) -> list[Event]:
        """Decoded logs of `address` matching `topics` ("0x.." hex, a list of them, or None per
        position) in [from_block, to_block], oldest first."""
        self._sync()
        address = address.lower()
        if not self.trusted:
            self._cover(address, from_block, self.synced)
        wanted = [_as_options(t) for t in topics]
        candidates = None
        for position, options in enumerate(wanted):
            if options is None:
                continue
            if len(options) == 1:
                bucket = self._by_key.get((address, position, next(iter(options))), [])
            else:
                bucket = sorted((e for o in options for e in self._by_key.get((address, position, o), [])),
                                key=lambda e: (e.block, e.log_index))
            if candidates is None or len(bucket) < len(candidates):
                candidates = bucket
        if candidates is None:
            candidates = self._by_key.get((address,), [])
        end = self.synced if to_block == "latest" else int(to_block)
        start = bisect_left(candidates, from_block, key=lambda e: e.block) if from_block > 0 else 0
        out = []
        for entry in candidates[start:]:
            if entry.block > end:
                break
            if all(o is None or (i < len(entry.topics) and entry.topics[i] in o) for i, o in enumerate(wanted)):
                out.append(entry.event)
        return out

    def __len__(self) -> int:
        return len(self._entries)


def _keys(entry: _Entry) -> list[tuple]:
    return [(entry.address,)] + [(entry.address, i, t) for i, t in enumerate(entry.topics)]


def _as_options(topic) -> frozenset[bytes] | None:
    if topic is None:
        return None
    if isinstance(topic, str):
        return frozenset([bytes.fromhex(topic[2:])])
    if isinstance(topic, (bytes, bytearray)):
        return frozenset([bytes(topic)])
    return frozenset(bytes.fromhex(t[2:]) if isinstance(t, str) else bytes(t) for t in topic)
