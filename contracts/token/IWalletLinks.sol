// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title What the currency asks of the platform-balances contract for capped wallets.
/// @notice A wallet's linked platform balance is its balance at the platform whose officer linked the
///         wallet's address in the identity registry.
interface IWalletLinks {
    /// @notice The currency has just paid `amount` to this contract as the excess over `account`'s
    ///         balance cap: mint it as `account`'s balance at its linked platform, or revert.
    function onWaterfall(address account, uint256 amount) external;

    /// @notice `account` pays more than its currency balance: when it opted in, burn `amount` of its
    ///         linked platform balance and release that much reserve (the currency then moves it to
    ///         `account`) and return true, or revert when it has not enough; return false when it has
    ///         not opted in (the payment then fails as any payment above a balance does).
    function onShortfall(address account, uint256 amount) external returns (bool covered);
}
