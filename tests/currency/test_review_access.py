"""Security review (issue 11), findings 1 and 12 on the identity registry and the admin role.

Each test first tries the attack the review showed, then checks it does no harm now.
Finding 1: linking an address needs the person's consent (EIP-712, one use, a deadline), never
reaches a contract identity and never an identity above the officer's institution's max tier.
Finding 12: the admin role is OpenZeppelin's AccessControlDefaultAdminRules on every contract.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from eth_account import Account as EthAccount
from eth_account.messages import _hash_eip191_message, encode_typed_data

from chainpay import errors
from chainpay.currency.registry import _LINK_TYPES, DOMAIN_NAME, identity_id
from support import expect_refusal

ADMIN_ROLE = b"\x00" * 32


@pytest.fixture(autouse=True)
def _clock_at_wall_time(chain):
    """A reverted snapshot leaves the chain's latest block behind the wall clock, and the next block is
    stamped at the wall clock: mine one now, so that deadlines computed from `chain.now` hold."""
    chain.advance_time(0)


def escrow_identity(system) -> bytes:
    return identity_id({"contract": "RevocableTransfers", "address": system.transfers.address})


def registry_view(system, actors, *who):
    reg = system.registry
    return ([reg.account_info(w) for w in who], reg.identity_info(actors.alice_id), reg.link_nonce(actors.alice_id))


# ------------------------------------------------------------------ finding 1: no link without consent
def test_an_officer_cannot_link_its_address_to_an_escrow_identity(system, actors):
    """The review linked a tier-2 officer's address to the (public) tier-5 identity of an escrow and
    sent 60,000 in a day. Now no path links anything to a contract identity."""
    reg, cur = system.registry, system.currency
    rogue = actors.spare[0]
    escrow_id = escrow_identity(system)
    assert reg.identity_info(escrow_id).accounts == [system.transfers.address]  # the hash is public
    snap = lambda: registry_view(system, actors, rogue)  # noqa: E731
    consent = reg.sign_link_consent(escrow_id, rogue, 2, signer=rogue, nonce=0)  # nobody can sign for a contract
    expect_refusal(snap, lambda: reg._write("linkAddress", escrow_id, rogue.address, consent.deadline,
                                            consent.signature, sender=actors.officer_b),
                   "ContractIdentity", identity=escrow_id)
    expect_refusal(snap, lambda: reg.compliance_link(escrow_id, rogue), "ContractIdentity", identity=escrow_id)
    expect_refusal(snap, lambda: reg.set_tier(escrow_id, 1), "ContractIdentity", identity=escrow_id)
    assert reg.identity_of(rogue) is None
    cur.mint(actors.bob, Decimal(60_000))
    with pytest.raises(errors.NotRegistered):
        cur.transfer(actors.bob, Decimal(60_000), sender=rogue)
    assert reg.is_contract_account(system.transfers.address) and not reg.is_contract_account(actors.alice)


def test_an_officer_cannot_reach_an_identity_above_its_institutions_max_tier(system, actors):
    reg = system.registry
    reg.set_tier(actors.carol_id, 3, sender=actors.officer_a)  # platform A may grant tier 3, platform B only 2
    consent = reg.sign_link_consent(actors.carol_id, actors.spare[0], 2, signer=actors.carol)
    expect_refusal(lambda: registry_view(system, actors, actors.spare[0]),
                   lambda: reg.link_address(actors.carol_id, actors.spare[0], consent, sender=actors.officer_b),
                   "TierAboveInstitution", identity=actors.carol_id, tier=3, maxTier=2)
    # platform A, whose cap covers tier 3, may link with the same person's consent
    reg.link_address(actors.carol_id, actors.spare[0], sender=actors.officer_a, consenting=actors.carol)
    assert reg.account_info(actors.spare[0]).tier == 3


def test_a_victims_limit_cannot_be_used_up_through_an_address_linked_without_consent(system, actors):
    """The review linked an attacker's address into alice's identity and spent her daily limit."""
    reg, cur = system.registry, system.currency
    thief = actors.spare[0]
    snap = lambda: (registry_view(system, actors, thief), cur.outflow_today(actors.alice))  # noqa: E731
    block = system.chain.block_number
    with pytest.raises(errors.InvalidInput):  # the SDK asks for a consent before sending anything
        reg.link_address(actors.alice_id, thief, sender=actors.officer_b)
    assert system.chain.block_number == block
    for signer in (thief, actors.officer_b, actors.bob):  # the thief's, the officer's, another person's key
        forged = reg.sign_link_consent(actors.alice_id, thief, 2, signer=signer)
        expect_refusal(snap, lambda: reg.link_address(actors.alice_id, thief, forged, sender=actors.officer_b),
                       "InvalidLinkConsent", identity=actors.alice_id, signer=signer.address)
    # a consent signed by alice's frozen address is no consent either
    reg.freeze_address(actors.alice2)
    frozen = reg.sign_link_consent(actors.alice_id, thief, 2, signer=actors.alice2)
    expect_refusal(snap, lambda: reg.link_address(actors.alice_id, thief, frozen, sender=actors.officer_b),
                   "InvalidLinkConsent", identity=actors.alice_id, signer=actors.alice2.address)
    assert reg.identity_of(thief) is None


def test_a_consent_is_bound_to_its_address_institution_deadline_and_used_once(system, actors, chain):
    reg = system.registry
    new, other = actors.spare[0], actors.spare[1]
    snap = lambda: registry_view(system, actors, new, other)  # noqa: E731
    consent = reg.sign_link_consent(actors.alice_id, new, 2, signer=actors.alice, deadline=chain.now + 600)
    # another address, another institution: refused by the SDK before sending, and by the contract
    with pytest.raises(errors.InvalidInput):
        reg.link_address(actors.alice_id, other, consent, sender=actors.officer_b)
    with pytest.raises(errors.InvalidInput):
        reg.link_address(actors.alice_id, new, consent, sender=actors.officer_a)
    for who, officer in ((other, actors.officer_b), (new, actors.officer_a)):
        with pytest.raises(errors.InvalidLinkConsent) as info:
            reg._write("linkAddress", actors.alice_id, who.address, consent.deadline, consent.signature, sender=officer)
        assert info.value.identity == actors.alice_id and info.value.signer != actors.alice.address
    assert snap()[0] == [reg.account_info(new), reg.account_info(other)]
    # past its deadline
    chain.set_next_block_time(consent.deadline + 1)
    expect_refusal(snap, lambda: reg.link_address(actors.alice_id, new, consent, sender=actors.officer_b),
                   "LinkConsentExpired", deadline=consent.deadline)
    # a fresh consent works once; replayed after an unlink it no longer matches the nonce
    fresh = reg.sign_link_consent(actors.alice_id, new, 2, signer=actors.alice)
    receipt = reg.link_address(actors.alice_id, new, fresh, sender=actors.officer_b)
    assert receipt.event("AddressLinked").args == {"identity": actors.alice_id, "account": new.address, "institution": 2}
    assert reg.link_nonce(actors.alice_id) == fresh.nonce + 1
    reg.unlink_address(new)
    with pytest.raises(errors.InvalidLinkConsent):
        reg.link_address(actors.alice_id, new, fresh, sender=actors.officer_b)
    assert reg.identity_of(new) is None


def test_link_digest_is_eip712_of_the_sdk_consent(system, actors):
    reg = system.registry
    consent = reg.sign_link_consent(actors.alice_id, actors.spare[0], 7, signer=actors.alice, deadline=123, nonce=5)
    domain = {"name": DOMAIN_NAME, "version": "1", "chainId": system.chain.chain_id, "verifyingContract": reg.address}
    message = {"identity": actors.alice_id, "account": actors.spare[0].address, "institution": 7, "nonce": 5,
               "deadline": 123}
    expected = _hash_eip191_message(encode_typed_data(domain, _LINK_TYPES, message))
    assert reg._read("linkDigest", actors.alice_id, actors.spare[0].address, 7, 5, 123) == expected
    signable = encode_typed_data(domain, _LINK_TYPES, message)
    assert EthAccount.recover_message(signable, signature=consent.signature) == actors.alice.address


def test_register_contract_is_the_admins_and_needs_code(system, actors):
    reg = system.registry
    code = system.chain.deploy("BaselineERC20", [1], actors.admin).contract_address
    ident = identity_id({"contract": "x", "address": code})
    with pytest.raises(errors.AccessControlUnauthorizedAccount):
        reg._write("registerContract", ident, code, 2**32 - 1, sender=actors.compliance)
    with pytest.raises(errors.NotAContract) as info:
        reg._write("registerContract", ident, actors.spare[0].address, 2**32 - 1, sender=actors.admin)
    assert info.value.account == actors.spare[0].address
    receipt = reg._write("registerContract", ident, code, 2**32 - 1, sender=actors.admin)
    assert receipt.event("ContractRegistered").args == {"identity": ident, "account": code, "institution": 2**32 - 1}
    assert reg.account_info(code).tier == 5 and reg.is_contract_account(code)


# ------------------------------------------------------------------ finding 12: the admin role
def _admin_contracts(system):
    return [system.registry, system.currency, system.transfers, system.catalogue, system.channels]


def test_no_contract_lets_its_admin_renounce_or_hand_over_in_one_step(system, actors):
    for client in _admin_contracts(system):
        with pytest.raises(errors.AccessControlEnforcedDefaultAdminDelay) as info:
            client._write("renounceRole", ADMIN_ROLE, actors.admin.address, sender=actors.admin)
        assert info.value.schedule == 0
        with pytest.raises(errors.AccessControlEnforcedDefaultAdminRules):
            client._write("grantRole", ADMIN_ROLE, actors.spare[0].address, sender=actors.admin)
        assert client.has_role("DEFAULT_ADMIN", actors.admin) and not client.has_role("DEFAULT_ADMIN", actors.spare[0])
        assert client._read("defaultAdminDelay") == 2 * 86_400


def test_admin_handover_takes_two_steps_and_the_delay(system, actors, chain):
    reg, new = system.registry, actors.spare[0]
    receipt = reg._write("beginDefaultAdminTransfer", new.address, sender=actors.admin)
    schedule = receipt.event("DefaultAdminTransferScheduled")["acceptSchedule"]
    with pytest.raises(errors.AccessControlEnforcedDefaultAdminDelay) as info:
        reg._write("acceptDefaultAdminTransfer", sender=new)
    assert info.value.schedule == schedule
    chain.set_next_block_time(schedule + 1)
    reg._write("acceptDefaultAdminTransfer", sender=new)
    assert reg.has_role("DEFAULT_ADMIN", new) and not reg.has_role("DEFAULT_ADMIN", actors.admin)
    with pytest.raises(errors.AccessControlUnauthorizedAccount):
        reg.add_institution(9, "Late", 1, sender=actors.admin)
    reg.add_institution(9, "New admin's", 1, sender=new)
