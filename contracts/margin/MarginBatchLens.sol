// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {IOracleRouter} from "../oracle/IOracleRouter.sol";
import {IMarginEngine} from "./IMarginEngine.sol";

/// @title MarginBatchLens
/// @notice Values many margin accounts in one `eth_call`, never deployed: the caller sends this contract's creation
///         code with its constructor arguments as a call without `to`, and the constructor returns its answer as
///         the call's return data (the "deployless" read). Every figure comes from the engine's own views
///         (accountView, balanceOf) and the router's getPrice, all at the same block, so the answer is what the
///         engine would enforce there. Works on any EVM node without deploying anything (the keeper's cold start).
/// @dev Read-only by construction: an `eth_call` cannot write state. A constructor's return data is checked against
///      the code size limit (EIP-170, 24,576 bytes), so the answer is packed (big-endian, no padding):
///      `prices[assets]` as uint256 each, then per account
///      `state (uint8) | pricesSafe (uint8) | callDeadline (uint64) | equity (int128) | positionValue |
///       maintenanceReq | warningLine | hardLine (uint128 each) | balances[assets] (uint128 each, 0 when the account
///       holds no position)` — 90 + 16·assets bytes. A price is 0 when the router has none (the cash token).
contract MarginBatchLens {
    /// @notice A figure of `account` does not fit its packed width (never for amounts the engine can hold).
    error MarginBatchLensOverflow(address account);

    constructor(IMarginEngine engine, IOracleRouter router, address[] memory accounts, address[] memory assets) {
        uint256 perAccount = 90 + 16 * assets.length;
        uint256 size = 32 * assets.length + perAccount * accounts.length;
        // 32 spare bytes: each field is written as a whole word whose tail the next field overwrites
        bytes memory out = new bytes(size + 32);
        uint256 at = 0;
        for (uint256 j = 0; j < assets.length; ++j) {
            uint256 price = 0;
            try router.getPrice(assets[j]) returns (uint256 p, IOracleRouter.PriceStatus, uint256) {
                price = p;
            } catch {
                price = 0;
            }
            at = _put(out, at, price, 32);
        }
        for (uint256 i = 0; i < accounts.length; ++i) {
            IMarginEngine.AccountView memory v = engine.accountView(accounts[i]);
            if (v.equity > type(int128).max || v.equity < type(int128).min) revert MarginBatchLensOverflow(accounts[i]);
            at = _put(out, at, uint256(v.state), 1);
            at = _put(out, at, v.pricesSafe ? 1 : 0, 1);
            at = _put(out, at, v.callDeadline, 8);
            at = _put(out, at, uint256(int256(v.equity)) & type(uint128).max, 16);
            at = _putAmount(out, at, v.positionValue, accounts[i]);
            at = _putAmount(out, at, v.maintenanceReq, accounts[i]);
            at = _putAmount(out, at, v.warningLine, accounts[i]);
            at = _putAmount(out, at, v.hardLine, accounts[i]);
            for (uint256 j = 0; j < assets.length; ++j) {
                uint256 units = v.positionValue == 0 ? 0 : engine.balanceOf(accounts[i], assets[j]);
                at = _putAmount(out, at, units, accounts[i]);
            }
        }
        assembly {
            mstore(out, size)
            return(add(out, 32), size)
        }
    }

    function _putAmount(bytes memory out, uint256 at, uint256 value, address account) private pure returns (uint256) {
        if (value > type(uint128).max) revert MarginBatchLensOverflow(account);
        return _put(out, at, value, 16);
    }

    /// @dev Writes the low `width` bytes of `value` big-endian at `at`; returns the next offset.
    function _put(bytes memory out, uint256 at, uint256 value, uint256 width) private pure returns (uint256) {
        assembly {
            mstore(add(add(out, 32), at), shl(sub(256, mul(8, width)), value))
        }
        return at + width;
    }
}
