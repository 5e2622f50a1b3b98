// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {OptionMath} from "../options/OptionMath.sol";
import {PortfolioMargin} from "../options/PortfolioMargin.sol";

/// @title PortfolioMarginHarness
/// @notice TEST ONLY: exposes OptionMath and PortfolioMargin for precision, differential and property tests and
///         measures the gas of a requirement (never deployed).
contract PortfolioMarginHarness {
    function callPrice(
        uint256 spot,
        uint256 strike,
        uint256 secondsToExpiry,
        uint256 volatility,
        uint256 rate
    ) external pure returns (uint256) {
        return OptionMath.callPrice(spot, strike, secondsToExpiry, volatility, rate);
    }

    function putPrice(
        uint256 spot,
        uint256 strike,
        uint256 secondsToExpiry,
        uint256 volatility,
        uint256 rate
    ) external pure returns (uint256) {
        return OptionMath.putPrice(spot, strike, secondsToExpiry, volatility, rate);
    }

    function normalCdf(int256 x) external pure returns (uint256) {
        return OptionMath.normalCdf(x);
    }

    function expNeg(uint256 y) external pure returns (uint256) {
        return OptionMath.expNeg(y);
    }

    function requirement(
        int256 units,
        PortfolioMargin.OptionLeg[] memory legs,
        PortfolioMargin.Market memory market,
        PortfolioMargin.RiskParameters memory params
    ) external pure returns (uint256, uint256, int256) {
        return PortfolioMargin.requirement(units, legs, market, params);
    }

    function scenarioLosses(
        int256 units,
        PortfolioMargin.OptionLeg[] memory legs,
        PortfolioMargin.Market memory market,
        PortfolioMargin.RiskParameters memory params
    ) external pure returns (int256[16] memory) {
        return PortfolioMargin.scenarioLosses(units, legs, market, params);
    }

    function scenarioMarket(
        uint256 i,
        PortfolioMargin.Market memory market,
        PortfolioMargin.RiskParameters memory params
    ) external pure returns (uint256, uint256) {
        return PortfolioMargin.scenarioMarket(i, market, params);
    }

    function shortOptionCharge(
        PortfolioMargin.OptionLeg[] memory legs,
        uint256 spot,
        uint256 shortOptionMinimum
    ) external pure returns (uint256) {
        return PortfolioMargin.shortOptionCharge(legs, spot, shortOptionMinimum);
    }

    function portfolioValue(
        int256 units,
        PortfolioMargin.OptionLeg[] memory legs,
        uint256 spot,
        uint256 volatility,
        PortfolioMargin.Market memory market,
        uint256 lookAhead
    ) external pure returns (int256) {
        return PortfolioMargin.portfolioValue(units, legs, spot, volatility, market, lookAhead);
    }

    /// @notice Gas of PortfolioMargin.requirement alone (the library call between two gasleft() readings).
    function requirementGas(
        int256 units,
        PortfolioMargin.OptionLeg[] memory legs,
        PortfolioMargin.Market memory market,
        PortfolioMargin.RiskParameters memory params
    ) external view returns (uint256 gasUsed, uint256 required) {
        uint256 before = gasleft();
        (required, , ) = PortfolioMargin.requirement(units, legs, market, params);
        gasUsed = before - gasleft();
    }

    /// @notice Gas of one OptionMath.price.
    function priceGas(
        bool isCall,
        uint256 spot,
        uint256 strike,
        uint256 secondsToExpiry,
        uint256 volatility,
        uint256 rate
    ) external view returns (uint256 gasUsed, uint256 value) {
        uint256 before = gasleft();
        value = OptionMath.price(isCall, spot, strike, secondsToExpiry, volatility, rate);
        gasUsed = before - gasleft();
    }
}
