// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title A chainpay contract that sends a person's money through the revocable-transfer escrow
///        and settles it itself (platform interconversions over the second-authentication threshold).
/// @notice The escrow pays the forwarder, never the person, and then tells it which way the transfer
///         ended: the forwarder credits the recipient or gives the sender back what it had.
interface IEscrowForwarder {
    /// @notice Transfer `id` was released (or resolved) to `to`: `amount` was just paid to the forwarder.
    function onEscrowPaid(uint256 id, address to, uint256 amount) external;

    /// @notice Transfer `id` went back to `from` (revoked, rejected, returned, resolved or expired):
    ///         `amount` was just paid to the forwarder.
    function onEscrowRefunded(uint256 id, address from, uint256 amount) external;
}
