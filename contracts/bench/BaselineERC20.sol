// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title Plain OpenZeppelin ERC-20, the gas baseline for `chainpay bench`
/// @notice No permissions, limits or signatures: what a transfer costs with nothing on top.
contract BaselineERC20 is ERC20 {
    /// @param supply base units minted to the deployer
    constructor(uint256 supply) ERC20("Baseline", "BASE") {
        _mint(msg.sender, supply);
    }
}
