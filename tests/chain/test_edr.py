"""The fast engine (EDR in a node subprocess): the Chain surface, node-like failures, time control,
snapshots, its process life (never an orphan, even after SIGKILL of Python), and the fallback when
it is unavailable."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from decimal import Decimal

import pytest

import chainpay
from chainpay import errors
from chainpay.chain import TesterChain, connect, in_process, resolve_engine
from chainpay.chain.edr import TESTER_CHAIN_ID, EdrChain, EngineUnavailable, unavailable_reason

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=f"fast engine unavailable: {unavailable_reason()}")


@pytest.fixture(scope="module")
def edr():
    with EdrChain(num_accounts=4) as chain:
        yield chain


@pytest.fixture
def token(edr):
    snap = edr.snapshot()
    address = edr.deploy("BaselineERC20", [10**6], edr.accounts[0]).contract_address
    yield address
    edr.revert(snap)


def _transfer(edr, token, sender, to, amount):
    from chainpay.core.abi import load_artifact

    return edr.send(sender, token, load_artifact("BaselineERC20").fn("transfer").encode([edr.account(to).address, amount]))


def test_same_accounts_and_chain_id_as_the_reference():
    reference = TesterChain(num_accounts=4)
    with EdrChain(num_accounts=4) as fast:
        assert [a.address for a in fast.accounts] == [a.address for a in reference.accounts]
        assert [a.key for a in fast.accounts] == [a.key for a in reference.accounts]
        assert fast.chain_id == reference.chain_id == TESTER_CHAIN_ID
        assert fast.eth_balance(0) == reference.eth_balance(0) == 10**24
        assert fast.block_number == 0


def test_gas_and_events_of_a_transfer(edr, token):
    first = _transfer(edr, token, 0, 1, 100)
    second = _transfer(edr, token, 0, 1, 100)
    assert (first.gas_used, second.gas_used) == (51_411, 34_311)  # py-evm's figures (README)
    event = second.event("Transfer")
    assert (event["from"], event["to"], event["value"]) == (edr.accounts[0].address, edr.accounts[1].address, 100)
    assert second.block_number == first.block_number + 1


def test_a_failed_transaction_is_mined_and_consumes_its_nonce_like_a_node(edr, token):
    nonce = int(edr.rpc("eth_getTransactionCount", [edr.accounts[2].address, "latest"]), 16)
    block = edr.block_number
    with pytest.raises(errors.revert_class("ERC20InsufficientBalance")) as caught:
        _transfer(edr, token, 2, 1, 5)
    assert caught.value.values == (edr.accounts[2].address, 0, 5)
    assert caught.value.tx_hash.startswith("0x") and len(caught.value.tx_hash) == 66
    assert edr.block_number == block + 1
    assert int(edr.rpc("eth_getTransactionCount", [edr.accounts[2].address, "latest"]), 16) == nonce + 1
    receipt = edr.rpc("eth_getTransactionReceipt", [caught.value.tx_hash])
    assert receipt["status"] == "0x0" and int(receipt["gasUsed"], 16) > 21_000


def test_a_reverting_call_raises_the_typed_error_and_out_of_gas_is_a_transaction_failure(edr, token):
    from chainpay.core.abi import load_artifact

    data = load_artifact("BaselineERC20").fn("transfer").encode([edr.accounts[1].address, 7])
    with pytest.raises(errors.revert_class("ERC20InsufficientBalance")):
        edr.call(token, data, sender=3)
    block = edr.block_number
    with pytest.raises(errors.TransactionFailed) as caught:
        edr.send(0, token, data, gas=25_000)
    assert not isinstance(caught.value, errors.ContractRevert) and caught.value.tx_hash
    assert edr.block_number == block + 1
    with pytest.raises(errors.TransactionFailed, match="refused"):
        edr.send(0, token, data, gas=1_000)  # below intrinsic gas: refused, nothing mined
    assert edr.block_number == block + 1


def test_block_time_control_is_exact(edr):
    snap = edr.snapshot()
    now = edr.now
    assert edr.advance_time(3600) == now + 3600 == edr.now
    edr.set_next_block_time(now + 7200)
    edr.send(0, edr.accounts[1].address, b"", value=1)
    assert edr.now == now + 7200
    assert edr.advance_time(0) == now + 7200
    with pytest.raises(ValueError):
        edr.set_next_block_time(now + 7200)
    with pytest.raises(ValueError):
        edr.advance_time(-1)
    edr.revert(snap)
    assert edr.now == now


def test_the_head_kept_without_asking_is_the_engines_after_every_kind_of_step(edr, token):
    """The engine object answers ``now`` and ``block_number`` from the head it keeps; after every step
    that can move the head, that must be what the engine itself reports."""
    from chainpay.core.abi import load_artifact

    def engine_head():
        header = edr.rpc("eth_getBlockByNumber", ["latest", False])
        return int(header["number"], 16), int(header["timestamp"], 16)

    def check():
        assert (edr.block_number, edr.now) == engine_head()

    snap = edr.snapshot()
    steps = [
        lambda: _transfer(edr, token, 0, 1, 1),
        lambda: pytest.raises(errors.ContractRevert, _transfer, edr, token, 2, 1, 5),  # failed: mined
        lambda: pytest.raises(errors.TransactionFailed, edr.send, 0, token,  # refused: nothing mined
                              load_artifact("BaselineERC20").fn("transfer").encode([edr.accounts[1].address, 1]), 0, 1_000),
        lambda: edr.advance_time(7),
        lambda: edr.set_next_block_time(edr.now + 1),  # no block yet
        lambda: _transfer(edr, token, 0, 1, 1),
        lambda: edr.set_next_block_time(edr.now + 100),  # mines an empty block at +99
        lambda: _transfer(edr, token, 0, 1, 1),
        lambda: edr.rpc("evm_mine"),  # a raw request the object cannot follow: it asks again
        lambda: edr.revert(snap),
        lambda: pytest.raises(ValueError, edr.set_next_block_time, edr.now),
    ]
    for step in steps:
        step()
        check()


def test_a_batch_stops_at_its_first_error(edr):
    """advance_time and set_next_block_time send "set the time, mine" as one batch: a refused time
    must not let the mine go ahead at a time of the engine's choosing."""
    from chainpay.chain.edr import _NodeError

    number, now = edr.block_number, edr.now
    with pytest.raises(_NodeError):
        edr._rpc_batch(("evm_setNextBlockTimestamp", [hex(now - 10)]), ("evm_mine", []))
    assert (edr.block_number, edr.now) == (number, now)


def test_snapshots_are_reusable_and_later_ones_die_with_an_earlier_revert(edr):
    start = edr.block_number
    first = edr.snapshot()
    edr.advance_time(10)
    second = edr.snapshot()
    edr.advance_time(10)
    edr.revert(second)
    assert edr.block_number == start + 1
    edr.advance_time(10)
    edr.revert(second)  # a handle stays usable, as on eth-tester
    assert edr.block_number == start + 1
    edr.revert(first)
    assert edr.block_number == start
    with pytest.raises(errors.ChainConnectionError, match="snapshot"):
        edr.revert(second)


def test_close_stops_the_process_and_later_use_is_a_clear_error():
    chain = EdrChain(num_accounts=1)
    pid = chain.pid
    chain.close()
    chain.close()  # idempotent
    assert not _alive(pid)
    with pytest.raises(errors.ChainConnectionError):
        chain.block_number


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as status:
            return not any(line.startswith("State:") and "Z" in line.split()[1] for line in status)
    except FileNotFoundError:
        return False


def test_the_node_process_dies_with_a_sigkilled_python_parent():
    script = ("import sys, time; from chainpay.chain.edr import EdrChain; c = EdrChain(num_accounts=2); "
              "print(c.pid, flush=True); time.sleep(120)")
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        pid = int(parent.stdout.readline())
        assert _alive(pid)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(pid), "the EDR host outlived its Python parent"
    finally:
        if parent.poll() is None:
            parent.kill()


def test_engine_choice(monkeypatch):
    assert isinstance(connect(), TesterChain)  # the pure-Python reference stays the default
    with connect("edr", accounts=2) as fast:
        assert isinstance(fast, EdrChain) and len(fast.accounts) == 2
    with connect(engine="edr", accounts=2) as fast:
        assert isinstance(fast, EdrChain)
    assert resolve_engine("auto") == "edr"
    with pytest.raises(errors.InvalidInput, match="engine"):
        connect(engine="pyrevm")


def test_without_node_the_fast_engine_is_refused_with_a_reason_and_auto_falls_back(monkeypatch, caplog):
    monkeypatch.setenv("CHAINPAY_NODE", "/nonexistent/node")
    monkeypatch.setattr("shutil.which", lambda name: None)
    monkeypatch.setenv("CHAINPAY_NODE_MODULES", "/nonexistent")
    monkeypatch.chdir("/")
    reason = unavailable_reason()
    assert reason is not None
    with pytest.raises(EngineUnavailable):
        connect("edr")
    with caplog.at_level("WARNING"):
        chain = in_process("auto", accounts=2)
    assert isinstance(chain, TesterChain)
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "eth-tester" in warnings[0]


def test_the_sdk_runs_on_the_fast_engine():
    with chainpay.connect("edr", accounts=8) as chain:
        system = chainpay.deploy(chain)
        assert system.currency.total_supply() == Decimal(0)
