"""`chainpay serve-content` as its own process against a real node (anvil): paid requests from the
Python client, a crash (SIGKILL, no shutdown), a restart on the same sqlite file that redeems the
stored vouchers, and a graceful stop (SIGTERM) that redeems the rest."""

from __future__ import annotations

import os
import time
import subprocess
import sys
from decimal import Decimal

import pytest
from eth_account import Account as EthAccount
from eth_utils import keccak
from support import ROOT, free_port, wait_for_port

import chainpay
from chainpay.content.parties import ContentClient
from chainpay.content.paywall import PaywallClient

pytestmark = pytest.mark.anvil


def test_serve_content_survives_a_crash_and_redeems_after_restart(anvil_url, tmp_path):
    keys = [keccak(text=f"chainpay paywall key {i}") for i in range(8)]
    node = chainpay.connect(anvil_url)
    for key in keys:
        node.send(node.accounts[0], EthAccount.from_key(key).address, b"", value=10**20)
    chain = chainpay.connect(anvil_url, private_keys=keys)
    system = chainpay.deploy(chain)
    manifest = system.save(tmp_path / "manifest.json")
    officer, provider, alice = chain.accounts[4], chain.accounts[5], chain.accounts[6]
    system.registry.add_institution(1, "Platform A", 3)
    system.registry.add_kyc_officer(officer, 1)
    system.registry.register_identity(chainpay.identity_id("provider"), 3, provider, sender=officer)
    system.registry.register_identity(chainpay.identity_id("alice"), 2, alice, sender=officer)
    system.currency.mint(alice, Decimal(100))
    listing = system.catalogue.list(Decimal("0.10"), "call", [(provider, 10_000)], sender=provider)
    page = tmp_path / "page.txt"
    page.write_text("one paid page")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "CHAINPAY_DEBUG"}
    env["CHAINPAY_PRIVATE_KEYS"] = "0x" + provider.key.hex()
    command = [sys.executable, "-m", "chainpay", "serve-content", "--manifest", str(manifest), "--port", str(port),
               "--provider", provider.address, "--offer", f"{listing.id}={page}", "--db", str(tmp_path / "v.sqlite"),
               "--redeem-every", "3600"]

    def start() -> subprocess.Popen:
        proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_for_port(port, proc, "serve-content")
        return proc

    url = f"http://127.0.0.1:{port}/content/{listing.id}"
    consumer = ContentClient(system.channels, alice)
    client = PaywallClient(consumer, deposit_uses=10)
    server = start()
    try:
        assert [client.get(url).text for _ in range(3)] == ["one paid page"] * 3
        (key,) = consumer._keys.values()
        server.kill()  # a crash: no shutdown, nothing redeemed
        server.wait(timeout=10)
        assert system.channels.get(key.id).redeemed == 0

        server = start()  # same sqlite file: the stored vouchers are redeemed at startup
        assert system.channels.get(key.id).redeemed == 30
        assert client.get(url).headers["X-Chainpay-Paid"] == "40"
        server.terminate()  # graceful: redeems on shutdown (uvicorn then re-raises SIGTERM: exit -15)
        assert server.wait(timeout=30) in (0, -15)
        assert system.channels.get(key.id).redeemed == 40
        assert system.channels.earnings(listing.id) == Decimal("0.40")
    finally:
        if server.poll() is None:
            server.kill()
        client.close()


def test_serve_content_refuses_a_listing_of_another_provider_in_one_line(anvil_url, tmp_path):
    chain = chainpay.connect(anvil_url)
    system = chainpay.deploy(chain)
    manifest = system.save(tmp_path / "manifest.json")
    system.registry.add_institution(1, "Platform A", 3)
    system.registry.add_kyc_officer(chain.accounts[4], 1)
    system.registry.register_identity(chainpay.identity_id("p"), 3, chain.accounts[5], sender=chain.accounts[4])
    listing = system.catalogue.list(Decimal(1), "download", [(chain.accounts[5], 10_000)], sender=chain.accounts[5])
    page = tmp_path / "song.mp3"
    page.write_bytes(b"\x00")
    result = subprocess.run([sys.executable, "-m", "chainpay", "serve-content", "--manifest", str(manifest),
                             "--port", str(free_port()), "--provider", "6", "--offer", f"{listing.id}={page}",
                             "--db", str(tmp_path / "v.sqlite")], capture_output=True, text=True, cwd=ROOT, timeout=120,
                            env={k: v for k, v in os.environ.items() if k not in ("CHAINPAY_PRIVATE_KEYS", "CHAINPAY_DEBUG")})
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip() == (f"chainpay: listing {listing.id} belongs to {chain.accounts[5].address}, "
                                     f"not to {chain.accounts[6].address}")


def test_serve_content_idle_for_several_rounds_then_restarts_on_the_same_db(anvil_url, tmp_path):
    """No new block between redemption rounds (an idle node) is nothing to scan, not an error: the
    server logs nothing for several rounds, shuts down cleanly, and restarts on the same sqlite file
    (its scanned block now ahead of the head) just as cleanly."""
    chain = chainpay.connect(anvil_url)
    system = chainpay.deploy(chain)
    manifest = system.save(tmp_path / "manifest.json")
    officer, provider = chain.accounts[4], chain.accounts[5]
    system.registry.add_institution(1, "Platform A", 3)
    system.registry.add_kyc_officer(officer, 1)
    system.registry.register_identity(chainpay.identity_id("idle provider"), 3, provider, sender=officer)
    listing = system.catalogue.list(Decimal("0.10"), "call", [(provider, 10_000)], sender=provider)
    page = tmp_path / "page.txt"
    page.write_text("idle page")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("CHAINPAY_PRIVATE_KEYS", "CHAINPAY_DEBUG")}
    env["CHAINPAY_LOG"] = "INFO"  # every redemption round and failure shows on stderr
    command = [sys.executable, "-m", "chainpay", "serve-content", "--manifest", str(manifest), "--port", str(port),
               "--provider", "5", "--offer", f"{listing.id}={page}", "--db", str(tmp_path / "v.sqlite"),
               "--redeem-every", "0.3"]
    for run in range(2):  # the second run starts on the db the first left, with no block in between
        head = chain.block_number
        server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            wait_for_port(port, server, "serve-content")
            time.sleep(2.5)  # ~8 idle redemption rounds
            assert server.poll() is None, f"run {run} exited: {server.stderr.read()}"
        finally:
            server.terminate()
            _, err = server.communicate(timeout=30)
        assert server.returncode in (0, -15), err
        for bad in ("Traceback", "failed", "ERROR", "BlockOutOfRange"):
            assert bad not in err, f"run {run}: {err}"
        assert chain.block_number == head  # idle: nothing was sent
