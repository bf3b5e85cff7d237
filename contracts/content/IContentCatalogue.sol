// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title What payment contracts (micropayment channels) read from the content catalogue.
interface IContentCatalogue {
    /// @notice The provider, the current price per unit (base units) and whether new purchases and
    ///         channels are accepted; reverts UnknownContent for an id never listed.
    function terms(uint256 contentId) external view returns (address provider, uint256 unitPrice, bool available);

    /// @notice The revenue split: payees (the first is the provider) and their basis points (sum 10,000).
    function splitOf(uint256 contentId) external view returns (address[] memory payees, uint16[] memory shares);

    /// @notice `amount` divided along the split: floor(amount * bps / 10,000) each, the rounding
    ///         remainder to the first payee, so the parts always add up to `amount` exactly.
    function splitAmount(uint256 contentId, uint256 amount)
        external
        view
        returns (address[] memory payees, uint256[] memory amounts);
}
