"""The voucher store's group commit: concurrent records share transactions, each returns only once its
voucher is committed (a second connection sees it), a queued voucher counts in the comparison (no equal
or smaller amount, nor a too-small increase, slips in behind it), and the asyncio path does the same."""

from __future__ import annotations

import asyncio
import sqlite3
import threading

from chainpay.content.channels import ChannelKey
from chainpay.content.store import VoucherStore
from chainpay.content.vouchers import SignedVoucher

CONSUMER, PROVIDER = "0x" + "11" * 20, "0x" + "22" * 20


def _keys(n: int) -> list[ChannelKey]:
    return [ChannelKey(CONSUMER, PROVIDER, 1, 10, i.to_bytes(32, "big")) for i in range(n)]


def _voucher(key: ChannelKey, amount: int) -> SignedVoucher:
    return SignedVoucher(key.id, amount, bytes(65))


def _committed(path, key: ChannelKey) -> int:
    with sqlite3.connect(path) as other:
        return int(other.execute("SELECT amount FROM channels WHERE channel_id = ?", (key.id,)).fetchone()[0])


def test_concurrent_records_share_commits_and_each_is_durable_on_return(tmp_path):
    store = VoucherStore(tmp_path / "v.sqlite")
    keys = _keys(24)
    for key in keys:
        store.add_channel(key)
    seen: dict[bytes, int] = {}
    gate = threading.Barrier(len(keys))

    def pay(key):
        gate.wait()
        for amount in range(10, 110, 10):
            assert store.record(_voucher(key, amount), min_increase=10)
            seen[key.id] = _committed(store.path, key)  # durable when record returns
            assert seen[key.id] >= amount

    threads = [threading.Thread(target=pay, args=(k,)) for k in keys]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(_committed(store.path, k) == 100 for k in keys)
    assert store.commits < 24 * 10  # vouchers shared transactions
    store.close()


def test_a_queued_voucher_counts_in_the_comparison(tmp_path):
    store = VoucherStore(tmp_path / "v.sqlite")
    (key,) = _keys(1)
    store.add_channel(key)
    assert store.record(_voucher(key, 10), min_increase=10)
    assert not store.record(_voucher(key, 10), min_increase=10)  # replay
    assert not store.record(_voucher(key, 15), min_increase=10)  # adds less than one unit
    # queued but not yet committed: hold the writer so the batch cannot commit, then compare
    with store._lock:
        done = []
        writer = threading.Thread(target=lambda: done.append(store.record(_voucher(key, 20), min_increase=10)))
        writer.start()
        while store._queued.get(key.id) != 20:  # taken by the writer, which waits for the connection
            pass
        with store._group:
            assert store._enqueue_voucher(_voucher(key, 20), None, 10) is None  # equal to the queued one
            assert store._enqueue_voucher(_voucher(key, 25), None, 10) is None  # 5 over the queued 20: too little
    writer.join()
    assert done == [True] and _committed(store.path, key) == 20
    store.close()


def test_record_async_resolves_once_committed(tmp_path):
    store = VoucherStore(tmp_path / "v.sqlite")
    keys = _keys(8)
    for key in keys:
        store.add_channel(key)

    async def main():
        store._lock.acquire()  # the writer's connection is busy: nothing can commit
        futures = [store.record_async(_voucher(k, 10), min_increase=10) for k in keys]
        assert all(f is not None for f in futures)
        await asyncio.sleep(0.3)
        assert not any(f.done() for f in futures)  # not durable, so not done
        store._lock.release()
        await asyncio.gather(*futures)
        assert all(_committed(store.path, k) == 10 for k in keys)
        assert store.record_async(_voucher(keys[0], 10), min_increase=10) is None  # replay refused at once

    asyncio.run(main())
    assert store.commits <= 8
    store.close()
