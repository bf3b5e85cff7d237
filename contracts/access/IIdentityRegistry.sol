// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title The view of the identity registry that payment contracts depend on.
/// @notice A contract that moves money asks the registry whether the parties may transact; the
///         registry answers with the identity key and tier, or reverts with the reason.
interface IIdentityRegistry {
    /// @notice The address is not linked to any identity.
    error NotRegistered(address account);
    /// @notice Compliance froze this one address.
    error AddressFrozen(address account);
    /// @notice Compliance froze the whole identity the address belongs to.
    error IdentityFrozen(bytes32 identity, address account);

    /// @notice Reverts unless `account` is registered, its identity active and the address not frozen.
    /// @return identityKey compact key of the identity (stable; used for per-identity accounting)
    /// @return tier the identity's tier
    function requireActive(address account) external view returns (uint64 identityKey, uint8 tier);

    /// @notice Both parties of a payment at once: one external call on the hot path, answered as one
    ///         word to spare ABI range checks: bits 0-63 the sender's identity key, bits 64-71 the
    ///         sender's tier, bits 128-191 the recipient's identity key, bits 192-199 the recipient's tier.
    function requireActivePair(address from, address to) external view returns (uint256 packed);

    /// @notice requireActive() plus the institution that linked the address (the platform whose
    ///         customer this address is).
    function requireCustomer(address account) external view returns (uint64 identityKey, uint8 tier, uint32 linkedBy);

    /// @notice True when institution `id` is listed and on the white list now.
    function isInstitutionActive(uint32 id) external view returns (bool);

    /// @notice True when `account` is registered and neither it nor its identity is frozen.
    function isActive(address account) external view returns (bool);

    /// @notice The second-factor approver bound to the identity of `account` (zero if none).
    function approverOf(address account) external view returns (address);

    /// @notice True when `account` is one of chainpay's own contracts (registered with registerContract).
    function isContractAccount(address account) external view returns (bool);

    /// @notice The identity hash behind a compact key (zero if none).
    function identityHashOf(uint64 identityKey) external view returns (bytes32);
}
