"""The event index: answers from what the SDK has seen, reads only new blocks, and stays right across
snapshot/revert, blocks mined behind the SDK's back and a node reverted by someone else."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chainpay.chain import TesterChain
from chainpay.testing import build_system


def _count_log_queries(chain, monkeypatch) -> list:
    ranges = []
    real = chain._logs

    def spy(address, topics, from_block, to_block):
        ranges.append((from_block, to_block))
        return real(address, topics, from_block, to_block)

    monkeypatch.setattr(chain, "_logs", spy)
    return ranges


def test_memos_and_histories_come_from_the_index_without_log_queries(system, actors, monkeypatch):
    chain, tr = system.chain, system.transfers
    ranges = _count_log_queries(chain, monkeypatch)
    sent = [tr.send(actors.bob, Decimal(i + 1), sender=actors.alice, memo=f"memo {i}") for i in range(3)]
    assert [tr.get(r.id).memo for r in sent] == ["memo 0", "memo 1", "memo 2"]
    assert [r.memo for r in tr.pending_for(actors.bob)] == ["memo 0", "memo 1", "memo 2"]
    assert [r.id for r in tr.history_for(actors.alice)] == [r.id for r in sent]
    assert tr.history_for(actors.carol) == []
    assert ranges == []  # every block came from this process: nothing was re-read


def test_blocks_mined_elsewhere_are_read_once_and_only_their_range(system, actors, monkeypatch):
    chain, tr = system.chain, system.transfers
    first = tr.send(actors.bob, Decimal(1), sender=actors.alice, memo="before")
    ranges = _count_log_queries(chain, monkeypatch)
    chain.advance_time(60)  # an empty block the index has not seen
    gap_start = chain.block_number
    chain.advance_time(60)
    assert tr.get(first.id).memo == "before"
    assert ranges == [(gap_start, gap_start + 1)]
    assert tr.get(first.id).memo == "before"
    assert len(ranges) == 1  # nothing new: no second read


def test_snapshot_revert_cuts_the_index_back(system, actors):
    chain, tr = system.chain, system.transfers
    snap = chain.snapshot()
    lost = tr.send(actors.bob, Decimal(2), sender=actors.alice, memo="reverted away")
    assert tr.get(lost.id).memo == "reverted away"
    chain.revert(snap)
    assert tr.pending_for(actors.bob) == []
    again = tr.send(actors.carol, Decimal(3), sender=actors.alice, memo="the real one")
    assert again.id == lost.id  # same id on the new branch
    assert tr.get(again.id).memo == "the real one"
    assert [r.memo for r in tr.history_for(actors.alice)] == ["the real one"]
    assert tr.history_for(actors.bob) == []


def test_a_failed_transaction_leaves_the_index_whole(system, actors):
    from chainpay import errors

    tr = system.transfers
    with pytest.raises(errors.ContractRevert):
        tr.revoke(99, sender=actors.alice)  # unknown transfer: reverts, mined in a block of its own
    ok = tr.send(actors.bob, Decimal(1), sender=actors.alice, memo="after a failure")
    assert tr.get(ok.id).memo == "after a failure"


def test_the_index_is_right_after_blocks_made_behind_the_sdks_back_on_eth_tester():
    chain = TesterChain(num_accounts=16)
    system, actors = build_system(chain)
    tr = system.transfers
    record = tr.send(actors.bob, Decimal(1), sender=actors.alice, memo="first")
    chain.tester.mine_blocks(3)  # straight through eth-tester
    assert tr.get(record.id).memo == "first"
    assert chain.index.synced == chain.block_number


@pytest.mark.anvil
def test_on_a_node_the_index_sees_other_senders_and_a_revert_made_by_someone_else(anvil_url):
    from chainpay.chain import RpcChain

    watcher = RpcChain(anvil_url)
    other = RpcChain(anvil_url)  # another process, as far as `watcher` knows
    from chainpay.core.abi import load_artifact

    token = other.deploy("BaselineERC20", [10**6], other.accounts[0]).contract_address
    start = watcher.block_number + 1  # after the deployment (its mint)
    transfer = load_artifact("BaselineERC20").fn("transfer")
    other.send(0, token, transfer.encode([other.accounts[1].address, 5]))
    assert [e["value"] for e in watcher.logs(token, from_block=start)] == [5]
    snap = other.snapshot()
    other.send(0, token, transfer.encode([other.accounts[1].address, 6]))
    assert [e["value"] for e in watcher.logs(token, from_block=start)] == [5, 6]
    other.revert(snap)  # behind the watcher's back
    other.send(0, token, transfer.encode([other.accounts[1].address, 7]))
    assert [e["value"] for e in watcher.logs(token, from_block=start)] == [5, 7]
