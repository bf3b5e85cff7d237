// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";

/// @title Permit-then-pull for contracts that take a deposit in one transaction
/// @notice Submits an EIP-2612 permit for `spender`; a permit that fails (for example because
///         someone front-ran it with the same signature) is fine when the allowance is already in
///         place; otherwise the permit's own error (expired, frozen, paused, ...) is the answer, not
///         a later and vaguer "insufficient allowance".
library PermitOrAllowance {
    function permitOrAllowance(
        IERC20Permit token,
        address owner,
        address spender,
        uint256 amount,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) internal {
        try token.permit(owner, spender, amount, deadline, v, r, s) {}
        catch (bytes memory reason) {
            if (IERC20(address(token)).allowance(owner, spender) < amount) {
                assembly ("memory-safe") {
                    revert(add(reason, 0x20), mload(reason))
                }
            }
        }
    }
}
