"""`chainpay platform ...` against a lasting deployment on anvil with two platforms opened by the deploy
config: top-up, show, balance, interconvert (direct and through the escrow), redeem, ratio; refusals as
one line with nothing sent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from eth_account import Account as EthAccount
from test_transfer_cli import cli, one_error_line

import chainpay
from chainpay.chain import Account
from chainpay.currency.registry import identity_id

pytestmark = pytest.mark.anvil
ANVIL_MNEMONIC = "test test test test test test test test test test test junk"  # anvil's default accounts

CONFIG = """
[[platforms]]
id = 101
name = "Pay A"

[[platforms]]
id = 102
name = "Pay B"
ratio = "20%"
max_tier = 3
"""


@pytest.fixture(scope="module")
def deployment(anvil_url, tmp_path_factory):
    folder = tmp_path_factory.mktemp("platform-cli")
    manifest, config = folder / "manifest.json", folder / "deploy.toml"
    config.write_text(CONFIG)
    result = cli("deploy", "--rpc", anvil_url, "--out", str(manifest), "--config", str(config))
    assert result.returncode == 0, result.stderr
    system = chainpay.load(manifest)
    officer_a, officer_b = system.chain.accounts[4], system.chain.accounts[6]
    alice, alice_b, device = system.chain.accounts[8], system.chain.accounts[9], system.chain.accounts[10]
    system.registry.register_identity(identity_id("cli-platform-alice"), 3, alice, sender=officer_a)
    # alice is a node account: her consent is signed with anvil's well-known key for account #8
    EthAccount.enable_unaudited_hdwallet_features()
    key = EthAccount.from_mnemonic(ANVIL_MNEMONIC, account_path="m/44'/60'/0'/0/8").key
    assert EthAccount.from_key(key).address == alice.address
    system.registry.link_address(identity_id("cli-platform-alice"), alice_b, sender=officer_b,
                                 consenting=Account(alice.address, bytes(key)))
    system.registry.set_approver(identity_id("cli-platform-alice"), device, sender=officer_a)
    system.currency.mint(alice, Decimal(20_000))
    return manifest, system, alice, alice_b


def test_platform_commands(deployment):
    manifest, system, alice, alice_b = deployment
    shown = cli("platform", "show", "101", "102", manifest=manifest)
    assert shown.returncode == 0 and "100.00%" in shown.stdout and "20.00%" in shown.stdout
    top = cli("platform", "top-up", "101", "7000", "--as", "8", manifest=manifest)
    assert top.returncode == 0 and "top-up 7000 yuan at platform 101" in top.stdout, top.stderr
    moved = cli("platform", "interconvert", "101", "102", alice_b.address, "250.50", "--as", "8", manifest=manifest)
    assert moved.returncode == 0 and "moved from platform 101 to 102" in moved.stdout, moved.stderr
    escrowed = cli("platform", "interconvert", "101", "102", alice_b.address, "6000", "--as", "8", manifest=manifest)
    assert "waits in escrow as transfer" in escrowed.stdout and "second approval" in escrowed.stdout
    balance = cli("platform", "balance", alice.address, "101", "102", manifest=manifest)
    assert "currency 13,000.00, platform 101 749.50, platform 102 0.00" in balance.stdout, balance.stdout
    redeemed = cli("platform", "redeem", "102", "250.50", "--as", "9", manifest=manifest)
    assert redeemed.returncode == 0 and system.currency.balance_of(alice_b) == Decimal("250.50")
    assert system.platforms.reserve_of(102) == 0


def test_platform_refusals_are_one_line_and_send_nothing(deployment):
    manifest, system, alice, alice_b = deployment
    block = system.chain.block_number
    one_error_line(cli("platform", "top-up", "102", "1", "--as", "8", manifest=manifest),
                   "refused by the contract: NotCustomer")
    one_error_line(cli("platform", "ratio", "101", "150%", manifest=manifest), "between 0 and 1")
    one_error_line(cli("platform", "top-up", "101", "-5", "--as", "8", manifest=manifest), "")
    one_error_line(cli("platform", "interconvert", "101", "102", "7", "1", "--as", "8", manifest=manifest),
                   "is a number, not an address")
    assert system.chain.block_number == block
