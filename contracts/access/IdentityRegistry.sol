// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IIdentityRegistry} from "./IIdentityRegistry.sol";

/// @title Identity registry of a permissioned payment network
/// @notice One identity per verified person, keyed by a hash of the real-name record (the name itself
///         never touches the chain). An identity has a tier, a frozen flag and up to
///         MAX_ADDRESSES_PER_IDENTITY addresses. White-listed institutions (payment platforms) register
///         their own customers through their KYC officers; compliance freezes identities or addresses.
/// @dev Gas design: the per-address record carries a copy of its identity's tier and frozen flag, so
///      the payment hot path reads one storage slot per party. Identity-wide changes (tier, freeze)
///      rewrite the copies of at most MAX_ADDRESSES_PER_IDENTITY addresses: bounded, never user-grown.
///      Linking an address to an existing identity needs the person's consent: an EIP-712 LinkAddress
///      signature by an active address of that identity, bound to the address, the linking institution,
///      a per-identity nonce and a deadline. Contract identities (chainpay's escrows, registered by the
///      admin with registerContract) never gain an address and never change tier.
///      The admin role follows OpenZeppelin's AccessControlDefaultAdminRules: one admin, handed over in
///      two steps after a delay, never renounced in one call.
contract IdentityRegistry is AccessControlDefaultAdminRules, EIP712, IIdentityRegistry {
    bytes32 public constant KYC_OFFICER_ROLE = keccak256("KYC_OFFICER");
    bytes32 public constant COMPLIANCE_ROLE = keccak256("COMPLIANCE");
    /// @notice The person's consent to link `account` to `identity` by an officer of `institution`.
    bytes32 public constant LINK_TYPEHASH = keccak256(
        "LinkAddress(bytes32 identity,address account,uint32 institution,uint256 nonce,uint256 deadline)"
    );

    /// @notice Tiers run from 1 to MAX_TIER (the currency keeps one daily limit per tier).
    uint8 public constant MAX_TIER = 5;

    /// @notice How many addresses one identity may link (bounds every loop in this contract).
    uint256 public constant MAX_ADDRESSES_PER_IDENTITY = 8;

    struct Institution {
        bool listed; // ever added
        bool active; // on the white list now
        uint8 maxTier; // highest tier its officers may grant
        string name;
    }

    struct Identity {
        bytes32 hash;
        uint32 institution; // the institution that registered the person
        uint8 tier;
        bool frozen;
        address approver; // second factor (a second device) that confirms large payments; 0 = none
        bool isContract; // a chainpay escrow contract (registerContract): no links, fixed tier
        uint32 linkNonce; // consents used so far (each LinkAddress signature names the next one)
        address[] accounts;
    }

    /// @dev One slot: everything a payment needs to know about one address.
    struct Account {
        uint64 identityKey; // 0 = not registered
        uint32 institution; // institution whose officer linked this address
        uint8 tier; // copy of the identity's tier
        bool identityFrozen; // copy of the identity's frozen flag
        bool addressFrozen;
    }

    mapping(uint32 id => Institution) private _institutions;
    mapping(address officer => uint32 institution) private _officerInstitution;
    mapping(uint64 key => Identity) private _identities;
    mapping(bytes32 hash => uint64 key) private _keyOfHash;
    mapping(address account => Account) private _accounts;
    uint64 private _identityCount;

    event InstitutionAdded(uint32 indexed institution, string name, uint8 maxTier);
    event InstitutionStatusChanged(uint32 indexed institution, bool active);
    event KycOfficerAdded(address indexed officer, uint32 indexed institution);
    event KycOfficerRemoved(address indexed officer, uint32 indexed institution);
    event IdentityRegistered(bytes32 indexed identity, uint32 indexed institution, uint8 tier);
    event AddressLinked(bytes32 indexed identity, address indexed account, uint32 indexed institution);
    event AddressUnlinked(bytes32 indexed identity, address indexed account);
    event TierChanged(bytes32 indexed identity, uint8 previousTier, uint8 newTier);
    event IdentityFreezeChanged(bytes32 indexed identity, bool frozen);
    event AddressFreezeChanged(address indexed account, bool frozen);
    event ApproverChanged(bytes32 indexed identity, address indexed previousApprover, address indexed newApprover);
    event ContractRegistered(bytes32 indexed identity, address indexed account, uint32 indexed institution);

    error ZeroAddress();
    error ZeroIdentity();
    error InvalidInstitutionId(uint32 institution);
    error InstitutionExists(uint32 institution);
    error UnknownInstitution(uint32 institution);
    error InstitutionNotActive(uint32 institution);
    error InvalidTier(uint8 tier, uint8 maxTier);
    error IdentityExists(bytes32 identity);
    error UnknownIdentity(bytes32 identity);
    error AddressAlreadyLinked(address account, bytes32 identity);
    error TooManyAddresses(bytes32 identity, uint256 max);
    error NotYourCustomer(address officer, uint32 officerInstitution, uint32 customerInstitution);
    /// @notice Contract identities (chainpay escrows) never gain addresses and never change tier.
    error ContractIdentity(bytes32 identity);
    /// @notice An officer may not reach an identity whose tier is above its institution's maxTier.
    error TierAboveInstitution(bytes32 identity, uint8 tier, uint8 maxTier);
    /// @notice The person's link consent is past its deadline.
    error LinkConsentExpired(uint256 deadline);
    /// @notice The link consent is not signed by an active address of the identity (signer is zero
    ///         for a malformed signature) or was for another address, institution or nonce.
    error InvalidLinkConsent(bytes32 identity, address signer);
    error NotAContract(address account);

    /// @param admin manages institutions and officers (DEFAULT_ADMIN_ROLE, handed over in two steps)
    /// @param compliance freezes identities and addresses and may set any tier
    /// @param adminDelay seconds between the start of an admin handover and its acceptance
    constructor(address admin, address compliance, uint48 adminDelay)
        AccessControlDefaultAdminRules(adminDelay, admin)
        EIP712("chainpay identity registry", "1")
    {
        if (compliance == address(0)) revert ZeroAddress();
        _grantRole(COMPLIANCE_ROLE, compliance);
    }

    // ------------------------------------------------------------------ institutions

    /// @notice Put a payment institution on the white list.
    /// @param id nonzero institution number chosen by the admin
    /// @param name display name of the institution
    /// @param maxTier the highest identity tier its KYC officers may grant (1..MAX_TIER)
    function addInstitution(uint32 id, string calldata name, uint8 maxTier) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (id == 0) revert InvalidInstitutionId(id);
        if (_institutions[id].listed) revert InstitutionExists(id);
        if (maxTier == 0 || maxTier > MAX_TIER) revert InvalidTier(maxTier, MAX_TIER);
        _institutions[id] = Institution({listed: true, active: true, maxTier: maxTier, name: name});
        emit InstitutionAdded(id, name, maxTier);
    }

    /// @notice Take an institution off the white list (or put it back). Its officers can no longer
    ///         register or link anyone; customers already registered keep their standing.
    function setInstitutionActive(uint32 id, bool active) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (!_institutions[id].listed) revert UnknownInstitution(id);
        _institutions[id].active = active;
        emit InstitutionStatusChanged(id, active);
    }

    /// @notice Make `officer` a KYC officer of institution `id`.
    function addKycOfficer(address officer, uint32 id) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (officer == address(0)) revert ZeroAddress();
        if (!_institutions[id].listed) revert UnknownInstitution(id);
        _officerInstitution[officer] = id;
        _grantRole(KYC_OFFICER_ROLE, officer);
        emit KycOfficerAdded(officer, id);
    }

    /// @notice Revoke a KYC officer.
    function removeKycOfficer(address officer) external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint32 id = _officerInstitution[officer];
        delete _officerInstitution[officer];
        _revokeRole(KYC_OFFICER_ROLE, officer);
        emit KycOfficerRemoved(officer, id);
    }

    // ------------------------------------------------------------------ identities

    /// @notice Register a verified person with their first address.
    /// @param identity hash of the person's real-name record (computed off chain)
    /// @param tier the identity's tier, at most the institution's maxTier
    /// @param account the first address of the person
    function registerIdentity(bytes32 identity, uint8 tier, address account) external onlyRole(KYC_OFFICER_ROLE) {
        uint32 institution = _activeOfficerInstitution();
        if (identity == bytes32(0)) revert ZeroIdentity();
        if (_keyOfHash[identity] != 0) revert IdentityExists(identity);
        _checkTier(tier, _institutions[institution].maxTier);
        uint64 key = ++_identityCount;
        _keyOfHash[identity] = key;
        Identity storage id = _identities[key];
        id.hash = identity;
        id.institution = institution;
        id.tier = tier;
        emit IdentityRegistered(identity, institution, tier);
        _link(key, id, account, institution);
    }

    /// @notice Register one of chainpay's own escrow contracts as an identity of its own at MAX_TIER,
    ///         so the currency lets it hold and pay out. Such an identity never gains another address
    ///         (no officer or compliance link reaches it) and its tier never changes.
    /// @param identity hash naming the contract (computed off chain)
    /// @param account the contract's address (must hold code)
    /// @param institution the listed institution it is filed under (chainpay's contracts institution)
    function registerContract(bytes32 identity, address account, uint32 institution)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        if (identity == bytes32(0)) revert ZeroIdentity();
        if (_keyOfHash[identity] != 0) revert IdentityExists(identity);
        if (!_institutions[institution].listed) revert UnknownInstitution(institution);
        if (account.code.length == 0) revert NotAContract(account);
        uint64 key = ++_identityCount;
        _keyOfHash[identity] = key;
        Identity storage id = _identities[key];
        id.hash = identity;
        id.institution = institution;
        id.tier = MAX_TIER;
        id.isContract = true;
        emit IdentityRegistered(identity, institution, MAX_TIER);
        emit ContractRegistered(identity, account, institution);
        _link(key, id, account, institution);
    }

    /// @notice Link another address to an existing identity, with the person's consent: an EIP-712
    ///         LinkAddress signature (see LINK_TYPEHASH and linkDigest) by an active address already
    ///         linked to the identity, naming `account`, the officer's institution, the identity's
    ///         next link nonce and `deadline`. Any white-listed institution that has verified the same
    ///         person may link its own wallet address for them, but never to an identity whose tier is
    ///         above the institution's maxTier, and never to a contract identity.
    /// @param deadline last timestamp at which the consent is valid
    /// @param signature the consent, r || s || v (65 bytes)
    function linkAddress(bytes32 identity, address account, uint256 deadline, bytes calldata signature)
        external
        onlyRole(KYC_OFFICER_ROLE)
    {
        uint32 institution = _activeOfficerInstitution();
        uint64 key = _requireKey(identity);
        Identity storage id = _identities[key];
        if (id.isContract) revert ContractIdentity(identity);
        uint8 maxTier = _institutions[institution].maxTier;
        if (id.tier > maxTier) revert TierAboveInstitution(identity, id.tier, maxTier);
        if (block.timestamp > deadline) revert LinkConsentExpired(deadline);
        uint32 nonce = id.linkNonce;
        _requireConsent(key, linkDigest(identity, account, institution, nonce, deadline), signature);
        id.linkNonce = nonce + 1;
        _link(key, id, account, institution);
    }

    /// @notice Compliance links an address without a consent signature (the person lost every key,
    ///         or every address was unlinked). Never to a contract identity.
    function complianceLink(bytes32 identity, address account) external onlyRole(COMPLIANCE_ROLE) {
        uint64 key = _requireKey(identity);
        Identity storage id = _identities[key];
        if (id.isContract) revert ContractIdentity(identity);
        _link(key, id, account, id.institution);
    }

    /// @notice Unlink an address. Allowed to an officer of the institution that linked it, or compliance.
    ///         A frozen address, or an address of a frozen identity, cannot be unlinked: unlinking
    ///         and linking again (possibly under another identity) would otherwise lift a freeze
    ///         that only compliance may lift.
    function unlinkAddress(address account) external {
        Account memory acct = _accounts[account];
        if (acct.identityKey == 0) revert NotRegistered(account);
        if (!hasRole(COMPLIANCE_ROLE, msg.sender)) _requireOwnOfficer(acct.institution);
        Identity storage id = _identities[acct.identityKey];
        if (acct.addressFrozen) revert AddressFrozen(account);
        if (acct.identityFrozen) revert IdentityFrozen(id.hash, account);
        address[] storage list = id.accounts;
        uint256 n = list.length;
        for (uint256 i; i < n; ++i) {
            if (list[i] == account) {
                list[i] = list[n - 1];
                list.pop();
                break;
            }
        }
        delete _accounts[account];
        emit AddressUnlinked(id.hash, account);
    }

    /// @notice Change an identity's tier. Officers of the registering institution may set tiers up to
    ///         their institution's maxTier; compliance may set any tier.
    function setTier(bytes32 identity, uint8 tier) external {
        uint64 key = _requireKey(identity);
        Identity storage id = _identities[key];
        if (id.isContract) revert ContractIdentity(identity);
        if (hasRole(COMPLIANCE_ROLE, msg.sender)) {
            _checkTier(tier, MAX_TIER);
        } else {
            _requireOwnOfficer(id.institution);
            _checkTier(tier, _institutions[id.institution].maxTier);
        }
        emit TierChanged(identity, id.tier, tier);
        id.tier = tier;
        address[] storage list = id.accounts;
        for (uint256 i; i < list.length; ++i) _accounts[list[i]].tier = tier;
    }

    /// @notice Freeze or unfreeze a whole identity (every address it has, now and later).
    function setIdentityFrozen(bytes32 identity, bool frozen) external onlyRole(COMPLIANCE_ROLE) {
        uint64 key = _requireKey(identity);
        Identity storage id = _identities[key];
        id.frozen = frozen;
        address[] storage list = id.accounts;
        for (uint256 i; i < list.length; ++i) _accounts[list[i]].identityFrozen = frozen;
        emit IdentityFreezeChanged(identity, frozen);
    }

    /// @notice Freeze or unfreeze one address, leaving the identity's other addresses alone.
    function setAddressFrozen(address account, bool frozen) external onlyRole(COMPLIANCE_ROLE) {
        if (_accounts[account].identityKey == 0) revert NotRegistered(account);
        _accounts[account].addressFrozen = frozen;
        emit AddressFreezeChanged(account, frozen);
    }

    // ------------------------------------------------------------------ second factor

    /// @notice Bind a second-factor approver (an address held on the person's second device) to an
    ///         identity, or clear it with address(0). Payment contracts ask for its confirmation of
    ///         large payments. Allowed to an officer of the registering institution, or compliance.
    function setApprover(bytes32 identity, address approver) external {
        uint64 key = _requireKey(identity);
        Identity storage id = _identities[key];
        if (!hasRole(COMPLIANCE_ROLE, msg.sender)) _requireOwnOfficer(id.institution);
        emit ApproverChanged(identity, id.approver, approver);
        id.approver = approver;
    }

    /// @inheritdoc IIdentityRegistry
    function approverOf(address account) external view returns (address) {
        return _identities[_accounts[account].identityKey].approver;
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IIdentityRegistry
    function requireActive(address account) public view returns (uint64 identityKey, uint8 tier) {
        Account memory acct = _accounts[account];
        _requireActive(account, acct);
        return (acct.identityKey, acct.tier);
    }

    /// @inheritdoc IIdentityRegistry
    function requireActivePair(address from, address to) external view returns (uint256 packed) {
        Account memory a = _accounts[from];
        _requireActive(from, a);
        Account memory b = _accounts[to];
        _requireActive(to, b);
        return uint256(a.identityKey) | (uint256(a.tier) << 64) | (uint256(b.identityKey) << 128)
            | (uint256(b.tier) << 192);
    }

    /// @inheritdoc IIdentityRegistry
    function requireCustomer(address account) external view returns (uint64 identityKey, uint8 tier, uint32 linkedBy) {
        Account memory acct = _accounts[account];
        _requireActive(account, acct);
        return (acct.identityKey, acct.tier, acct.institution);
    }

    /// @inheritdoc IIdentityRegistry
    function isInstitutionActive(uint32 id) external view returns (bool) {
        return _institutions[id].active;
    }

    /// @inheritdoc IIdentityRegistry
    function isContractAccount(address account) external view returns (bool) {
        return _identities[_accounts[account].identityKey].isContract;
    }

    /// @notice The nonce the next LinkAddress consent of `identity` must name.
    function linkNonce(bytes32 identity) external view returns (uint256) {
        return _identities[_requireKey(identity)].linkNonce;
    }

    /// @notice The EIP-712 digest an identity's address signs to consent to a link.
    function linkDigest(bytes32 identity, address account, uint32 institution, uint256 nonce, uint256 deadline)
        public
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(keccak256(abi.encode(LINK_TYPEHASH, identity, account, institution, nonce, deadline)));
    }

    /// @inheritdoc IIdentityRegistry
    function identityHashOf(uint64 identityKey) external view returns (bytes32) {
        return _identities[identityKey].hash;
    }

    /// @inheritdoc IIdentityRegistry
    function isActive(address account) external view returns (bool) {
        Account memory acct = _accounts[account];
        return acct.identityKey != 0 && !acct.identityFrozen && !acct.addressFrozen;
    }

    /// @notice Everything the registry knows about one address (zeros when unregistered).
    function accountInfo(address account)
        external
        view
        returns (bytes32 identity, uint32 linkedBy, uint8 tier, bool identityFrozen, bool addressFrozen)
    {
        Account memory acct = _accounts[account];
        return (_identities[acct.identityKey].hash, acct.institution, acct.tier, acct.identityFrozen, acct.addressFrozen);
    }

    /// @notice An identity's record; reverts with UnknownIdentity when absent.
    function identityInfo(bytes32 identity)
        external
        view
        returns (uint32 institution, uint8 tier, bool frozen, address approver, address[] memory accounts)
    {
        Identity storage id = _identities[_requireKey(identity)];
        return (id.institution, id.tier, id.frozen, id.approver, id.accounts);
    }

    /// @notice An institution's record; reverts with UnknownInstitution when absent.
    function institutionInfo(uint32 id) external view returns (string memory name, bool active, uint8 maxTier) {
        Institution storage inst = _institutions[id];
        if (!inst.listed) revert UnknownInstitution(id);
        return (inst.name, inst.active, inst.maxTier);
    }

    /// @notice The institution a KYC officer acts for (0 if none).
    function officerInstitution(address officer) external view returns (uint32) {
        return _officerInstitution[officer];
    }

    // ------------------------------------------------------------------ internals

    function _requireActive(address account, Account memory acct) private view {
        if (acct.identityKey == 0) revert NotRegistered(account);
        if (acct.addressFrozen) revert AddressFrozen(account);
        if (acct.identityFrozen) revert IdentityFrozen(_identities[acct.identityKey].hash, account);
    }

    function _link(uint64 key, Identity storage id, address account, uint32 institution) private {
        if (account == address(0)) revert ZeroAddress();
        uint64 existing = _accounts[account].identityKey;
        if (existing != 0) revert AddressAlreadyLinked(account, _identities[existing].hash);
        if (id.accounts.length >= MAX_ADDRESSES_PER_IDENTITY) revert TooManyAddresses(id.hash, MAX_ADDRESSES_PER_IDENTITY);
        id.accounts.push(account);
        _accounts[account] = Account({
            identityKey: key,
            institution: institution,
            tier: id.tier,
            identityFrozen: id.frozen,
            addressFrozen: false
        });
        emit AddressLinked(id.hash, account, institution);
    }

    /// @dev `signature` must be an active address of identity `key` signing `digest`.
    function _requireConsent(uint64 key, bytes32 digest, bytes calldata signature) private view {
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, signature);
        Account memory consenting = _accounts[signer];
        if (
            err != ECDSA.RecoverError.NoError || consenting.identityKey != key || consenting.addressFrozen
                || consenting.identityFrozen
        ) revert InvalidLinkConsent(_identities[key].hash, signer);
    }

    function _activeOfficerInstitution() private view returns (uint32 institution) {
        institution = _officerInstitution[msg.sender];
        if (!_institutions[institution].active) revert InstitutionNotActive(institution);
    }

    function _requireOwnOfficer(uint32 customerInstitution) private view {
        uint32 mine = _officerInstitution[msg.sender];
        if (!hasRole(KYC_OFFICER_ROLE, msg.sender)) revert AccessControlUnauthorizedAccount(msg.sender, KYC_OFFICER_ROLE);
        if (mine != customerInstitution) revert NotYourCustomer(msg.sender, mine, customerInstitution);
        if (!_institutions[mine].active) revert InstitutionNotActive(mine);
    }

    function _requireKey(bytes32 identity) private view returns (uint64 key) {
        key = _keyOfHash[identity];
        if (key == 0) revert UnknownIdentity(identity);
    }

    function _checkTier(uint8 tier, uint8 maxTier) private pure {
        if (tier == 0 || tier > maxTier) revert InvalidTier(tier, maxTier);
    }
}
