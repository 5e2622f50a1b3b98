// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {IMarginEngine} from "../margin/IMarginEngine.sol";

/// @title MarginTradeHarness
/// @notice TEST ONLY (never deployed): stands in for the SettlementHub's use of the engine until the hub exists —
///         both legs of one trade through transferBetweenAccounts, then checkInitialMargin for the buyer (the
///         account that added risk), all or nothing. Holds the SETTLER role in tests.
contract MarginTradeHarness {
    IMarginEngine private immutable _engine;
    address private immutable _cash;

    error MarginTradeHarnessInitialMargin(address account);

    constructor(IMarginEngine engine, address cash) {
        _engine = engine;
        _cash = cash;
    }

    /// @notice `buyer` pays `cashAmount` to `seller` for `units` of `asset`.
    function trade(address buyer, address seller, address asset, uint256 units, uint256 cashAmount) external {
        _engine.transferBetweenAccounts(buyer, seller, _cash, cashAmount);
        _engine.transferBetweenAccounts(seller, buyer, asset, units);
        if (!_engine.checkInitialMargin(buyer)) revert MarginTradeHarnessInitialMargin(buyer);
    }
}
