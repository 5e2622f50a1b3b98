// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {IMarginEngine} from "../margin/IMarginEngine.sol";

/// @title MarginTradeHarness
/// @notice TEST ONLY (never deployed): a trade between two margin accounts without the hub's signed orders — both
///         legs through transferBetweenAccounts (the units first, then the cash, so that the engine's check of an
///         indebted payer sees the finished trade), then checkInitialMargin for the buyer, all or nothing. Holds
///         the SETTLER role in tests.
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
        _engine.transferBetweenAccounts(seller, buyer, asset, units);
        _engine.transferBetweenAccounts(buyer, seller, _cash, cashAmount);
        if (!_engine.checkInitialMargin(buyer)) revert MarginTradeHarnessInitialMargin(buyer);
    }
}
