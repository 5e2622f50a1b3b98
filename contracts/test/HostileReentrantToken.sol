// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title HostileReentrantToken
/// @notice TEST ONLY (never deployed): an ERC-20 that, when armed, calls back into a target during transferFrom —
///         e.g. the MarginEngine's withdraw from inside its own deposit — to prove the reentrancy guard holds.
contract HostileReentrantToken is ERC20 {
    address private _target;
    bytes private _payload;

    constructor() ERC20("Hostile", "HOST") {
        _mint(msg.sender, 1e24);
    }

    function decimals() public pure override returns (uint8) {
        return 0;
    }

    /// @notice Arms the callback: every transferFrom will call `target` with `payload` and bubble up its revert.
    function arm(address target, bytes calldata payload) external {
        _target = target;
        _payload = payload;
    }

    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        address target = _target;
        if (target != address(0)) {
            _target = address(0);
            (bool ok, bytes memory ret) = target.call(_payload);
            if (!ok) {
                assembly {
                    revert(add(ret, 32), mload(ret))
                }
            }
        }
        return super.transferFrom(from, to, value);
    }
}
