"""`chainpay transfer ...` against a lasting deployment on anvil: every command, and errors as one line."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal

import pytest
from support import ROOT

import chainpay
from chainpay.currency.registry import identity_id

pytestmark = pytest.mark.anvil


def cli(*args, manifest=None):
    env = {k: v for k, v in os.environ.items() if k not in ("CHAINPAY_PRIVATE_KEYS", "CHAINPAY_DEBUG", "CHAINPAY_MANIFEST")}
    env["COLUMNS"] = "250"
    if manifest is not None:
        env["CHAINPAY_MANIFEST"] = str(manifest)
    return subprocess.run([sys.executable, "-m", "chainpay", *args], capture_output=True, text=True, env=env,
                          timeout=300, cwd=ROOT)


def one_error_line(result, fragment):
    assert result.returncode != 0 and "Traceback" not in result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and fragment in lines[0], result.stderr


@pytest.fixture(scope="module")
def deployment(anvil_url, tmp_path_factory):
    """A deployment on anvil made by `chainpay deploy`, with alice and bob registered and funded."""
    manifest = tmp_path_factory.mktemp("cli") / "manifest.json"
    result = cli("deploy", "--rpc", anvil_url, "--out", str(manifest))
    assert result.returncode == 0, result.stderr
    system = chainpay.load(manifest)
    officer, alice, bob, device = (system.chain.accounts[i] for i in (4, 5, 6, 7))
    system.registry.add_institution(1, "Platform A", 3)
    system.registry.add_kyc_officer(officer, 1)
    system.registry.register_identity(identity_id("cli-alice"), 3, alice, sender=officer)
    system.registry.register_identity(identity_id("cli-bob"), 2, bob, sender=officer)
    system.registry.set_approver(identity_id("cli-alice"), device, sender=officer)
    system.currency.mint(alice, Decimal(20_000))
    return manifest, system, alice, bob, device


def test_send_list_show_revoke(deployment):
    manifest, system, alice, bob, _ = deployment
    sent = cli("transfer", "send", bob.address, "12.50", "--memo", "lunch", "--as", "5", manifest=manifest)
    assert sent.returncode == 0, sent.stderr
    assert "sent: pending, 12.50 yuan from" in sent.stdout and "releases at" in sent.stdout
    transfer_id = int(sent.stdout.split()[1])
    listed = cli("transfer", "list", bob.address, manifest=manifest)
    assert listed.returncode == 0 and "lunch" in listed.stdout and "12.50" in listed.stdout
    shown = cli("transfer", "show", str(transfer_id), manifest=manifest)
    assert f"transfer {transfer_id}: pending" in shown.stdout
    one_error_line(cli("transfer", "revoke", str(transfer_id), "--as", "6", manifest=manifest),
                   "refused by the contract: NotSender")
    revoked = cli("transfer", "revoke", str(transfer_id), "--as", alice.address, manifest=manifest)
    assert revoked.returncode == 0 and f"transfer {transfer_id}: revoked" in revoked.stdout
    assert system.transfers.get(transfer_id).state.name == "REVOKED"
    history = cli("transfer", "list", alice.address, "--all", manifest=manifest)
    assert "revoked" in history.stdout


def test_approval_release_and_keeper(deployment):
    manifest, system, alice, bob, device = deployment
    big = cli("transfer", "send", bob.address, "6000", "--as", "5", manifest=manifest)
    assert "awaiting approval" in big.stdout and "needs a second approval" in big.stdout
    big_id = int(big.stdout.split()[1])
    one_error_line(cli("transfer", "approve", str(big_id), "--as", "6", manifest=manifest), "NotApprover")
    approved = cli("transfer", "approve", str(big_id), "--as", device.address, manifest=manifest)
    assert approved.returncode == 0 and f"transfer {big_id}: pending" in approved.stdout
    early = cli("transfer", "release", str(big_id), "--as", "9", manifest=manifest)
    one_error_line(early, "NotYetDue")
    system.chain.advance_time(2 * 3600)
    delivered = cli("transfer", "deliver", "--as", "9", manifest=manifest)
    assert delivered.returncode == 0 and "released 1," in delivered.stdout
    assert system.transfers.get(big_id).state.name == "RELEASED"
    assert system.currency.balance_of(bob) == Decimal(6000)


def test_dispute_and_resolve(deployment):
    manifest, system, alice, bob, _ = deployment
    sent = cli("transfer", "send", bob.address, "30", "--as", "5", manifest=manifest)
    transfer_id = int(sent.stdout.split()[1])
    disputed = cli("transfer", "dispute", str(transfer_id), "--as", "6", manifest=manifest)
    assert f"transfer {transfer_id}: disputed" in disputed.stdout and "dispute deadline" in disputed.stdout
    one_error_line(cli("transfer", "resolve", str(transfer_id), "--to", "sender", "--as", "6", manifest=manifest),
                   "AccessControlUnauthorizedAccount")
    resolved = cli("transfer", "resolve", str(transfer_id), "--to", "sender", manifest=manifest)  # compliance
    assert resolved.returncode == 0 and f"transfer {transfer_id}: resolved to sender" in resolved.stdout


def test_bad_input_is_one_line(deployment, tmp_path):
    manifest, *_ = deployment
    one_error_line(cli("transfer", "send", "0x12", "1", "--as", "5", manifest=manifest), "is not an address")
    one_error_line(cli("transfer", "send", "0x" + "ab" * 20, "1.001", "--as", "5", manifest=manifest),
                   "more than 2 decimal places")
    one_error_line(cli("transfer", "show", "999", manifest=manifest), "UnknownTransfer")
    one_error_line(cli("transfer", "show", "1", manifest=tmp_path / "missing.json"), "cannot read manifest")
    in_process = tmp_path / "in-process.json"
    assert cli("deploy", "--out", str(in_process)).returncode == 0
    one_error_line(cli("transfer", "list", "0x" + "ab" * 20, manifest=in_process), "in-process chain")


def test_compliance_holds_a_frozen_senders_transfer(deployment):
    """Review finding 7 from the command line: no hold while both parties are active; once the sender
    is frozen, compliance (the default --as) holds the transfer and it becomes a dispute."""
    manifest, system, alice, bob, _ = deployment
    sent = cli("transfer", "send", bob.address, "40", "--as", "5", manifest=manifest)
    transfer_id = int(sent.stdout.split()[1])
    one_error_line(cli("transfer", "hold", str(transfer_id), manifest=manifest), "PartiesActive")
    system.registry.freeze_address(alice)
    try:
        held = cli("transfer", "hold", str(transfer_id), manifest=manifest)
        assert held.returncode == 0 and f"transfer {transfer_id}: disputed" in held.stdout, held.stderr
        assert system.transfers.get(transfer_id).state.name == "DISPUTED"
    finally:  # a fresh client: the CLI used the compliance account's next nonce meanwhile
        chainpay.load(manifest).registry.unfreeze_address(alice)
