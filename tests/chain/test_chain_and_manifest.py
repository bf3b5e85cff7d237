"""Chain behaviour common to both kinds, deployment roles and the manifest."""

import json
from decimal import Decimal

import pytest
from eth_utils import keccak

import chainpay
from chainpay import errors
from chainpay.system import load


def test_accounts_resolve_by_index_address_and_account(chain):
    first = chain.accounts[0]
    assert chain.account(0) is first
    assert chain.account(first.address.lower()) is first
    assert chain.account(first) is first
    with pytest.raises(errors.ChainpayError, match="no account #999"):
        chain.account(999)


def test_advance_time_moves_the_block_clock(chain):
    chain.advance_time(86_400)  # get ahead of the wall clock: from here on the clock is exact
    before = chain.now
    after = chain.advance_time(3 * 3600)
    assert after - before == 3 * 3600
    assert chain.advance_time(1) == after + 1
    with pytest.raises(ValueError):
        chain.advance_time(-1)


def test_snapshot_and_revert_restore_balances_and_blocks(system, actors):
    chain, cur = system.chain, system.currency
    snap = chain.snapshot()
    block = chain.block_number
    cur.transfer(actors.bob, Decimal("25"), sender=actors.alice)
    assert cur.balance_of(actors.alice) == Decimal("975.00")
    chain.revert(snap)
    assert cur.balance_of(actors.alice) == Decimal("1000.00")
    assert chain.block_number == block


def test_receipt_carries_hash_gas_and_decoded_events(system, actors):
    receipt = system.currency.transfer(actors.bob, Decimal("1.25"), sender=actors.alice)
    assert receipt.tx_hash.startswith("0x") and len(receipt.tx_hash) == 66
    assert 40_000 < receipt.gas_used < 80_000
    event = receipt.event("Transfer")
    assert event.address == system.currency.address
    assert event.args == {"from": actors.alice.address, "to": actors.bob.address, "value": 125}
    with pytest.raises(ValueError):
        receipt.event("Approval")


def test_a_reverted_transaction_changes_nothing_but_the_nonce(system, actors):
    cur = system.currency
    before = (cur.balance_of(actors.alice), cur.balance_of(actors.bob), cur.outflow_today(actors.alice))
    with pytest.raises(errors.ERC20InsufficientBalance) as refused:
        cur.transfer(actors.bob, Decimal("1000.01"), sender=actors.alice)
    assert refused.value.balance == 100000 and refused.value.needed == 100001
    assert refused.value.sender == actors.alice.address
    assert refused.value.tx_hash.startswith("0x")
    assert (cur.balance_of(actors.alice), cur.balance_of(actors.bob), cur.outflow_today(actors.alice)) == before


def test_deploy_assigns_distinct_roles_and_writes_the_manifest(tmp_path):
    chain = chainpay.connect(accounts=6)
    system = chainpay.deploy(chain, chainpay.DeployConfig(decimals=4, daily_limits={1: Decimal(10)}))
    roles = system.roles
    assert roles["DEFAULT_ADMIN"] == [chain.accounts[0].address]
    assert roles["ISSUER"] == [chain.accounts[1].address]
    assert roles["COMPLIANCE"] == [chain.accounts[2].address]
    assert roles["PAUSER"] == [chain.accounts[3].address]
    issuer_role = keccak(text="ISSUER")
    assert system.currency._read("hasRole", issuer_role, chain.accounts[1].address) is True
    assert system.currency._read("hasRole", issuer_role, chain.accounts[0].address) is False
    assert system.currency.decimals == 4
    assert system.currency.daily_limit(1) == Decimal("10.0000")
    path = system.save(tmp_path / "m.json")
    manifest = json.loads(path.read_text())
    assert set(manifest) == {"chain_id", "rpc", "deployed_at_block", "contracts", "roles"}
    assert manifest["chain_id"] == chain.chain_id and manifest["rpc"] is None
    assert manifest["contracts"]["DigitalCurrency"] == {"address": system.currency.address, "artifact": "DigitalCurrency"}
    assert manifest["deployed_at_block"] >= 1
    # Loading it on the same chain gives working clients with the same role holders.
    again = load(path, chain)
    assert again.currency.address == system.currency.address
    assert again.currency.role_holders["ISSUER"].address == chain.accounts[1].address
    assert again.registry.institution_info  # bound method exists
    with pytest.raises(errors.ManifestError, match="in-process chain"):
        load(path)
    with pytest.raises(errors.ManifestError, match="chain id 1,"):
        load(dict(manifest, chain_id=1), chain)
    with pytest.raises(errors.ManifestError, match="has no IdentityRegistry"):
        load({"contracts": {}}, chain)
    with pytest.raises(errors.ManifestError, match="cannot read"):
        load(tmp_path / "missing.json")


def test_deploy_config_file_overrides_defaults(tmp_path):
    cfg = tmp_path / "deploy.toml"
    cfg.write_text('symbol = "DCEP"\ndecimals = 2\n[daily_limits]\n2 = 800\n3 = "unlimited"\n')
    config = chainpay.DeployConfig.load(cfg)
    assert config.symbol == "DCEP" and config.daily_limits[2] == Decimal(800) and config.daily_limits[3] is None
    assert config.daily_limits[1] == Decimal(1000)  # untouched default
    bad = tmp_path / "bad.toml"
    bad.write_text('colour = "red"\n')
    with pytest.raises(errors.ChainpayError, match="unknown keys.*colour"):
        chainpay.DeployConfig.load(bad)


def test_default_senders_come_from_the_deployment_roles(system, actors):
    receipt = system.currency.mint(actors.bob, Decimal("5"))  # no sender: the ISSUER holder signs
    assert receipt.event("Transfer")["to"] == actors.bob.address
    with pytest.raises(TypeError, match="pass sender="):
        system.currency.transfer(actors.bob, Decimal("1"), sender=None)


def test_signing_needs_a_held_key(system, actors):
    from chainpay.chain import Account

    keyless = Account(actors.alice.address)  # as if node-managed
    with pytest.raises(errors.SigningError, match="holds no key"):
        system.currency.sign_permit(keyless, actors.bob, Decimal("1"), deadline=chainpay_now(system) + 60)


def chainpay_now(system):
    return system.chain.now


def test_set_next_block_time_pins_the_next_transaction(system, actors):
    chain = system.chain
    target = chain.now + 86_400  # ahead of the wall clock, however long the suite has run
    chain.set_next_block_time(target)
    receipt = system.currency.transfer(actors.bob, Decimal("1"), sender=actors.alice)
    assert chain.block_timestamp(receipt.block_number) == target
    with pytest.raises(ValueError):
        chain.set_next_block_time(chain.now - 1)


def test_role_management_through_the_clients(system, actors):
    cur = system.currency
    assert cur.has_role("ISSUER", actors.issuer) and not cur.has_role("ISSUER", actors.bob)
    receipt = cur.grant_role("ISSUER", actors.bob)  # DEFAULT_ADMIN holder signs by default
    assert receipt.event("RoleGranted")["account"] == actors.bob.address
    assert cur.has_role("ISSUER", actors.bob)
    cur.mint(actors.alice, Decimal("1"), sender=actors.bob)
    cur.revoke_role("ISSUER", actors.bob)
    assert not cur.has_role("ISSUER", actors.bob)
    with pytest.raises(errors.AccessControlUnauthorizedAccount) as refused:
        cur.grant_role("ISSUER", actors.bob, sender=actors.bob)
    assert refused.value.account == actors.bob.address and refused.value.needed_role == b"\x00" * 32
    assert system.registry.has_role("COMPLIANCE", actors.compliance)
