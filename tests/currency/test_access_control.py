"""Role guards of IdentityRegistry and DigitalCurrency.

Every role-guarded function refuses a caller without the role (the stranger, and holders of other
roles) with AccessControlUnauthorizedAccount(account, neededRole) and leaves both the registry and
the currency exactly as they were; each role holder succeeds, with the expected event.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable

import pytest
from eth_utils import keccak

from chainpay import errors
from chainpay.chain import Account, Receipt
from chainpay.currency.registry import identity_id
from chainpay.currency.token import UNLIMITED

ADMIN = b"\x00" * 32
KYC = keccak(text="KYC_OFFICER")
COMPLIANCE = keccak(text="COMPLIANCE")
ISSUER = keccak(text="ISSUER")
PAUSER = keccak(text="PAUSER")
ROLE_NAMES = {ADMIN: "DEFAULT_ADMIN", KYC: "KYC_OFFICER", COMPLIANCE: "COMPLIANCE", ISSUER: "ISSUER", PAUSER: "PAUSER"}
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"

NEW_ID = identity_id("dave")
Unauthorized = errors.revert_class("AccessControlUnauthorizedAccount")
NotYourCustomer = errors.revert_class("NotYourCustomer")
UnknownInstitution = errors.revert_class("UnknownInstitution")
UnknownIdentity = errors.revert_class("UnknownIdentity")
InstitutionNotActive = errors.revert_class("InstitutionNotActive")
EnforcedPause = errors.revert_class("EnforcedPause")


# ---------------------------------------------------------------------------------------- helpers
def send(client, fn: str, *args: Any, sender: Account) -> Receipt:
    """A raw transaction to a function the typed client does not wrap (grantRole, revokeRole)."""
    return client.chain.send(sender, client.address, client.artifact.fn(fn).encode(args))


def read(client, fn: str, *args: Any) -> Any:
    function = client.artifact.fn(fn)
    return function.decode(client.chain.call(client.address, function.encode(args)))


def has_role(client, role: bytes, who: Account | str) -> bool:
    return read(client, "hasRole", role, client.chain.account(who).address)


def _or_error(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except errors.ContractRevert as exc:
        return (type(exc).__name__, exc.values)


def _people(actors) -> list[Account]:
    return [actors.admin, actors.issuer, actors.compliance, actors.pauser, actors.officer_a, actors.officer_b,
            actors.alice, actors.alice2, actors.bob, actors.carol, actors.stranger, actors.spare[0]]


def _role_people(actors) -> list[Account]:
    """Everyone a guarded call above could grant, revoke or use a role for."""
    return [actors.admin, actors.issuer, actors.compliance, actors.pauser, actors.officer_a, actors.officer_b,
            actors.stranger, actors.spare[0]]


def registry_state(system, actors) -> dict:
    reg = system.registry
    people = _people(actors)
    return {
        "institutions": [_or_error(lambda i=i: reg.institution_info(i)) for i in (1, 2, 3)],
        "officers": [reg.officer_institution(p) for p in _role_people(actors)],
        "roles": [has_role(reg, r, p) for r in (ADMIN, KYC, COMPLIANCE) for p in _role_people(actors)],
        "accounts": [reg.account_info(p) for p in people],
        "identities": [_or_error(lambda i=i: reg.identity_info(i)) for i in (actors.alice_id, actors.bob_id,
                                                                           actors.carol_id, NEW_ID)],
    }


def currency_state(system, actors) -> dict:
    cur = system.currency
    people = _people(actors)
    return {
        "balances": [cur.balance_of(p) for p in people],
        "supply": cur.total_supply(),
        "paused": cur.paused(),
        "limits": [cur.daily_limit(t) for t in range(1, 6)],
        "roles": [has_role(cur, r, p) for r in (ADMIN, ISSUER, PAUSER, COMPLIANCE) for p in _role_people(actors)],
    }


def state_of(contract: str, system, actors) -> dict:
    """The observable state of the contract a guarded call targets (a reverted call cannot touch the other)."""
    return registry_state(system, actors) if contract == "registry" else currency_state(system, actors)


# ---------------------------------------------------------------------------------------- cases
@dataclass(frozen=True)
class Guarded:
    """One role-guarded function: how to call it (as `caller`), the role it needs, who to try."""

    name: str
    call: Callable[[Any, Any, Account], Receipt]  # (system, actors, caller)
    role: bytes
    callers: tuple[str, ...]  # Actors attribute names: the stranger and holders of other roles
    setup: Callable[[Any, Any], None] | None = None
    holder: str = ""  # Actors attribute of an account the call succeeds for (default: by role)
    holder_setup: Callable[[Any, Any], None] | None = None


DEFAULT_HOLDER = {ADMIN: "admin", KYC: "officer_a", COMPLIANCE: "compliance", ISSUER: "issuer", PAUSER: "pauser"}


def _pause(system, actors):
    system.currency.pause(sender=actors.pauser)


def _fund_registered_issuer(system, actors):
    system.registry.register_identity(identity_id("central bank"), 3, actors.issuer, sender=actors.officer_a)
    system.currency.mint(actors.issuer, Decimal(10), sender=actors.issuer)


GUARDED = [
    # ----------------------------------------------------------------- IdentityRegistry
    Guarded("registry.addInstitution", lambda s, a, c: s.registry.add_institution(3, "Platform C", 3, sender=c),
            ADMIN, ("stranger", "compliance", "officer_a", "issuer")),
    Guarded("registry.setInstitutionActive", lambda s, a, c: s.registry.set_institution_active(1, False, sender=c),
            ADMIN, ("stranger", "compliance", "officer_a")),
    Guarded("registry.addKycOfficer", lambda s, a, c: s.registry.add_kyc_officer(a.spare[0], 1, sender=c),
            ADMIN, ("stranger", "compliance", "officer_a")),
    Guarded("registry.removeKycOfficer", lambda s, a, c: s.registry.remove_kyc_officer(a.officer_b, sender=c),
            ADMIN, ("stranger", "compliance", "officer_a")),
    Guarded("registry.grantRole", lambda s, a, c: send(s.registry, "grantRole", KYC, a.spare[0].address, sender=c),
            ADMIN, ("stranger", "compliance", "officer_a")),
    Guarded("registry.revokeRole",
            lambda s, a, c: send(s.registry, "revokeRole", COMPLIANCE, a.compliance.address, sender=c),
            ADMIN, ("stranger", "compliance", "officer_a")),
    Guarded("registry.registerIdentity", lambda s, a, c: s.registry.register_identity(NEW_ID, 1, a.spare[0], sender=c),
            KYC, ("stranger", "admin", "compliance")),
    Guarded("registry.linkAddress",
            lambda s, a, c: s.registry.link_address(a.alice_id, a.spare[0], sender=c, consenting=a.alice),
            KYC, ("stranger", "admin", "compliance")),
    Guarded("registry.complianceLink", lambda s, a, c: s.registry.compliance_link(a.alice_id, a.spare[0], sender=c),
            COMPLIANCE, ("stranger", "admin", "officer_a")),
    Guarded("registry.setIdentityFrozen", lambda s, a, c: s.registry.freeze_identity(a.alice_id, sender=c),
            COMPLIANCE, ("stranger", "admin", "officer_a")),
    Guarded("registry.setAddressFrozen", lambda s, a, c: s.registry.freeze_address(a.alice, sender=c),
            COMPLIANCE, ("stranger", "admin", "officer_a")),
    # unlinkAddress / setTier: compliance, or an officer of the right institution; anyone else lacks KYC_OFFICER
    Guarded("registry.unlinkAddress", lambda s, a, c: s.registry.unlink_address(a.alice, sender=c),
            KYC, ("stranger", "admin", "issuer")),
    Guarded("registry.setTier", lambda s, a, c: s.registry.set_tier(a.alice_id, 3, sender=c),
            KYC, ("stranger", "admin", "pauser")),
    # ----------------------------------------------------------------- DigitalCurrency
    Guarded("currency.mint", lambda s, a, c: s.currency.mint(a.alice, Decimal(10), sender=c),
            ISSUER, ("stranger", "admin", "pauser", "compliance", "officer_a")),
    Guarded("currency.burn", lambda s, a, c: s.currency.burn(Decimal(1), sender=c),
            ISSUER, ("stranger", "admin", "pauser", "alice"), holder_setup=_fund_registered_issuer),
    Guarded("currency.pause", lambda s, a, c: s.currency.pause(sender=c),
            PAUSER, ("stranger", "admin", "issuer", "compliance")),
    Guarded("currency.unpause", lambda s, a, c: s.currency.unpause(sender=c),
            PAUSER, ("stranger", "admin", "issuer", "compliance"), setup=_pause),
    Guarded("currency.setDailyLimit", lambda s, a, c: s.currency.set_daily_limit(1, Decimal(2000), sender=c),
            COMPLIANCE, ("stranger", "admin", "issuer", "pauser", "officer_a")),
    Guarded("currency.grantRole", lambda s, a, c: send(s.currency, "grantRole", ISSUER, a.stranger.address, sender=c),
            ADMIN, ("stranger", "issuer", "pauser", "compliance")),
    Guarded("currency.revokeRole", lambda s, a, c: send(s.currency, "revokeRole", ISSUER, a.issuer.address, sender=c),
            ADMIN, ("stranger", "issuer", "pauser", "compliance")),
]

UNAUTHORIZED_CASES = [pytest.param(g, who, id=f"{g.name}-by-{who}") for g in GUARDED for who in g.callers]


def test_role_constants_match_the_contracts(system):
    reg, cur = system.registry, system.currency
    assert read(reg, "DEFAULT_ADMIN_ROLE") == ADMIN == read(cur, "DEFAULT_ADMIN_ROLE")
    assert read(reg, "KYC_OFFICER_ROLE") == KYC
    assert read(reg, "COMPLIANCE_ROLE") == COMPLIANCE == read(cur, "COMPLIANCE_ROLE")
    assert read(cur, "ISSUER_ROLE") == ISSUER
    assert read(cur, "PAUSER_ROLE") == PAUSER


def test_initial_role_holders(system, actors):
    reg, cur = system.registry, system.currency
    assert has_role(reg, ADMIN, actors.admin) and has_role(reg, COMPLIANCE, actors.compliance)
    assert has_role(reg, KYC, actors.officer_a) and has_role(reg, KYC, actors.officer_b)
    assert (reg.officer_institution(actors.officer_a), reg.officer_institution(actors.officer_b)) == (1, 2)
    assert has_role(cur, ADMIN, actors.admin) and has_role(cur, ISSUER, actors.issuer)
    assert has_role(cur, PAUSER, actors.pauser) and has_role(cur, COMPLIANCE, actors.compliance)
    # the callers used below as "holders of a different role" really lack the role they are refused
    for g in GUARDED:
        client = reg if g.name.startswith("registry") else cur
        for who in g.callers:
            assert not has_role(client, g.role, getattr(actors, who)), (g.name, who)


@pytest.mark.parametrize("guarded, caller_name", UNAUTHORIZED_CASES)
def test_unprivileged_caller_is_refused_and_nothing_changes(system, actors, guarded, caller_name):
    if guarded.setup:
        guarded.setup(system, actors)
    caller = getattr(actors, caller_name)
    contract = guarded.name.split(".")[0]
    before = state_of(contract, system, actors)
    with pytest.raises(Unauthorized) as exc:
        guarded.call(system, actors, caller)
    assert exc.value.account == caller.address
    assert exc.value.neededRole == guarded.role, ROLE_NAMES.get(exc.value.neededRole, exc.value.neededRole)
    assert exc.value.needed_role == guarded.role
    assert exc.value.values == (caller.address, guarded.role)
    assert state_of(contract, system, actors) == before


@pytest.mark.parametrize("guarded", [pytest.param(g, id=g.name) for g in GUARDED])
def test_state_check_would_see_each_guarded_call(system, actors, guarded):
    """The same call by a role holder succeeds and changes the state compared above, so the
    unchanged state after a refusal means something."""
    for prepare in (guarded.setup, guarded.holder_setup):
        if prepare:
            prepare(system, actors)
    contract = guarded.name.split(".")[0]
    before = state_of(contract, system, actors)
    holder = getattr(actors, guarded.holder or DEFAULT_HOLDER[guarded.role])
    receipt = guarded.call(system, actors, holder)
    assert receipt.events, guarded.name
    assert state_of(contract, system, actors) != before


# ------------------------------------------------- unlinkAddress / setTier: the other institution's officer
def test_unlink_by_officer_of_other_institution_is_not_your_customer(system, actors):
    reg = system.registry
    before = registry_state(system, actors)
    # alice was linked by platform A (1); platform B's officer may not unlink her
    with pytest.raises(NotYourCustomer) as exc:
        reg.unlink_address(actors.alice, sender=actors.officer_b)
    assert (exc.value.officer, exc.value.officerInstitution, exc.value.customerInstitution) == (
        actors.officer_b.address, 2, 1)
    assert (exc.value.officer_institution, exc.value.customer_institution) == (2, 1)
    # alice2 belongs to alice's identity (registered by A) but was linked by B: A's officer may not unlink it
    with pytest.raises(NotYourCustomer) as exc:
        reg.unlink_address(actors.alice2, sender=actors.officer_a)
    assert exc.value.values == (actors.officer_a.address, 1, 2)
    assert registry_state(system, actors) == before


def test_set_tier_by_officer_of_other_institution_is_not_your_customer(system, actors):
    reg = system.registry
    before = registry_state(system, actors)
    # alice's identity was registered by platform A; B's officer (who linked alice2) still may not set her tier
    with pytest.raises(NotYourCustomer) as exc:
        reg.set_tier(actors.alice_id, 1, sender=actors.officer_b)
    assert exc.value.values == (actors.officer_b.address, 2, 1)
    with pytest.raises(NotYourCustomer) as exc:
        reg.set_tier(actors.bob_id, 1, sender=actors.officer_a)
    assert exc.value.values == (actors.officer_a.address, 1, 2)
    assert registry_state(system, actors) == before


def test_removed_officer_loses_every_kyc_power(system, actors):
    reg = system.registry
    reg.remove_kyc_officer(actors.officer_a)
    before = registry_state(system, actors)
    for attempt in (
        lambda: reg.register_identity(NEW_ID, 1, actors.spare[0], sender=actors.officer_a),
        lambda: reg.link_address(actors.alice_id, actors.spare[0], sender=actors.officer_a, consenting=actors.alice),
        lambda: reg.unlink_address(actors.carol, sender=actors.officer_a),
        lambda: reg.set_tier(actors.carol_id, 2, sender=actors.officer_a),
    ):
        with pytest.raises(Unauthorized) as exc:
            attempt()
        assert exc.value.values == (actors.officer_a.address, KYC)
    assert registry_state(system, actors) == before


def test_registry_and_currency_roles_are_separate(system, actors):
    """A role granted in one contract gives nothing in the other."""
    send(system.registry, "grantRole", COMPLIANCE, actors.stranger.address, sender=actors.admin)
    assert has_role(system.registry, COMPLIANCE, actors.stranger)
    assert not has_role(system.currency, COMPLIANCE, actors.stranger)
    with pytest.raises(Unauthorized) as exc:
        system.currency.set_daily_limit(1, Decimal(7), sender=actors.stranger)
    assert exc.value.values == (actors.stranger.address, COMPLIANCE)
    assert system.currency.daily_limit(1) == Decimal(1000)


# ---------------------------------------------------------------------------------------- role holders succeed
def test_add_institution_by_admin(system, actors):
    receipt = system.registry.add_institution(3, "Platform C", 4, sender=actors.admin)
    ev = receipt.event("InstitutionAdded")
    assert (ev.address, ev.args) == (system.registry.address, {"institution": 3, "name": "Platform C", "maxTier": 4})
    info = system.registry.institution_info(3)
    assert (info.name, info.active, info.max_tier) == ("Platform C", True, 4)


def test_set_institution_active_by_admin(system, actors):
    reg = system.registry
    ev = reg.set_institution_active(2, False, sender=actors.admin).event("InstitutionStatusChanged")
    assert ev.args == {"institution": 2, "active": False}
    assert reg.institution_info(2).active is False
    ev = reg.set_institution_active(2, True, sender=actors.admin).event("InstitutionStatusChanged")
    assert ev.args == {"institution": 2, "active": True}
    assert reg.institution_info(2).active is True


def test_add_kyc_officer_by_admin(system, actors):
    reg, new_officer = system.registry, actors.spare[0]
    receipt = reg.add_kyc_officer(new_officer, 2, sender=actors.admin)
    assert receipt.event("KycOfficerAdded").args == {"officer": new_officer.address, "institution": 2}
    assert receipt.event("RoleGranted").args == {"role": KYC, "account": new_officer.address,
                                                 "sender": actors.admin.address}
    assert reg.officer_institution(new_officer) == 2 and has_role(reg, KYC, new_officer)
    # the new officer acts for platform B
    ev = reg.register_identity(NEW_ID, 2, actors.spare[1], sender=new_officer).event("IdentityRegistered")
    assert ev.args == {"identity": NEW_ID, "institution": 2, "tier": 2}


def test_remove_kyc_officer_by_admin(system, actors):
    reg = system.registry
    receipt = reg.remove_kyc_officer(actors.officer_b, sender=actors.admin)
    assert receipt.event("KycOfficerRemoved").args == {"officer": actors.officer_b.address, "institution": 2}
    assert receipt.event("RoleRevoked").args == {"role": KYC, "account": actors.officer_b.address,
                                                 "sender": actors.admin.address}
    assert reg.officer_institution(actors.officer_b) == 0 and not has_role(reg, KYC, actors.officer_b)
    # customers the removed officer registered keep their standing
    assert reg.is_active(actors.bob) and reg.is_active(actors.alice2)


def test_registry_grant_and_revoke_role_by_admin(system, actors):
    reg = system.registry
    ev = send(reg, "grantRole", COMPLIANCE, actors.stranger.address, sender=actors.admin).event("RoleGranted")
    assert ev.args == {"role": COMPLIANCE, "account": actors.stranger.address, "sender": actors.admin.address}
    assert reg.freeze_address(actors.bob, sender=actors.stranger).event("AddressFreezeChanged").args == {
        "account": actors.bob.address, "frozen": True}
    ev = send(reg, "revokeRole", COMPLIANCE, actors.stranger.address, sender=actors.admin).event("RoleRevoked")
    assert ev.args == {"role": COMPLIANCE, "account": actors.stranger.address, "sender": actors.admin.address}
    assert not has_role(reg, COMPLIANCE, actors.stranger)
    with pytest.raises(Unauthorized) as exc:
        reg.unfreeze_address(actors.bob, sender=actors.stranger)
    assert exc.value.values == (actors.stranger.address, COMPLIANCE)


def test_register_identity_by_officer(system, actors):
    receipt = system.registry.register_identity(NEW_ID, 3, actors.spare[0], sender=actors.officer_a)
    assert receipt.event("IdentityRegistered").args == {"identity": NEW_ID, "institution": 1, "tier": 3}
    assert receipt.event("AddressLinked").args == {"identity": NEW_ID, "account": actors.spare[0].address,
                                                   "institution": 1}
    assert system.registry.identity_of(actors.spare[0]) == NEW_ID


def test_link_address_by_officer(system, actors):
    ev = system.registry.link_address(actors.bob_id, actors.spare[0], sender=actors.officer_a,
                                      consenting=actors.bob).event("AddressLinked")
    assert ev.args == {"identity": actors.bob_id, "account": actors.spare[0].address, "institution": 1}
    assert system.registry.account_info(actors.spare[0]).linked_by == 1


def test_set_identity_frozen_by_compliance(system, actors):
    reg = system.registry
    ev = reg.freeze_identity(actors.bob_id, sender=actors.compliance).event("IdentityFreezeChanged")
    assert ev.args == {"identity": actors.bob_id, "frozen": True}
    assert reg.identity_info(actors.bob_id).frozen is True and reg.is_active(actors.bob) is False
    ev = reg.unfreeze_identity(actors.bob_id, sender=actors.compliance).event("IdentityFreezeChanged")
    assert ev.args == {"identity": actors.bob_id, "frozen": False}
    assert reg.is_active(actors.bob) is True


def test_set_address_frozen_by_compliance(system, actors):
    reg = system.registry
    ev = reg.freeze_address(actors.carol, sender=actors.compliance).event("AddressFreezeChanged")
    assert ev.args == {"account": actors.carol.address, "frozen": True}
    assert reg.account_info(actors.carol).address_frozen is True
    ev = reg.unfreeze_address(actors.carol, sender=actors.compliance).event("AddressFreezeChanged")
    assert ev.args == {"account": actors.carol.address, "frozen": False}
    assert reg.is_active(actors.carol) is True


@pytest.mark.parametrize("who, account, identity", [
    ("officer_a", "alice", "alice_id"),  # officer of the institution that linked the address
    ("officer_b", "alice2", "alice_id"),  # B linked alice2, though alice's identity is A's customer
    ("compliance", "bob", "bob_id"),
])
def test_unlink_address_by_own_officer_or_compliance(system, actors, who, account, identity):
    reg = system.registry
    target, ident = getattr(actors, account), getattr(actors, identity)
    ev = reg.unlink_address(target, sender=getattr(actors, who)).event("AddressUnlinked")
    assert ev.args == {"identity": ident, "account": target.address}
    assert reg.identity_of(target) is None
    assert target.address not in reg.identity_info(ident).accounts


@pytest.mark.parametrize("who, identity, tier", [
    ("officer_a", "alice_id", 3),  # own officer, within platform A's maxTier 3
    ("officer_b", "bob_id", 1),  # own officer, lowering
    ("compliance", "bob_id", 5),  # compliance, above platform B's maxTier 2
])
def test_set_tier_by_own_officer_or_compliance(system, actors, who, identity, tier):
    reg, ident = system.registry, getattr(actors, identity)
    ev = reg.set_tier(ident, tier, sender=getattr(actors, who)).event("TierChanged")
    assert ev.args == {"identity": ident, "previousTier": 2, "newTier": tier}
    assert reg.identity_info(ident).tier == tier


def test_mint_by_issuer(system, actors):
    cur = system.currency
    supply = cur.total_supply()
    ev = cur.mint(actors.carol, Decimal("12.34"), sender=actors.issuer).event("Transfer")
    assert (ev.address, ev.args) == (cur.address, {"from": ZERO_ADDRESS, "to": actors.carol.address, "value": 1234})
    assert cur.balance_of(actors.carol) == Decimal("112.34")
    assert cur.total_supply() == supply + Decimal("12.34")


def test_burn_by_issuer(system, actors):
    cur, reg = system.currency, system.registry
    # the issuer burns from its own balance, so it must be a registered, active holder
    reg.register_identity(identity_id("central bank"), 3, actors.issuer, sender=actors.officer_a)
    cur.mint(actors.issuer, Decimal(500), sender=actors.issuer)
    supply = cur.total_supply()
    ev = cur.burn(Decimal("200.5"), sender=actors.issuer).event("Transfer")
    assert ev.args == {"from": actors.issuer.address, "to": ZERO_ADDRESS, "value": 20050}
    assert cur.balance_of(actors.issuer) == Decimal("299.50")
    assert cur.total_supply() == supply - Decimal("200.5")


def test_pause_and_unpause_by_pauser(system, actors):
    cur = system.currency
    ev = cur.pause(sender=actors.pauser).event("Paused")
    assert ev.args == {"account": actors.pauser.address}
    assert cur.paused() is True
    with pytest.raises(EnforcedPause):
        cur.transfer(actors.bob, Decimal(1), sender=actors.alice)
    ev = cur.unpause(sender=actors.pauser).event("Unpaused")
    assert ev.args == {"account": actors.pauser.address}
    assert cur.paused() is False
    cur.transfer(actors.bob, Decimal(1), sender=actors.alice)
    assert cur.balance_of(actors.bob) == Decimal("1001.00")


def test_set_daily_limit_by_compliance(system, actors):
    cur = system.currency
    ev = cur.set_daily_limit(1, Decimal(2000), sender=actors.compliance).event("DailyLimitChanged")
    assert ev.args == {"tier": 1, "previousLimit": 100_000, "newLimit": 200_000}
    assert cur.daily_limit(1) == Decimal(2000)
    ev = cur.set_daily_limit(1, None, sender=actors.compliance).event("DailyLimitChanged")
    assert ev.args == {"tier": 1, "previousLimit": 200_000, "newLimit": UNLIMITED}
    assert cur.daily_limit(1) is None


def test_currency_grant_role_by_admin(system, actors):
    cur = system.currency
    ev = send(cur, "grantRole", PAUSER, actors.stranger.address, sender=actors.admin).event("RoleGranted")
    assert ev.args == {"role": PAUSER, "account": actors.stranger.address, "sender": actors.admin.address}
    assert has_role(cur, PAUSER, actors.stranger)
    assert cur.pause(sender=actors.stranger).event("Paused").args == {"account": actors.stranger.address}


def test_currency_revoke_role_by_admin(system, actors):
    cur = system.currency
    ev = send(cur, "revokeRole", ISSUER, actors.issuer.address, sender=actors.admin).event("RoleRevoked")
    assert ev.args == {"role": ISSUER, "account": actors.issuer.address, "sender": actors.admin.address}
    assert not has_role(cur, ISSUER, actors.issuer)
    with pytest.raises(Unauthorized) as exc:
        cur.mint(actors.alice, Decimal(1), sender=actors.issuer)
    assert exc.value.values == (actors.issuer.address, ISSUER)
    assert cur.balance_of(actors.alice) == Decimal("1000.00")
