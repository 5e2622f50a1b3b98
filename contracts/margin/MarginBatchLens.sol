// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {IOracleRouter} from "../oracle/IOracleRouter.sol";
import {IMarginEngine} from "./IMarginEngine.sol";

/// @title MarginBatchLens
/// @notice Values many margin accounts in one `eth_call`, never deployed: the caller sends this contract's creation
///         code with its constructor arguments as a call without `to`, and the constructor returns its answer as
///         the call's return data (the "deployless" read). Every figure comes from the engine's own views
///         (accountView, balanceOf) and the router's getPrice, all at the same block, so the answer is what the
///         engine would enforce there. Works on any EVM node without deploying anything (keeper cold start).
/// @dev Read-only by construction: an `eth_call` cannot write state. Returns
///      `abi.encode(IMarginEngine.AccountView[] views, uint256[] balances, uint256[] prices)` where `balances` holds
///      `accounts.length × assets.length` entries (account-major) and `prices[i]` is the router's price of
///      `assets[i]` (0 when the router has no price for it, e.g. the cash token).
contract MarginBatchLens {
    constructor(IMarginEngine engine, IOracleRouter router, address[] memory accounts, address[] memory assets) {
        IMarginEngine.AccountView[] memory views = new IMarginEngine.AccountView[](accounts.length);
        uint256[] memory balances = new uint256[](accounts.length * assets.length);
        uint256[] memory prices = new uint256[](assets.length);
        for (uint256 j = 0; j < assets.length; ++j) {
            try router.getPrice(assets[j]) returns (uint256 price, IOracleRouter.PriceStatus, uint256) {
                prices[j] = price;
            } catch {
                prices[j] = 0;
            }
        }
        for (uint256 i = 0; i < accounts.length; ++i) {
            views[i] = engine.accountView(accounts[i]);
            if (views[i].positionValue == 0) continue;
            for (uint256 j = 0; j < assets.length; ++j) {
                balances[i * assets.length + j] = engine.balanceOf(accounts[i], assets[j]);
            }
        }
        bytes memory out = abi.encode(views, balances, prices);
        assembly {
            return(add(out, 32), mload(out))
        }
    }
}
