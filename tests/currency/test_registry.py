"""IdentityRegistry behaviour through chainpay.currency.registry: institutions, identities and their addresses,
tiers (and the currency's daily limits that follow them), freezes, views, and identity_id().

Fixture state (chainpay.testing): institution 1 "Platform A" (max tier 3, officer_a), institution 2
"Platform B" (max tier 2, officer_b); alice (tier 2, registered by A) with alice2 linked by B; bob
(tier 2, B); carol (tier 1, A). Default daily limits: tier 1 1,000, tier 2 5,000, tier 3 50,000,
tier 4 1,000,000, tier 5 unlimited.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from eth_utils import keccak, to_checksum_address

from chainpay import errors
from chainpay.currency.registry import identity_id

E = errors.revert_class
NEW_ID = identity_id("dave")
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
MAX_ADDRESSES = 8


def fresh(n: int) -> str:
    """A never-used address (no key needed: it is only linked and paid)."""
    return to_checksum_address((0xC0FFEE_0000 + n).to_bytes(20, "big"))


def read(client, fn, *args):
    function = client.artifact.fn(fn)
    return function.decode(client.chain.call(client.address, function.encode(args)))


def test_contract_constants(system):
    assert read(system.registry, "MAX_TIER") == 5
    assert read(system.registry, "MAX_ADDRESSES_PER_IDENTITY") == MAX_ADDRESSES


# ============================================================================ institutions
def test_add_institution(system, actors):
    reg = system.registry
    receipt = reg.add_institution(7, "Platform G", 5)
    assert len(receipt.events) == 1
    ev = receipt.event("InstitutionAdded")
    assert (ev.address, ev.args) == (reg.address, {"institution": 7, "name": "Platform G", "maxTier": 5})
    info = reg.institution_info(7)
    assert (info.id, info.name, info.active, info.max_tier) == (7, "Platform G", True, 5)
    # the largest uint32 id works too
    assert reg.add_institution(2**32 - 2, "Max", 1).event("InstitutionAdded").args["institution"] == 2**32 - 2


def test_fixture_institutions(system):
    a, b = system.registry.institution_info(1), system.registry.institution_info(2)
    assert (a.name, a.active, a.max_tier) == ("Platform A", True, 3)
    assert (b.name, b.active, b.max_tier) == ("Platform B", True, 2)


def test_duplicate_institution(system):
    reg = system.registry
    with pytest.raises(E("InstitutionExists")) as exc:
        reg.add_institution(1, "Impostor", 5)
    assert exc.value.values == (1,) and exc.value.institution == 1
    info = reg.institution_info(1)
    assert (info.name, info.max_tier) == ("Platform A", 3)  # unchanged


def test_institution_id_zero(system):
    with pytest.raises(E("InvalidInstitutionId")) as exc:
        system.registry.add_institution(0, "Nobody", 1)
    assert exc.value.institution == 0
    with pytest.raises(E("UnknownInstitution")):
        system.registry.institution_info(0)


@pytest.mark.parametrize("max_tier", [0, 6, 255])
def test_institution_invalid_max_tier(system, max_tier):
    with pytest.raises(E("InvalidTier")) as exc:
        system.registry.add_institution(3, "Platform C", max_tier)
    assert (exc.value.tier, exc.value.maxTier, exc.value.max_tier) == (max_tier, 5, 5)
    with pytest.raises(E("UnknownInstitution")) as exc:
        system.registry.institution_info(3)
    assert exc.value.institution == 3


@pytest.mark.parametrize("institution", [3, 0, 2**32 - 2])
def test_institution_info_unknown(system, institution):
    with pytest.raises(E("UnknownInstitution")) as exc:
        system.registry.institution_info(institution)
    assert exc.value.values == (institution,)


def test_set_institution_active_unknown(system):
    with pytest.raises(E("UnknownInstitution")) as exc:
        system.registry.set_institution_active(9, True)
    assert exc.value.institution == 9


def test_add_kyc_officer_to_unknown_institution_or_zero_address(system, actors):
    reg = system.registry
    with pytest.raises(E("UnknownInstitution")) as exc:
        reg.add_kyc_officer(actors.spare[0], 9)
    assert exc.value.institution == 9
    with pytest.raises(E("ZeroAddress")):
        reg.add_kyc_officer(ZERO_ADDRESS, 1)
    assert reg.officer_institution(actors.spare[0]) == 0


def test_deactivated_institution(system, actors):
    reg, cur = system.registry, system.currency
    ev = reg.set_institution_active(1, False).event("InstitutionStatusChanged")
    assert ev.args == {"institution": 1, "active": False}
    assert reg.institution_info(1).active is False

    # its officer can no longer register, link, unlink or set tiers
    with pytest.raises(E("InstitutionNotActive")) as exc:
        reg.register_identity(NEW_ID, 1, actors.spare[0], sender=actors.officer_a)
    assert exc.value.values == (1,)
    with pytest.raises(E("InstitutionNotActive")) as exc:
        reg.link_address(actors.bob_id, actors.spare[0], sender=actors.officer_a, consenting=actors.bob)
    assert exc.value.values == (1,)
    with pytest.raises(E("InstitutionNotActive")) as exc:
        reg.set_tier(actors.carol_id, 2, sender=actors.officer_a)
    assert exc.value.values == (1,)
    with pytest.raises(E("InstitutionNotActive")) as exc:
        reg.unlink_address(actors.carol, sender=actors.officer_a)
    assert exc.value.values == (1,)
    assert reg.identity_of(actors.spare[0]) is None
    with pytest.raises(E("UnknownIdentity")):
        reg.identity_info(NEW_ID)

    # the other institution is unaffected
    reg.link_address(actors.bob_id, actors.spare[0], sender=actors.officer_b, consenting=actors.bob)
    assert reg.identity_of(actors.spare[0]) == actors.bob_id

    # customers it registered keep their standing and can transact
    for who in (actors.alice, actors.carol):
        assert reg.is_active(who) is True
    cur.transfer(actors.carol, Decimal(10), sender=actors.alice)
    cur.transfer(actors.bob, Decimal(5), sender=actors.carol)
    assert (cur.balance_of(actors.alice), cur.balance_of(actors.carol), cur.balance_of(actors.bob)) == (
        Decimal("990.00"), Decimal("105.00"), Decimal("1005.00"))

    # reactivated: the officer works again
    assert reg.set_institution_active(1, True).event("InstitutionStatusChanged").args == {
        "institution": 1, "active": True}
    reg.register_identity(NEW_ID, 3, actors.spare[1], sender=actors.officer_a)
    assert reg.identity_info(NEW_ID).institution == 1


def test_officer_reassigned_to_other_institution(system, actors):
    reg = system.registry
    ev = reg.add_kyc_officer(actors.officer_a, 2).event("KycOfficerAdded")
    assert ev.args == {"officer": actors.officer_a.address, "institution": 2}
    assert reg.officer_institution(actors.officer_a) == 2
    # now bound by platform B's cap and customers
    with pytest.raises(E("InvalidTier")) as exc:
        reg.register_identity(NEW_ID, 3, actors.spare[0], sender=actors.officer_a)
    assert exc.value.values == (3, 2)
    reg.register_identity(NEW_ID, 2, actors.spare[0], sender=actors.officer_a)
    assert reg.identity_info(NEW_ID).institution == 2


# ============================================================================ identities
def test_register_identity(system, actors):
    reg = system.registry
    receipt = reg.register_identity(NEW_ID, 3, actors.spare[0], sender=actors.officer_a)
    assert [e.name for e in receipt.events] == ["IdentityRegistered", "AddressLinked"]
    assert receipt.event("IdentityRegistered").args == {"identity": NEW_ID, "institution": 1, "tier": 3}
    assert receipt.event("AddressLinked").args == {"identity": NEW_ID, "account": actors.spare[0].address,
                                                   "institution": 1}
    info = reg.identity_info(NEW_ID)
    assert (info.identity, info.institution, info.tier, info.frozen, info.accounts) == (
        NEW_ID, 1, 3, False, [actors.spare[0].address])
    acct = reg.account_info(actors.spare[0])
    assert (acct.identity, acct.linked_by, acct.tier, acct.identity_frozen, acct.address_frozen) == (
        NEW_ID, 1, 3, False, False)
    assert reg.is_active(actors.spare[0]) is True
    # the new customer can receive and send at once
    system.currency.transfer(actors.spare[0], Decimal(50), sender=actors.bob)
    system.currency.transfer(actors.carol, Decimal(20), sender=actors.spare[0])
    assert system.currency.balance_of(actors.spare[0]) == Decimal("30.00")


def test_register_accepts_hex_identity(system, actors):
    system.registry.register_identity("0x" + NEW_ID.hex(), 1, actors.spare[0], sender=actors.officer_b)
    assert system.registry.identity_of(actors.spare[0]) == NEW_ID


def test_register_duplicate_identity(system, actors):
    reg = system.registry
    with pytest.raises(E("IdentityExists")) as exc:
        reg.register_identity(actors.alice_id, 1, actors.spare[0], sender=actors.officer_b)
    assert exc.value.values == (actors.alice_id,)
    assert reg.identity_of(actors.spare[0]) is None
    assert reg.identity_info(actors.alice_id).institution == 1


def test_register_zero_identity(system, actors):
    with pytest.raises(E("ZeroIdentity")):
        system.registry.register_identity(b"\x00" * 32, 1, actors.spare[0], sender=actors.officer_a)
    assert system.registry.identity_of(actors.spare[0]) is None


def test_register_zero_address(system, actors):
    reg = system.registry
    with pytest.raises(E("ZeroAddress")):
        reg.register_identity(NEW_ID, 1, ZERO_ADDRESS, sender=actors.officer_a)
    with pytest.raises(E("UnknownIdentity")):  # the whole registration reverted
        reg.identity_info(NEW_ID)
    with pytest.raises(E("ZeroAddress")):
        reg.link_address(actors.alice_id, ZERO_ADDRESS, sender=actors.officer_a, consenting=actors.alice)


def test_register_address_already_linked(system, actors):
    reg = system.registry
    with pytest.raises(E("AddressAlreadyLinked")) as exc:
        reg.register_identity(NEW_ID, 1, actors.alice2, sender=actors.officer_a)
    assert (exc.value.account, exc.value.identity) == (actors.alice2.address, actors.alice_id)
    with pytest.raises(E("UnknownIdentity")):
        reg.identity_info(NEW_ID)
    assert reg.identity_of(actors.alice2) == actors.alice_id


def test_link_address_already_linked(system, actors):
    reg = system.registry
    # to another identity
    with pytest.raises(E("AddressAlreadyLinked")) as exc:
        reg.link_address(actors.alice_id, actors.carol, sender=actors.officer_a, consenting=actors.alice)
    assert exc.value.values == (actors.carol.address, actors.carol_id)
    # to the same identity again
    with pytest.raises(E("AddressAlreadyLinked")) as exc:
        reg.link_address(actors.bob_id, actors.bob, sender=actors.officer_b, consenting=actors.bob)
    assert exc.value.values == (actors.bob.address, actors.bob_id)
    assert reg.identity_info(actors.alice_id).accounts == [actors.alice.address, actors.alice2.address]
    assert reg.identity_info(actors.bob_id).accounts == [actors.bob.address]


@pytest.mark.parametrize("officer, tier, cap", [("officer_a", 4, 3), ("officer_a", 5, 3), ("officer_b", 3, 2),
                                                ("officer_a", 0, 3), ("officer_b", 0, 2), ("officer_b", 6, 2)])
def test_register_invalid_tier(system, actors, officer, tier, cap):
    with pytest.raises(E("InvalidTier")) as exc:
        system.registry.register_identity(NEW_ID, tier, actors.spare[0], sender=getattr(actors, officer))
    assert (exc.value.tier, exc.value.max_tier) == (tier, cap)
    assert system.registry.identity_of(actors.spare[0]) is None


def test_register_at_institution_cap(system, actors):
    system.registry.register_identity(NEW_ID, 2, actors.spare[0], sender=actors.officer_b)
    assert system.registry.account_info(actors.spare[0]).tier == 2


def test_link_unknown_identity(system, actors):
    with pytest.raises(E("UnknownIdentity")) as exc:
        system.registry.link_address(NEW_ID, actors.spare[0], sender=actors.officer_a, consenting=actors.alice)
    assert exc.value.identity == NEW_ID


def test_link_up_to_max_addresses(system, actors):
    reg = system.registry
    expected = [actors.alice.address, actors.alice2.address]
    for n in range(MAX_ADDRESSES - 2):
        ev = reg.link_address(actors.alice_id, fresh(n), sender=actors.officer_a, consenting=actors.alice).event("AddressLinked")
        assert ev.args == {"identity": actors.alice_id, "account": fresh(n), "institution": 1}
        expected.append(fresh(n))
    info = reg.identity_info(actors.alice_id)
    assert info.accounts == expected and len(info.accounts) == MAX_ADDRESSES
    for n in range(MAX_ADDRESSES - 2):
        acct = reg.account_info(fresh(n))
        assert (acct.identity, acct.linked_by, acct.tier) == (actors.alice_id, 1, 2)

    with pytest.raises(E("TooManyAddresses")) as exc:
        reg.link_address(actors.alice_id, fresh(99), sender=actors.officer_b, consenting=actors.alice)
    assert (exc.value.identity, exc.value.max) == (actors.alice_id, MAX_ADDRESSES)
    assert reg.identity_of(fresh(99)) is None
    assert reg.identity_info(actors.alice_id).accounts == expected

    # unlinking one frees a place
    reg.unlink_address(fresh(0), sender=actors.officer_a)
    reg.link_address(actors.alice_id, fresh(99), sender=actors.officer_b, consenting=actors.alice)
    assert sorted(reg.identity_info(actors.alice_id).accounts) == sorted(set(expected) - {fresh(0)} | {fresh(99)})


def test_identity_info(system, actors):
    reg = system.registry
    alice = reg.identity_info(actors.alice_id)
    assert (alice.identity, alice.institution, alice.tier, alice.frozen, alice.accounts) == (
        actors.alice_id, 1, 2, False, [actors.alice.address, actors.alice2.address])
    carol = reg.identity_info(actors.carol_id)
    assert (carol.institution, carol.tier, carol.accounts) == (1, 1, [actors.carol.address])
    with pytest.raises(E("UnknownIdentity")) as exc:
        reg.identity_info(NEW_ID)
    assert exc.value.values == (NEW_ID,)


def test_unlink_address(system, actors):
    reg, cur = system.registry, system.currency
    ev = reg.unlink_address(actors.alice, sender=actors.officer_a).event("AddressUnlinked")
    assert ev.args == {"identity": actors.alice_id, "account": actors.alice.address}
    assert reg.identity_info(actors.alice_id).accounts == [actors.alice2.address]
    acct = reg.account_info(actors.alice)
    assert (acct.identity, acct.linked_by, acct.tier, acct.identity_frozen, acct.address_frozen) == (
        None, 0, 0, False, False)
    assert reg.is_active(actors.alice) is False

    # it can neither receive nor send (its balance is stranded until it is linked again)
    with pytest.raises(E("NotRegistered")) as exc:
        cur.transfer(actors.alice, Decimal(1), sender=actors.bob)
    assert exc.value.account == actors.alice.address
    with pytest.raises(E("NotRegistered")) as exc:
        cur.transfer(actors.bob, Decimal(1), sender=actors.alice)
    assert exc.value.account == actors.alice.address
    with pytest.raises(E("NotRegistered")) as exc:
        cur.outflow_today(actors.alice)
    assert exc.value.account == actors.alice.address
    assert cur.balance_of(actors.alice) == Decimal("1000.00")
    assert cur.balance_of(actors.bob) == Decimal("1000.00")

    # the identity lives on through its other address, and the address may be linked again
    cur.transfer(actors.alice2, Decimal(3), sender=actors.bob)
    reg.link_address(actors.alice_id, actors.alice, sender=actors.officer_a, consenting=actors.alice2)
    cur.transfer(actors.bob, Decimal(1), sender=actors.alice)
    assert cur.balance_of(actors.alice) == Decimal("999.00")


def test_unlink_last_address_keeps_identity(system, actors):
    reg = system.registry
    reg.unlink_address(actors.carol)  # compliance
    info = reg.identity_info(actors.carol_id)
    assert (info.tier, info.accounts) == (1, [])
    with pytest.raises(E("IdentityExists")):
        reg.register_identity(actors.carol_id, 1, actors.spare[0], sender=actors.officer_a)
    reg.compliance_link(actors.carol_id, actors.spare[0])  # no address left to consent from
    assert reg.account_info(actors.spare[0]).tier == 1


def test_unlink_unregistered(system, actors):
    with pytest.raises(E("NotRegistered")) as exc:
        system.registry.unlink_address(actors.stranger)
    assert exc.value.account == actors.stranger.address


# ============================================================================ tiers
def test_set_tier_own_officer_within_cap(system, actors):
    reg, cur = system.registry, system.currency
    cur.transfer(actors.bob, Decimal(100), sender=actors.alice)  # 100 of alice's 5,000 used today
    ev = reg.set_tier(actors.alice_id, 3, sender=actors.officer_a).event("TierChanged")
    assert ev.args == {"identity": actors.alice_id, "previousTier": 2, "newTier": 3}
    assert reg.identity_info(actors.alice_id).tier == 3
    for who in (actors.alice, actors.alice2):
        assert reg.account_info(who).tier == 3
        outflow = cur.outflow_today(who)
        assert (outflow.spent_today, outflow.remaining_today) == (Decimal(100), Decimal(49_900))

    ev = reg.set_tier(actors.alice_id, 1, sender=actors.officer_a).event("TierChanged")
    assert ev.args == {"identity": actors.alice_id, "previousTier": 3, "newTier": 1}
    for who in (actors.alice, actors.alice2):
        assert reg.account_info(who).tier == 1
        assert cur.outflow_today(who).remaining_today == Decimal(900)


@pytest.mark.parametrize("officer, identity, tier, cap", [
    ("officer_a", "alice_id", 4, 3), ("officer_a", "carol_id", 5, 3), ("officer_b", "bob_id", 3, 2),
    ("officer_a", "alice_id", 0, 3),
])
def test_set_tier_officer_above_cap(system, actors, officer, identity, tier, cap):
    reg, ident = system.registry, getattr(actors, identity)
    before = reg.identity_info(ident).tier
    with pytest.raises(E("InvalidTier")) as exc:
        reg.set_tier(ident, tier, sender=getattr(actors, officer))
    assert exc.value.values == (tier, cap)
    assert reg.identity_info(ident).tier == before


def test_set_tier_compliance_above_cap(system, actors):
    reg, cur = system.registry, system.currency
    ev = reg.set_tier(actors.alice_id, 4, sender=actors.compliance).event("TierChanged")
    assert ev.args == {"identity": actors.alice_id, "previousTier": 2, "newTier": 4}
    for who in (actors.alice, actors.alice2):
        assert reg.account_info(who).tier == 4
        assert cur.outflow_today(who).remaining_today == Decimal(1_000_000)
    ev = reg.set_tier(actors.alice_id, 5, sender=actors.compliance).event("TierChanged")
    assert ev.args == {"identity": actors.alice_id, "previousTier": 4, "newTier": 5}
    for who in (actors.alice, actors.alice2):
        assert reg.account_info(who).tier == 5
        assert cur.outflow_today(who).remaining_today is None  # tier 5 is unlimited
    # platform B caps at 2, compliance does not
    reg.set_tier(actors.bob_id, 5, sender=actors.compliance)
    assert reg.account_info(actors.bob).tier == 5


@pytest.mark.parametrize("tier", [0, 6])
def test_set_tier_compliance_invalid(system, actors, tier):
    with pytest.raises(E("InvalidTier")) as exc:
        system.registry.set_tier(actors.bob_id, tier, sender=actors.compliance)
    assert exc.value.values == (tier, 5)
    assert system.registry.account_info(actors.bob).tier == 2


def test_set_tier_unknown_identity(system, actors):
    with pytest.raises(E("UnknownIdentity")) as exc:
        system.registry.set_tier(NEW_ID, 1)
    assert exc.value.identity == NEW_ID


def test_tier_reaches_addresses_linked_later_and_limits_follow(system, actors):
    reg, cur = system.registry, system.currency
    reg.set_tier(actors.carol_id, 3, sender=actors.officer_a)
    reg.link_address(actors.carol_id, actors.spare[0], sender=actors.officer_a, consenting=actors.carol)
    assert reg.account_info(actors.spare[0]).tier == 3
    assert cur.outflow_today(actors.spare[0]).remaining_today == Decimal(50_000)
    # a lower tier binds the identity's spending across all its addresses
    cur.set_daily_limit(1, Decimal(150))
    reg.set_tier(actors.carol_id, 1, sender=actors.officer_a)
    cur.mint(actors.carol, Decimal(200))  # minting is not an outflow; carol now holds 300
    cur.transfer(actors.spare[0], Decimal(60), sender=actors.carol)  # own address: not an outflow
    cur.transfer(actors.bob, Decimal(100), sender=actors.carol)
    assert cur.outflow_today(actors.spare[0]).remaining_today == Decimal(50)
    with pytest.raises(E("DailyLimitExceeded")) as exc:
        cur.transfer(actors.bob, Decimal(51), sender=actors.spare[0])
    assert exc.value.values == (actors.carol_id, 15_000, 10_000, 5_100)
    cur.transfer(actors.bob, Decimal(50), sender=actors.spare[0])
    outflow = cur.outflow_today(actors.carol)
    assert (outflow.spent_today, outflow.remaining_today) == (Decimal(150), Decimal(0))


# ============================================================================ freezing
def test_freeze_address(system, actors):
    reg, cur = system.registry, system.currency
    cur.transfer(actors.alice2, Decimal(100), sender=actors.alice)
    ev = reg.freeze_address(actors.alice).event("AddressFreezeChanged")
    assert ev.args == {"account": actors.alice.address, "frozen": True}
    acct = reg.account_info(actors.alice)
    assert (acct.identity, acct.address_frozen, acct.identity_frozen) == (actors.alice_id, True, False)
    assert reg.identity_info(actors.alice_id).frozen is False

    with pytest.raises(E("AddressFrozen")) as exc:
        cur.transfer(actors.bob, Decimal(1), sender=actors.alice)
    assert exc.value.values == (actors.alice.address,)
    with pytest.raises(E("AddressFrozen")) as exc:
        cur.transfer(actors.alice, Decimal(1), sender=actors.bob)
    assert exc.value.values == (actors.alice.address,)
    with pytest.raises(E("AddressFrozen")) as exc:
        cur.mint(actors.alice, Decimal(1))
    assert exc.value.account == actors.alice.address

    # the identity's other address still works both ways
    assert reg.is_active(actors.alice2) is True
    cur.transfer(actors.bob, Decimal(10), sender=actors.alice2)
    cur.transfer(actors.alice2, Decimal(4), sender=actors.carol)
    assert cur.balance_of(actors.alice2) == Decimal("94.00")
    assert cur.balance_of(actors.alice) == Decimal("900.00")

    ev = reg.unfreeze_address(actors.alice).event("AddressFreezeChanged")
    assert ev.args == {"account": actors.alice.address, "frozen": False}
    assert reg.is_active(actors.alice) is True
    cur.transfer(actors.bob, Decimal(1), sender=actors.alice)
    cur.transfer(actors.alice, Decimal(2), sender=actors.bob)
    assert cur.balance_of(actors.alice) == Decimal("901.00")


def test_freeze_identity(system, actors):
    reg, cur = system.registry, system.currency
    cur.transfer(actors.alice2, Decimal(100), sender=actors.alice)
    ev = reg.freeze_identity(actors.alice_id).event("IdentityFreezeChanged")
    assert ev.args == {"identity": actors.alice_id, "frozen": True}
    assert reg.identity_info(actors.alice_id).frozen is True

    # an address linked after the freeze is frozen too
    reg.compliance_link(actors.alice_id, actors.spare[0])  # a frozen identity cannot consent
    members = (actors.alice, actors.alice2, actors.spare[0])
    for who in members:
        acct = reg.account_info(who)
        assert (acct.identity, acct.identity_frozen, acct.address_frozen) == (actors.alice_id, True, False)
        assert reg.is_active(who) is False
        with pytest.raises(E("IdentityFrozen")) as exc:
            cur.transfer(who, Decimal(1), sender=actors.bob)
        assert (exc.value.identity, exc.value.account) == (actors.alice_id, who.address)
        with pytest.raises(E("IdentityFrozen")) as exc:
            cur.transfer(actors.bob, Decimal(1), sender=who)
        assert exc.value.values == (actors.alice_id, who.address)
    # other identities are untouched
    cur.transfer(actors.carol, Decimal(1), sender=actors.bob)

    ev = reg.unfreeze_identity(actors.alice_id).event("IdentityFreezeChanged")
    assert ev.args == {"identity": actors.alice_id, "frozen": False}
    assert reg.identity_info(actors.alice_id).frozen is False
    cur.transfer(actors.spare[0], Decimal(7), sender=actors.bob)
    for who in members:
        assert reg.is_active(who) is True
        assert reg.account_info(who).identity_frozen is False
        cur.transfer(actors.bob, Decimal(1), sender=who)
    assert [cur.balance_of(w) for w in members] == [Decimal("899.00"), Decimal("99.00"), Decimal("6.00")]


def test_address_and_identity_freezes_are_independent(system, actors):
    reg, cur = system.registry, system.currency
    reg.freeze_address(actors.alice)
    reg.freeze_identity(actors.alice_id)
    acct = reg.account_info(actors.alice)
    assert (acct.address_frozen, acct.identity_frozen) == (True, True)
    with pytest.raises(E("AddressFrozen")) as exc:  # the address freeze is reported first
        cur.transfer(actors.bob, Decimal(1), sender=actors.alice)
    assert exc.value.values == (actors.alice.address,)
    reg.unfreeze_identity(actors.alice_id)
    assert reg.is_active(actors.alice) is False and reg.is_active(actors.alice2) is True
    with pytest.raises(E("AddressFrozen")):
        cur.transfer(actors.alice, Decimal(1), sender=actors.bob)
    reg.freeze_identity(actors.alice_id)
    reg.unfreeze_address(actors.alice)
    with pytest.raises(E("IdentityFrozen")) as exc:
        cur.transfer(actors.alice, Decimal(1), sender=actors.bob)
    assert exc.value.values == (actors.alice_id, actors.alice.address)
    reg.unfreeze_identity(actors.alice_id)
    assert reg.is_active(actors.alice) is True


def test_officer_cannot_lift_address_freeze_by_relinking(system, actors):
    # Regression: unlinking deleted the record (freeze flag included) and relinking wrote a fresh,
    # unfrozen one, so an officer could undo a compliance freeze. A frozen address cannot be unlinked.
    reg, cur = system.registry, system.currency
    reg.freeze_address(actors.alice, sender=actors.compliance)
    for unlinker in (actors.officer_a, actors.compliance):
        with pytest.raises(E("AddressFrozen")) as exc:
            reg.unlink_address(actors.alice, sender=unlinker)
        assert exc.value.account == actors.alice.address
    assert reg.account_info(actors.alice).address_frozen is True
    assert reg.is_active(actors.alice) is False
    with pytest.raises(E("AddressFrozen")):
        cur.transfer(actors.bob, Decimal(1000), sender=actors.alice)
    assert cur.balance_of(actors.alice) == Decimal("1000.00")
    reg.unfreeze_address(actors.alice)
    reg.unlink_address(actors.alice, sender=actors.officer_a)  # allowed once compliance lifted it
    assert reg.account_info(actors.alice).identity is None


def test_addresses_of_a_frozen_identity_cannot_be_unlinked(system, actors):
    # Otherwise an officer could unlink a frozen person's address and register it under a new hash.
    reg = system.registry
    reg.freeze_identity(actors.alice_id)
    with pytest.raises(E("IdentityFrozen")) as exc:
        reg.unlink_address(actors.alice, sender=actors.officer_a)
    assert exc.value.values == (actors.alice_id, actors.alice.address)
    assert reg.account_info(actors.alice).identity == actors.alice_id
    assert reg.is_active(actors.alice) is False


def test_set_address_frozen_unregistered(system, actors):
    reg = system.registry
    for action in (reg.freeze_address, reg.unfreeze_address):
        with pytest.raises(E("NotRegistered")) as exc:
            action(actors.stranger, sender=actors.compliance)
        assert exc.value.values == (actors.stranger.address,)
    # an unlinked address is unregistered too
    reg.unlink_address(actors.carol)
    with pytest.raises(E("NotRegistered")) as exc:
        reg.freeze_address(actors.carol)
    assert exc.value.account == actors.carol.address
    assert reg.account_info(actors.stranger).address_frozen is False


def test_freeze_unknown_identity(system, actors):
    with pytest.raises(E("UnknownIdentity")) as exc:
        system.registry.freeze_identity(NEW_ID)
    assert exc.value.values == (NEW_ID,)


# ============================================================================ views
def test_account_info_and_is_active(system, actors):
    reg = system.registry
    reg.freeze_address(actors.bob)
    reg.freeze_identity(actors.carol_id)
    expected = {
        # who: (identity, linked_by, tier, identity_frozen, address_frozen, active)
        "alice": (actors.alice_id, 1, 2, False, False, True),
        "alice2": (actors.alice_id, 2, 2, False, False, True),
        "bob": (actors.bob_id, 2, 2, False, True, False),
        "carol": (actors.carol_id, 1, 1, True, False, False),
        "stranger": (None, 0, 0, False, False, False),
    }
    for name, want in expected.items():
        who = getattr(actors, name)
        acct = reg.account_info(who)
        assert acct.address == who.address
        assert (acct.identity, acct.linked_by, acct.tier, acct.identity_frozen, acct.address_frozen, acct.active) \
            == want, name
        assert reg.is_active(who) is want[-1], name
        assert reg.identity_of(who) == want[0], name


def test_require_active_views(system, actors):
    reg = system.registry
    key, tier = read(reg, "requireActive", actors.alice2.address)
    assert tier == 2 and read(reg, "identityHashOf", key) == actors.alice_id
    assert read(reg, "requireActive", actors.alice.address)[0] == key  # one key per identity
    assert read(reg, "identityHashOf", 0) == b"\x00" * 32
    with pytest.raises(E("NotRegistered")) as exc:
        read(reg, "requireActive", actors.stranger.address)
    assert exc.value.account == actors.stranger.address
    reg.freeze_address(actors.bob)
    with pytest.raises(E("AddressFrozen")) as exc:
        read(reg, "requireActivePair", actors.alice.address, actors.bob.address)
    assert exc.value.account == actors.bob.address


# ============================================================================ identity_id()
RECORD = {"name": "张三", "id_number": "110101199003074514", "nationality": "CN"}


def test_identity_id_is_deterministic():
    assert identity_id("alice") == identity_id("alice") == keccak(b"alice")
    assert len(identity_id("alice")) == 32
    assert identity_id("  alice\n") == identity_id("alice")  # surrounding whitespace is not part of the record
    assert identity_id("alice") != identity_id("Alice")
    assert identity_id(RECORD) == identity_id(dict(RECORD))


def test_identity_id_salt():
    assert identity_id("alice", salt=b"pepper") == keccak(b"pepper" + b"alice")
    assert identity_id("alice", salt=b"pepper") != identity_id("alice")
    assert identity_id("alice", salt=b"pepper") != identity_id("alice", salt=b"salt")
    assert identity_id(RECORD, salt=b"s") != identity_id(RECORD)
    assert identity_id("alice", salt=b"") == identity_id("alice")


def test_identity_id_dict_is_canonical():
    canonical = json.dumps(RECORD, sort_keys=True, ensure_ascii=False)
    assert identity_id(RECORD) == keccak(canonical.encode("utf-8"))
    reordered = {k: RECORD[k] for k in reversed(list(RECORD))}
    assert list(reordered) != list(RECORD)
    assert identity_id(reordered) == identity_id(RECORD)
    padded = {k: f"  {v} " for k, v in RECORD.items()}
    assert identity_id(padded) == identity_id(RECORD)  # values are trimmed
    assert identity_id({"age": 30}) == identity_id({"age": "30"})  # values are compared as text
    assert identity_id(dict(RECORD, id_number="110101199003074515")) != identity_id(RECORD)
    assert identity_id({"name": "a", "id": "bc"}) != identity_id({"name": "ab", "id": "c"})


@pytest.mark.parametrize("record", ["", "   ", "\n\t"])
def test_identity_id_empty_string_record(record):
    with pytest.raises(ValueError):
        identity_id(record)


@pytest.mark.parametrize("record", [{}, {"name": "  "}, {"name": "", "id_number": " "}])
def test_identity_id_refuses_records_without_a_non_blank_field(record):
    with pytest.raises(ValueError, match="empty real-name record"):
        identity_id(record)
