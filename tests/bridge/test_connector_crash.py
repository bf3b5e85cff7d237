"""`chainpay connector run` as its own process against two anvil nodes (each its own chain id, on free
127.0.0.1 ports), killed with SIGKILL at the two dangerous moments and restarted on the same sqlite
file, in both directions. Every holding is summed across both chains before and after; every wait is
bounded."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

from bridge_support import ledger, moved
from chainpay.bridge import LockState, Secret
from chainpay.bridge.service import ConnectorClient
from chainpay.bridge.network import build_network
from chainpay.chain import connect
from support import ANVIL, free_port, wait_for_port

pytestmark = pytest.mark.anvil

WAIT = 60  # seconds: the longest any single step may take before the test fails


def start_anvil(chain_id: int, accounts: int):
    """An anvil node from node_modules on a free 127.0.0.1 port with its own chain id: (process, url)."""
    if not ANVIL.is_file():
        pytest.fail(f"anvil not found at {ANVIL}: run `npm ci` (make test does)")
    port = free_port()
    proc = subprocess.Popen([str(ANVIL), "--host", "127.0.0.1", "--port", str(port), "--accounts", str(accounts),
                             "--chain-id", str(chain_id), "--silent"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_for_port(port, proc, f"anvil (chain id {chain_id})", timeout=WAIT)
    return proc, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def nodes():
    procs, urls = [], []
    for chain_id in (31337, 31338):
        proc, url = start_anvil(chain_id, accounts=8)
        procs.append(proc)
        urls.append(url)
    yield urls
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def network(nodes, tmp_path):
    """A fresh deployment on both nodes per test (the nodes are shared: new contracts each time)."""
    net = build_network(people=2, chains=(connect(nodes[0]), connect(nodes[1])))
    for who in net.people:  # opening balances are on A: give everyone something on B too, for B->A
        net.b.currency.mint(who.b, Decimal(1000))
    manifests = []
    for side, platform in (("a", net.a), ("b", net.b)):
        manifest = platform.system.manifest()
        manifest["contracts"]["HashedTimelockBridge"] = {"address": platform.bridge.address, "artifact": "HashedTimelockBridge"}
        manifest["deployed_at_block"] = platform.bridge.deployed_at_block
        path = tmp_path / f"{side}.json"
        path.write_text(json.dumps(manifest))
        manifests.append(path)
    return net, manifests


class ConnectorProcess:
    def __init__(self, manifests, db: Path, account: str, log: Path):
        self.port = free_port()
        self.args = [sys.executable, "-m", "chainpay", "connector", "run", "--a", str(manifests[0]), "--b", str(manifests[1]),
                     "--db", str(db), "--account", account, "--port", str(self.port), "--poll-every", "0.3"]
        self.log, self.db = log, db
        self.proc: subprocess.Popen | None = None

    def start(self) -> ConnectorClient:
        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=self.log.open("ab"))
        deadline = time.monotonic() + WAIT
        client = ConnectorClient(f"http://127.0.0.1:{self.port}")
        while True:
            if client.healthy():
                return client
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"connector did not start: {self.log.read_text()[-2000:]}")
            time.sleep(0.2)

    def pause(self) -> None:
        os.kill(self.proc.pid, signal.SIGSTOP)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


@pytest.fixture
def connector_process(network, tmp_path):
    net, manifests = network
    proc = ConnectorProcess(manifests, tmp_path / "connector.sqlite", net.connector.a.address, tmp_path / "connector.log")
    yield proc
    proc.kill()


def wait_until(what: str, condition, timeout: float = WAIT):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.2)


def _sides(net, direction):
    """(source platform, dest platform, the person's source and dest accounts) for a direction."""
    who = net.people[0]
    if direction == "A->B":
        return net.a, net.b, who.a, who.b, who
    return net.b, net.a, who.b, who.a, who


def _inbound(dest, hashlock, connector_account):
    locks = [l for l in dest.bridge.locks_for(hashlock) if l.inbound and l.locker == connector_account.address]
    return locks[0] if locks else None


@pytest.mark.parametrize("direction", ["A->B", "B->A"])
def test_killed_after_the_recipient_claimed_it_still_claims_the_senders_lock_before_T_A(network, connector_process, direction):
    net, _ = network
    src, dst, sender, recipient, who = _sides(net, direction)
    conn_src, conn_dst = (net.connector.a, net.connector.b) if direction == "A->B" else (net.connector.b, net.connector.a)
    before = ledger(net)
    client = connector_process.start()
    secret = Secret.new()
    quote = client.quote(direction, Decimal("12.34"), recipient.address, who.identity, secret.hashlock, sender.address)
    out = src.bridge.lock(quote.pay_to, quote.total, secret.hashlock, quote.min_timelock, who.identity, sender=sender)
    inbound = wait_until("the connector's lock", lambda: _inbound(dst, secret.hashlock, conn_dst))
    connector_process.pause()  # frozen in place ...
    dst.bridge.claim(inbound.id, secret.preimage, sender=recipient)  # ... the recipient claims ...
    connector_process.kill()  # ... and the connector dies before it could claim on A
    assert src.bridge.get(out.id).state is LockState.OPEN
    connector_process.start()
    claimed = wait_until("the connector's claim on the source chain",
                         lambda: src.bridge.get(out.id).state is LockState.CLAIMED)
    assert claimed and src.chain.now < out.timelock  # a claim is only possible before T_A: the lock says so
    after = ledger(net)
    assert moved(before, after) == {who.name: -quote.fee, "connector": quote.fee}
    listing = subprocess.run([sys.executable, "-m", "chainpay", "connector", "deals", "--db", str(connector_process.db)],
                             capture_output=True, text=True, timeout=WAIT)
    assert listing.returncode == 0 and direction in listing.stdout and "settled" in listing.stdout


def test_run_refuses_two_manifests_of_one_chain_in_one_line(network, tmp_path):
    _, manifests = network
    proc = subprocess.run([sys.executable, "-m", "chainpay", "connector", "run", "--a", str(manifests[0]), "--b",
                           str(manifests[0]), "--account", "5", "--port", str(free_port()), "--db", str(tmp_path / "x.sqlite")],
                          capture_output=True, text=True, timeout=WAIT)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    assert "both manifests are on chain id 31337" in proc.stderr and not (tmp_path / "x.sqlite").exists()


@pytest.mark.parametrize("direction", ["A->B", "B->A"])
def test_killed_between_the_senders_lock_and_its_own_the_crossing_completes_after_restart(network, connector_process, direction):
    net, _ = network
    src, dst, sender, recipient, who = _sides(net, direction)
    conn_dst = net.connector.b if direction == "A->B" else net.connector.a
    before = ledger(net)
    client = connector_process.start()
    secret = Secret.new()
    quote = client.quote(direction, Decimal("7.00"), recipient.address, who.identity, secret.hashlock, sender.address)
    connector_process.pause()
    out = src.bridge.lock(quote.pay_to, quote.total, secret.hashlock, quote.min_timelock, who.identity, sender=sender)
    connector_process.kill()  # the sender's lock is on chain, the connector's is not
    assert _inbound(dst, secret.hashlock, conn_dst) is None
    connector_process.start()  # the quote was in sqlite; the sender's lock is read back from the chain
    inbound = wait_until("the connector's lock after the restart", lambda: _inbound(dst, secret.hashlock, conn_dst))
    dst.bridge.claim(inbound.id, secret.preimage, sender=recipient)
    wait_until("the connector's claim on the source chain", lambda: src.bridge.get(out.id).state is LockState.CLAIMED)
    assert len([l for l in dst.bridge.locks_for(secret.hashlock)]) == 1  # locked once, not again after the restart
    assert moved(before, ledger(net)) == {who.name: -quote.fee, "connector": quote.fee}
