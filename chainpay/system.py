"""Deploy the registry, the currency, the revocable-transfer escrow and the pay-per-use content
contracts (catalogue, micropayment channels) with roles assigned, and
read/write the deployment manifest.

Escrow contracts hold money for others, so the currency must let them hold and pay out: each is
registered as an identity of its own under the deployment's "chainpay contracts" institution, at the
unlimited tier (config.ESCROW_TIER). The revocable-transfer escrow also holds the currency's ESCROW
role, to give back a sender's daily outflow when a transfer returns on the day it was sent.

Manifest format:
``{"chain_id", "rpc", "deployed_at_block", "contracts": {Name: {"address", "artifact"}}, "roles": {ROLE: [addresses]}}``
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .chain import Account, AccountLike, Chain, connect
from .config import ESCROW_TIER, DeployConfig
from .content.catalogue import Catalogue
from .content.channels import Channels
from .content.parties import deploy_content
from .core import errors
from .currency.registry import CONTRACTS_INSTITUTION, CONTRACTS_INSTITUTION_NAME, Registry
from .currency.token import Currency
from .platform.client import Platforms
from .transfers.client import Transfers


@dataclass
class System:
    """A deployed chainpay system: the chain plus typed clients of every contract."""

    chain: Chain
    registry: Registry
    currency: Currency
    transfers: Transfers
    roles: dict[str, list[str]]
    deployed_at_block: int
    receipts: dict[str, object] = field(default_factory=dict, repr=False)
    # Pay-per-use content (issue 4); None when loaded from a manifest written before they existed.
    catalogue: Catalogue | None = None
    channels: Channels | None = None
    # Platform balances (issue 13); None when loaded from a manifest written before they existed.
    platforms: Platforms | None = None

    def manifest(self) -> dict:
        manifest = {
            "chain_id": self.chain.chain_id,
            "rpc": self.chain.rpc_url,
            "deployed_at_block": self.deployed_at_block,
            "contracts": {
                "IdentityRegistry": {"address": self.registry.address, "artifact": "IdentityRegistry"},
                "DigitalCurrency": {"address": self.currency.address, "artifact": "DigitalCurrency"},
                "RevocableTransfers": {"address": self.transfers.address, "artifact": "RevocableTransfers"},
            },
            "roles": self.roles,
        }
        if self.catalogue is not None and self.channels is not None:
            manifest["contracts"]["ContentCatalogue"] = {"address": self.catalogue.address, "artifact": "ContentCatalogue"}
            manifest["contracts"]["PaymentChannels"] = {"address": self.channels.address, "artifact": "PaymentChannels"}
        if self.platforms is not None:
            manifest["contracts"]["PlatformBalances"] = {"address": self.platforms.address, "artifact": "PlatformBalances"}
        return manifest

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.manifest(), indent=2) + "\n")
        return path

    def role(self, name: str) -> Account:
        """The first holder of a role recorded in the manifest."""
        holders = self.roles.get(name)
        if not holders:
            raise errors.ManifestError(f"no {name} holder in this deployment")
        return self.chain.account(holders[0])


FIRST_PLATFORM_ACCOUNT = 4  # platform i's officer is account 4 + 2i, its treasury (operator) 4 + 2i + 1


def _role_holders(chain: Chain, roles: dict[str, list[str]]) -> dict[str, Account]:
    return {role: chain.account(addrs[0]) for role, addrs in roles.items() if addrs}


def deploy(
    chain: Chain,
    config: DeployConfig | None = None,
    *,
    admin: AccountLike | None = None,
    issuer: AccountLike | None = None,
    compliance: AccountLike | None = None,
    pauser: AccountLike | None = None,
) -> System:
    """Deploy IdentityRegistry, DigitalCurrency and RevocableTransfers, set the configured daily
    limits and transfer policy, and register the escrow as an identity the currency accepts.

    Roles default to distinct accounts of the chain: admin #0, issuer #1, compliance #2, pauser #3
    (all #0 when the chain has fewer accounts). The deployer is the admin.
    """
    config = config or DeployConfig()
    config.validate()
    if not chain.accounts:
        raise errors.ChainConnectionError(f"{chain.describe()} has no accounts to deploy from: pass private keys")
    needed = FIRST_PLATFORM_ACCOUNT + 2 * len(config.platforms)
    if config.platforms and len(chain.accounts) < needed:
        raise errors.InvalidInput(
            f"{len(config.platforms)} platform(s) need {needed} accounts on {chain.describe()} (each platform's KYC "
            f"officer and treasury come after the four role accounts); it has {len(chain.accounts)}")
    deployed: dict[str, str] = {}

    def step(name: str, args: list, sender: Account):
        receipt = chain.deploy(name, args, sender)
        deployed[name] = receipt.contract_address
        return receipt

    try:
        return _deploy(chain, config, step, admin, issuer, compliance, pauser)
    except errors.ChainpayError as exc:
        if not deployed:
            raise
        where = ", ".join(f"{name} at {address}" for name, address in deployed.items())
        raise errors.DeploymentIncomplete(
            f"deployment stopped half way on {chain.describe()} ({exc}); already deployed: {where}; "
            "nothing was written: deploy again from scratch", deployed) from exc


def _deploy(chain: Chain, config: DeployConfig, step, admin, issuer, compliance, pauser) -> System:
    pick = lambda who, i: chain.account(who if who is not None else (i if len(chain.accounts) > 3 else 0))  # noqa: E731
    admin_a, issuer_a, compliance_a, pauser_a = pick(admin, 0), pick(issuer, 1), pick(compliance, 2), pick(pauser, 3)
    start_block = chain.block_number + 1
    reg = step("IdentityRegistry", [admin_a.address, compliance_a.address, config.admin_delay], admin_a)
    cur = step(
        "DigitalCurrency",
        [config.name, config.symbol, config.decimals, reg.contract_address, admin_a.address, issuer_a.address,
         pauser_a.address, compliance_a.address, config.admin_delay],
        admin_a,
    )
    roles = {
        "DEFAULT_ADMIN": [admin_a.address],
        "ISSUER": [issuer_a.address],
        "COMPLIANCE": [compliance_a.address],
        "PAUSER": [pauser_a.address],
        "KYC_OFFICER": [],
    }
    holders = _role_holders(chain, roles)
    registry = Registry(chain, reg.contract_address, holders)
    currency = Currency(chain, cur.contract_address, holders)
    for tier, limit in sorted(config.daily_limits.items()):
        currency.set_daily_limit(tier, limit)
    policy = config.transfers
    escrow = step(
        "RevocableTransfers",
        [cur.contract_address, admin_a.address, compliance_a.address, currency.to_units(policy.approval_threshold),
         policy.dispute_window, [currency.to_units(lo) for lo, _ in policy.cooling_off],
         [seconds for _, seconds in policy.cooling_off], config.admin_delay],
        admin_a,
    )
    registry.add_institution(CONTRACTS_INSTITUTION, CONTRACTS_INSTITUTION_NAME, ESCROW_TIER)
    registry.register_contract(escrow.contract_address, "RevocableTransfers", institution=CONTRACTS_INSTITUTION)
    currency.grant_role("ESCROW", escrow.contract_address)
    transfers = Transfers(chain, escrow.contract_address, currency, holders, deployed_at_block=start_block)
    platforms = _deploy_platforms(chain, config, step, registry, currency, transfers, admin_a, compliance_a, holders)
    catalogue, channels, content_receipts = deploy_content(
        chain, registry, currency, admin_a, challenge_period=config.channel_challenge_period,
        institution=CONTRACTS_INSTITUTION, role_holders=holders, admin_delay=config.admin_delay,
        deployed_at_block=start_block)
    return System(chain, registry, currency, transfers, roles, start_block,
                  {"IdentityRegistry": reg, "DigitalCurrency": cur, "RevocableTransfers": escrow, **content_receipts},
                  catalogue=catalogue, channels=channels, platforms=platforms)


def _deploy_platforms(chain: Chain, config: DeployConfig, step, registry: Registry, currency: Currency,
                      transfers: Transfers, admin: Account, compliance: Account,
                      holders: dict[str, Account]) -> Platforms:
    """PlatformBalances wired to the currency (waterfalls) and the escrow (large interconversions),
    the configured wallet classes and thresholds, and the configured platforms: each white-listed
    with a KYC officer and a registered treasury account."""
    from .currency.registry import identity_id

    receipt = step("PlatformBalances", [currency.address, transfers.address, admin.address, compliance.address,
                                        config.same_name_only, config.admin_delay], admin)
    platforms = Platforms(chain, receipt.contract_address, currency, holders)
    registry.register_contract(platforms.address, "PlatformBalances", institution=CONTRACTS_INSTITUTION)
    currency.set_platforms(platforms.address, sender=admin)
    transfers.grant_role("FORWARDER", platforms.address, sender=admin)
    for tier, limits in sorted(config.wallet_classes.items()):
        currency.set_wallet_class(tier, single=limits.single, balance_cap=limits.balance_cap, annual=limits.annual)
    for tier, threshold in sorted(config.interconversion_thresholds.items()):
        platforms.set_daily_threshold(tier, threshold)
    for i, spec in enumerate(config.platforms):
        officer = chain.accounts[FIRST_PLATFORM_ACCOUNT + 2 * i]
        treasury = chain.accounts[FIRST_PLATFORM_ACCOUNT + 2 * i + 1]
        registry.add_institution(spec.id, spec.name, spec.max_tier)
        registry.add_kyc_officer(officer, spec.id)
        registry.register_identity(identity_id(f"platform-{spec.id}-treasury"), spec.max_tier, treasury, sender=officer)
        platforms.create(spec.id, treasury, spec.ratio)
    return platforms


def load(manifest: str | Path | dict, chain: Chain | None = None, *, private_keys=()) -> System:
    """A System from a manifest; connects to its rpc URL unless a chain is given."""
    if not isinstance(manifest, dict):
        path = Path(manifest)
        try:
            manifest = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise errors.ManifestError(f"cannot read manifest {path}: {exc}") from None
    _check_manifest_shape(manifest)
    contracts = manifest["contracts"]
    registry_addr = contracts["IdentityRegistry"]["address"]
    currency_addr = contracts["DigitalCurrency"]["address"]
    transfers_addr = contracts["RevocableTransfers"]["address"]
    roles = {k: list(v) for k, v in manifest.get("roles", {}).items()}
    if chain is None:
        if not manifest.get("rpc"):
            raise errors.ManifestError(
                "this manifest describes an in-process chain that ended with its process; deploy with --rpc URL to keep one")
        chain = connect(manifest["rpc"], private_keys=private_keys)
    if chain.chain_id != manifest.get("chain_id"):
        raise errors.ManifestError(f"manifest is for chain id {manifest.get('chain_id')}, but {chain.describe()} is chain id "
                                   f"{chain.chain_id}: use the manifest of this chain's deployment")
    holders = _role_holders(chain, roles)
    start_block = int(manifest.get("deployed_at_block", 0))
    currency = Currency(chain, currency_addr, holders)
    transfers = Transfers(chain, transfers_addr, currency, holders, deployed_at_block=start_block)
    catalogue = channels = None
    if "ContentCatalogue" in contracts and "PaymentChannels" in contracts:
        catalogue = Catalogue(chain, contracts["ContentCatalogue"]["address"], currency, holders)
        channels = Channels(chain, contracts["PaymentChannels"]["address"], currency, holders,
                            deployed_at_block=start_block)
    platforms = None
    if "PlatformBalances" in contracts:
        platforms = Platforms(chain, contracts["PlatformBalances"]["address"], currency, holders)
    system = System(chain, Registry(chain, registry_addr, holders), currency, transfers, roles, start_block,
                    catalogue=catalogue, channels=channels, platforms=platforms)
    for client in (system.registry, currency, transfers, catalogue, channels, platforms):
        if client is not None:
            client.check_code()  # an empty table from a dead address is worse than a clear refusal
    return system


def _check_manifest_shape(manifest) -> None:
    """ManifestError naming what is missing or malformed (never a KeyError or TypeError's words)."""
    shape = ('{"chain_id": int, "rpc": str|null, "deployed_at_block": int, '
             '"contracts": {"<Name>": {"address": "0x..", "artifact": "<Name>"}}, "roles": {"<ROLE>": ["0x.."]}}')
    if not isinstance(manifest, dict):
        raise errors.ManifestError(f"a manifest is a JSON object {shape}")
    contracts = manifest.get("contracts")
    if not isinstance(contracts, dict):
        raise errors.ManifestError(f"manifest's \"contracts\" is missing or not an object: expected {shape}")
    for name in ("IdentityRegistry", "DigitalCurrency", "RevocableTransfers"):
        if name not in contracts:
            raise errors.ManifestError(f"manifest has no {name} in \"contracts\" (written by another tool?)")
    for name, entry in contracts.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("address"), str):
            raise errors.ManifestError(f"manifest's contracts.{name} is not {{\"address\": \"0x..\", \"artifact\": ...}}")
    roles = manifest.get("roles", {})
    if not isinstance(roles, dict) or not all(isinstance(v, list) for v in roles.values()):
        raise errors.ManifestError("manifest's \"roles\" is not an object of role -> list of addresses")
    chain_id = manifest.get("chain_id")
    if isinstance(chain_id, bool) or not isinstance(chain_id, int):
        raise errors.ManifestError(f"manifest's \"chain_id\" is not a whole number: {chain_id!r}")
    block = manifest.get("deployed_at_block", 0)
    if isinstance(block, bool) or not isinstance(block, int) or block < 0:
        raise errors.ManifestError(f"manifest's \"deployed_at_block\" is not a block number: {block!r}")
