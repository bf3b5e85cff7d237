"""Client of the identity registry (contracts/access/IdentityRegistry.sol)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Mapping

from eth_account import Account as EthAccount
from eth_utils import keccak

from ..core import errors
from ..chain import AccountLike, Receipt
from ..core.contract import ContractClient

IdentityLike = bytes | str
ZERO_ADDRESS = "0x" + "00" * 20
MAX_TIER = 5
# The institution under which chainpay registers its own escrow contracts (the largest uint32, so it
# never collides with the platforms' own numbering).
CONTRACTS_INSTITUTION = 2**32 - 1
CONTRACTS_INSTITUTION_NAME = "chainpay contracts"


def _none_if_zero(address: str) -> str | None:
    return None if int(address, 16) == 0 else address


def identity_id(record: Mapping[str, str] | str, salt: bytes = b"") -> bytes:
    """The on-chain key of a verified person: keccak256 of a salt and the canonical real-name record.

    Only this hash reaches the chain. Every institution (and every chain of a bridge) must use the
    same record fields and salt for the same person, so that the same-name rule can match them; keep
    the salt secret among institutions, or a name and ID number can be guessed back from the hash.
    """
    if isinstance(salt, str) or not isinstance(salt, (bytes, bytearray)):
        raise errors.InvalidInput(f"salt is bytes, got {salt!r:.60}")
    if isinstance(record, str):
        canonical = record.strip()
        empty = not canonical
    elif not isinstance(record, Mapping):
        raise errors.InvalidInput(f"identity_id takes the real-name record as a dict of fields (or a string), got {record!r:.60}")
    else:
        fields = {k: str(v).strip() for k, v in record.items()}
        canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False)
        empty = not any(fields.values())
    if empty:
        raise errors.InvalidInput("empty real-name record: every identity needs at least one non-blank field")
    return keccak(salt + canonical.encode())


def as_identity(identity: IdentityLike) -> bytes:
    original = identity
    if isinstance(identity, str):
        try:
            identity = bytes.fromhex(identity.removeprefix("0x"))
        except ValueError:
            identity = None
    if not isinstance(identity, bytes) or len(identity) != 32:
        raise errors.InvalidInput(f"an identity is 32 bytes or 64 hex digits (see identity_id()), got {original!r:.80}")
    return identity


@dataclass(frozen=True)
class AccountInfo:
    address: str
    identity: bytes | None  # None when the address is not registered
    linked_by: int  # institution that linked the address
    tier: int
    identity_frozen: bool
    address_frozen: bool

    @property
    def active(self) -> bool:
        return self.identity is not None and not self.identity_frozen and not self.address_frozen


@dataclass(frozen=True)
class IdentityInfo:
    identity: bytes
    institution: int
    tier: int
    frozen: bool
    approver: str | None  # second-factor address, None when none is bound
    accounts: list[str]


@dataclass(frozen=True)
class LinkConsent:
    """A person's EIP-712 consent to link `account` to `identity` by an officer of `institution`,
    signed by one of the identity's active addresses (IdentityRegistry.linkAddress checks it)."""

    identity: bytes
    account: str
    institution: int
    nonce: int
    deadline: int
    signature: bytes  # r || s || v


_LINK_TYPES = {"LinkAddress": [
    {"name": "identity", "type": "bytes32"},
    {"name": "account", "type": "address"},
    {"name": "institution", "type": "uint32"},
    {"name": "nonce", "type": "uint256"},
    {"name": "deadline", "type": "uint256"},
]}
DOMAIN_NAME = "chainpay identity registry"


@dataclass(frozen=True)
class InstitutionInfo:
    id: int
    name: str
    active: bool
    max_tier: int


class Registry(ContractClient):
    """Institutions (white list), KYC officers, identities, their addresses and tiers, freezes.

    Role-guarded calls default their sender to the deployment's role holder (DEFAULT_ADMIN for
    institutions and officers, COMPLIANCE for freezes); KYC calls need the officer as sender.
    """

    artifact_name = "IdentityRegistry"

    # ------------------------------------------------------------- institutions and officers
    def add_institution(self, institution: int, name: str, max_tier: int, *, sender: AccountLike | None = None) -> Receipt:
        return self._write("addInstitution", institution, name, max_tier, sender=self._sender(sender, "DEFAULT_ADMIN"))

    def set_institution_active(self, institution: int, active: bool, *, sender: AccountLike | None = None) -> Receipt:
        return self._write("setInstitutionActive", institution, active, sender=self._sender(sender, "DEFAULT_ADMIN"))

    def add_kyc_officer(self, officer: AccountLike, institution: int, *, sender: AccountLike | None = None) -> Receipt:
        return self._write("addKycOfficer", self.chain.account(officer).address, institution, sender=self._sender(sender, "DEFAULT_ADMIN"))

    def remove_kyc_officer(self, officer: AccountLike, *, sender: AccountLike | None = None) -> Receipt:
        return self._write("removeKycOfficer", self.chain.account(officer).address, sender=self._sender(sender, "DEFAULT_ADMIN"))

    # ------------------------------------------------------------- identities (KYC officers)
    def register_identity(self, identity: IdentityLike, tier: int, account: AccountLike, *, sender: AccountLike) -> Receipt:
        return self._write("registerIdentity", as_identity(identity), tier, self.chain.account(account).address, sender=self._sender(sender))

    def sign_link_consent(self, identity: IdentityLike, account: AccountLike, institution: int, *,
                          signer: AccountLike, deadline: int | None = None, nonce: int | None = None,
                          chain_id: int | None = None) -> LinkConsent:
        """The person's consent (signed by `signer`, an address of `identity`) that an officer of
        `institution` link `account` to it; valid until `deadline` (default: one hour from now) and for
        the identity's next link nonce only."""
        key = as_identity(identity)
        signer_account = self.chain.account(signer)
        if signer_account.key is None:
            raise errors.SigningError(f"chainpay holds no key for {signer_account.address}; it cannot sign for it")
        address = self.chain.account(account).address
        deadline = self.chain.now + 3600 if deadline is None else deadline
        nonce = self.link_nonce(key) if nonce is None else nonce
        domain = {"name": DOMAIN_NAME, "version": "1", "verifyingContract": self.address,
                  "chainId": self.chain.chain_id if chain_id is None else chain_id}
        message = {"identity": key, "account": address, "institution": institution, "nonce": nonce, "deadline": deadline}
        signed = EthAccount.sign_typed_data(signer_account.key, domain, _LINK_TYPES, message)
        return LinkConsent(key, address, institution, nonce, deadline, bytes(signed.signature))

    def link_address(self, identity: IdentityLike, account: AccountLike, consent: LinkConsent | None = None, *,
                     sender: AccountLike, consenting: AccountLike | None = None) -> Receipt:
        """Link `account` to `identity` (sender: a KYC officer) with the person's consent: a LinkConsent
        already signed, or one signed here by `consenting` (an address of the identity whose key chainpay
        holds). Refused before sending when the consent names another identity, address or institution."""
        key = as_identity(identity)
        address = self.chain.account(account).address
        officer = self._sender(sender)
        institution = self.officer_institution(officer)
        if consent is None:
            if consenting is None:
                raise errors.InvalidInput("linking an address needs the person's consent: pass consent= or consenting=")
            consent = self.sign_link_consent(key, address, institution, signer=consenting)
        if (consent.identity, consent.account.lower(), consent.institution) != (key, address.lower(), institution):
            raise errors.InvalidInput("the consent is for another identity, address or institution than this link")
        return self._write("linkAddress", key, address, consent.deadline, consent.signature, sender=officer)

    def compliance_link(self, identity: IdentityLike, account: AccountLike, *, sender: AccountLike | None = None) -> Receipt:
        """Compliance links an address without a consent signature (the person lost every key)."""
        return self._write("complianceLink", as_identity(identity), self.chain.account(account).address,
                           sender=self._sender(sender, "COMPLIANCE"))

    def unlink_address(self, account: AccountLike, *, sender: AccountLike | None = None) -> Receipt:
        return self._write("unlinkAddress", self.chain.account(account).address, sender=self._sender(sender, "COMPLIANCE"))

    def set_tier(self, identity: IdentityLike, tier: int, *, sender: AccountLike | None = None) -> Receipt:
        return self._write("setTier", as_identity(identity), tier, sender=self._sender(sender, "COMPLIANCE"))

    def set_approver(self, identity: IdentityLike, approver: AccountLike | None, *, sender: AccountLike | None = None) -> Receipt:
        """Bind a second-factor approver (an address on the person's second device) to an identity;
        None clears it. Sender: an officer of the registering institution, or compliance (default)."""
        address = ZERO_ADDRESS if approver is None else self.chain.account(approver).address
        return self._write("setApprover", as_identity(identity), address, sender=self._sender(sender, "COMPLIANCE"))

    def register_contract(self, address: str, name: str, *, institution: int, sender: AccountLike | None = None) -> bytes:
        """Register one of chainpay's own escrow contracts as an identity of its own (at the top tier,
        fixed), so the currency lets it hold and pay out; no address can ever be linked to it."""
        identity = identity_id({"contract": name, "address": self.chain.account(address).address})
        self._write("registerContract", identity, self.chain.account(address).address, institution,
                    sender=self._sender(sender, "DEFAULT_ADMIN"))
        return identity

    # ------------------------------------------------------------- compliance
    def freeze_identity(self, identity: IdentityLike, *, sender: AccountLike | None = None) -> Receipt:
        return self._write("setIdentityFrozen", as_identity(identity), True, sender=self._sender(sender, "COMPLIANCE"))

    def unfreeze_identity(self, identity: IdentityLike, *, sender: AccountLike | None = None) -> Receipt:
        return self._write("setIdentityFrozen", as_identity(identity), False, sender=self._sender(sender, "COMPLIANCE"))

    def freeze_address(self, account: AccountLike, *, sender: AccountLike | None = None) -> Receipt:
        return self._write("setAddressFrozen", self.chain.account(account).address, True, sender=self._sender(sender, "COMPLIANCE"))

    def unfreeze_address(self, account: AccountLike, *, sender: AccountLike | None = None) -> Receipt:
        return self._write("setAddressFrozen", self.chain.account(account).address, False, sender=self._sender(sender, "COMPLIANCE"))

    # ------------------------------------------------------------- views
    def account_info(self, account: AccountLike) -> AccountInfo:
        address = self.chain.account(account).address
        identity, linked_by, tier, id_frozen, addr_frozen = self._read("accountInfo", address)
        return AccountInfo(address, identity if any(identity) else None, linked_by, tier, id_frozen, addr_frozen)

    def identity_of(self, account: AccountLike) -> bytes | None:
        return self.account_info(account).identity

    def is_active(self, account: AccountLike) -> bool:
        return self._read("isActive", self.chain.account(account).address)

    def identity_info(self, identity: IdentityLike) -> IdentityInfo:
        key = as_identity(identity)
        institution, tier, frozen, approver, accounts = self._read("identityInfo", key)
        return IdentityInfo(key, institution, tier, frozen, _none_if_zero(approver), list(accounts))

    def institution_info(self, institution: int) -> InstitutionInfo:
        name, active, max_tier = self._read("institutionInfo", institution)
        return InstitutionInfo(institution, name, active, max_tier)

    def approver_of(self, account: AccountLike) -> str | None:
        """The second-factor approver bound to `account`'s identity (None if none)."""
        return _none_if_zero(self._read("approverOf", self.chain.account(account).address))

    def link_nonce(self, identity: IdentityLike) -> int:
        """The nonce the identity's next link consent must name."""
        return self._read("linkNonce", as_identity(identity))

    def is_contract_account(self, account: AccountLike) -> bool:
        """Whether `account` is one of chainpay's own contracts (registered with register_contract)."""
        return self._read("isContractAccount", self.chain.account(account).address)

    def officer_institution(self, officer: AccountLike) -> int:
        return self._read("officerInstitution", self.chain.account(officer).address)
