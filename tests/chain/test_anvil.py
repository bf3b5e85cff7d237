"""The same SDK and demo against a real Ethereum node: anvil from node_modules on 127.0.0.1."""

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from eth_account import Account as EthAccount
from eth_utils import keccak

import chainpay
from chainpay import errors

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.anvil


def test_cli_demo_runs_against_anvil(anvil_url):
    env = {k: v for k, v in os.environ.items() if k not in ("CHAINPAY_PRIVATE_KEYS", "CHAINPAY_DEBUG")}
    env["COLUMNS"] = "200"
    result = subprocess.run([sys.executable, "-m", "chainpay", "demo", "--rpc", anvil_url], capture_output=True,
                            text=True, env=env, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert f"chainpay demo on {anvil_url} (chain id 31337)" in result.stdout
    assert "refused DailyLimitExceeded" in result.stdout and "refused AddressFrozen" in result.stdout
    assert "54,600.00" in result.stdout


def test_sdk_with_locally_signed_transactions_on_anvil(anvil_url):
    # Fund fresh keys from a node account, then drive everything with local signing (as on Besu).
    keys = [keccak(text=f"chainpay anvil test key {i}") for i in range(8)]
    node = chainpay.connect(anvil_url)
    for key in keys:
        node.send(node.accounts[0], EthAccount.from_key(key).address, b"", value=10**20)
    chain = chainpay.connect(anvil_url, private_keys=keys)
    assert [a.key for a in chain.accounts] == [bytes(k) for k in keys]
    system = chainpay.deploy(chain)
    reg, cur = system.registry, system.currency
    officer, alice, bob = chain.accounts[4], chain.accounts[5], chain.accounts[6]
    reg.add_institution(1, "Platform A", 2)
    reg.add_kyc_officer(officer, 1)
    reg.register_identity(chainpay.identity_id("alice"), 2, alice, sender=officer)
    reg.register_identity(chainpay.identity_id("bob"), 2, bob, sender=officer)
    cur.mint(alice, Decimal("6000"))
    receipt = cur.transfer(bob, Decimal("4999.99"), sender=alice)
    assert receipt.event("Transfer").args["value"] == 499999
    # A refusal surfaces at gas estimation: typed, with arguments, and nothing was sent.
    block = chain.block_number
    with pytest.raises(errors.DailyLimitExceeded) as refused:
        cur.transfer(bob, Decimal("0.02"), sender=alice)
    assert (refused.value.limit, refused.value.spent_today, refused.value.amount) == (500000, 499999, 2)
    assert chain.block_number == block
    # Signed paths work the same on a real node (EIP-712 domain uses anvil's chain id).
    auth = cur.sign_authorization(bob, alice, Decimal("1"))
    cur.transfer_with_authorization(auth, sender=officer)
    assert cur.balance_of(alice) == Decimal("1001.01")
    # Time travel and snapshots use the node's RPC methods.
    snap = chain.snapshot()
    before = chain.now
    assert chain.advance_time(86_400) == before + 86_400
    cur.transfer(bob, Decimal("0.02"), sender=alice)  # a new UTC day
    chain.revert(snap)
    assert cur.balance_of(alice) == Decimal("1001.01")
    cur.transfer(bob, Decimal("0.01"), sender=alice)  # local nonces were reset by the revert
    assert cur.balance_of(alice) == Decimal("1001.00")
