// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {OptionMath} from "./OptionMath.sol";

/// @title PortfolioMargin
/// @notice A SPAN-like margin requirement for the positions an account holds on ONE underlying: the underlying itself
///         plus up to MAX_LEGS European option legs, revalued together over a fixed grid of 16 scenarios, so that a
///         hedge offsets the position it protects.
/// @dev Grid (CME SPAN's 16 risk-array scenarios), R = priceRange (fraction of spot), X = extremeMultiple·R:
///        index  0,1: price unchanged, volatility up / down
///        index  2,3: price +R/3, vol up / down        index  4,5: price −R/3, vol up / down
///        index  6,7: price +2R/3, vol up / down       index  8,9: price −2R/3, vol up / down
///        index 10,11: price +R, vol up / down         index 12,13: price −R, vol up / down
///        index 14: price +X, vol unchanged            index 15: price −X, vol unchanged
///      The two extreme rows count only extremeFraction (SPAN: 35%) of their loss (rounded up). Volatility up / down
///      is σ·(1 ± volatilityShift). Scenario spot = ⌊S·(1 ± move)⌋, move = ⌊R·k/3⌋.
///      Scenario loss = V(now) − V(scenario), where V = units·S + Σ contracts·contractSize·price(leg) in wad price
///      units (18-decimal money: units and contracts are whole numbers, so V is exact given the prices). Options are
///      priced with OptionMath at the current time to expiry now and at that time shortened by `lookAhead` seconds
///      (floored at 0) in every scenario: the scan looks at the portfolio one look-ahead later (SPAN's convention),
///      so a long option's time decay is a loss and a short option's a gain.
///      Short-option minimum: Σ over short legs of |contracts|·contractSize·S·shortOptionMinimum (rounded up) — a
///      floor for far out-of-the-money written options whose scan loss is close to zero.
///      Requirement = max(worst scenario loss, short-option minimum, 0): as in SPAN, the minimum replaces the scan
///      risk when larger, it is not added to it. The requirement is what the account's equity (which values every
///      leg at its current price) must cover; it is in wad money and must be converted to cash-token units rounding
///      up. Options past expiry are worth their intrinsic value in every scenario.
///      Gas is bounded: 16 scenarios × at most MAX_LEGS legs, each price a fixed-size computation (see docs/margin.md).
library PortfolioMargin {
    uint256 internal constant WAD = 1e18;
    /// @notice Number of scenarios in the grid.
    uint256 internal constant SCENARIOS = 16;
    /// @notice Most option legs per underlying group.
    uint256 internal constant MAX_LEGS = 8;
    /// @notice Largest |units|, |contracts| or contract size accepted (keeps every value product inside int256).
    uint256 internal constant MAX_QUANTITY = 1e18;
    /// @notice Largest spot accepted: an extreme up-move may double it and OptionMath accepts up to 1e36.
    uint256 internal constant MAX_SPOT = OptionMath.MAX_PRICE / 2;

    /// @notice One option leg on the group's underlying.
    struct OptionLeg {
        bool isCall;
        uint256 strike; // wad price units per underlying unit
        uint256 expiry; // unix seconds
        int256 contracts; // > 0 long (held), < 0 short (written)
        uint256 contractSize; // underlying units per contract
    }

    /// @notice The underlying's market.
    struct Market {
        uint256 spot; // wad price units per underlying unit
        uint256 volatility; // annualised, wad
        uint256 rate; // continuously compounded annual rate, wad
        uint256 timestamp; // unix seconds "now"
    }

    /// @notice Risk parameters of the group (all fractions in wad).
    struct RiskParameters {
        uint256 priceRange; // R, the scan range as a fraction of spot (< 1)
        uint256 volatilityShift; // relative volatility move (< 1): 0.25e18 scans σ·0.75 and σ·1.25
        uint256 extremeMultiple; // X / R (e.g. 3e18); X must stay < 1
        uint256 extremeFraction; // share of the extreme loss counted (≤ 1, SPAN: 0.35e18)
        uint256 shortOptionMinimum; // charge per written underlying unit as a fraction of spot (≤ 1)
        uint256 lookAhead; // seconds the scenarios look ahead (time to expiry shortened by it)
    }

    /// @notice No price for the underlying, or one above MAX_SPOT.
    error PortfolioMarginSpotOutOfRange(uint256 spot);
    /// @notice More legs than MAX_LEGS.
    error PortfolioMarginTooManyLegs(uint256 count, uint256 max);
    /// @notice A leg with a zero strike or one above OptionMath.MAX_PRICE.
    error PortfolioMarginStrikeOutOfRange(uint256 leg, uint256 strike);
    /// @notice A leg with a zero contract size or one above MAX_QUANTITY.
    error PortfolioMarginContractSizeOutOfRange(uint256 leg, uint256 contractSize);
    /// @notice A position (units, or a leg's contracts) beyond ±MAX_QUANTITY.
    error PortfolioMarginQuantityOutOfRange(int256 quantity);
    /// @notice The scan range is 100% of spot or more (a scenario price would reach zero).
    error PortfolioMarginPriceRangeTooWide(uint256 priceRange);
    /// @notice The extreme move (priceRange · extremeMultiple) is 100% of spot or more.
    error PortfolioMarginExtremeMoveTooWide(uint256 extremeMove);
    /// @notice The volatility shift is 100% or more, or the shifted volatility exceeds OptionMath's bound.
    error PortfolioMarginVolatilityOutOfRange(uint256 volatility, uint256 volatilityShift);
    /// @notice extremeFraction or shortOptionMinimum above 100%.
    error PortfolioMarginFractionTooLarge(uint256 extremeFraction, uint256 shortOptionMinimum);

    /// @notice The requirement of the group (see the contract's notes).
    /// @param units underlying units held (> 0) or owed (< 0)
    /// @return requirement max(worst scenario loss, short-option minimum, 0), wad money
    /// @return worstScenario index (0–15) of the largest scenario loss (the lowest index on a tie)
    /// @return worstLoss that loss (extreme rows already scaled by extremeFraction); may be negative
    function requirement(
        int256 units,
        OptionLeg[] memory legs,
        Market memory market,
        RiskParameters memory params
    ) internal pure returns (uint256, uint256 worstScenario, int256 worstLoss) {
        int256[SCENARIOS] memory losses = scenarioLosses(units, legs, market, params);
        worstLoss = losses[0];
        for (uint256 i = 1; i < SCENARIOS; ++i) {
            if (losses[i] > worstLoss) {
                worstLoss = losses[i];
                worstScenario = i;
            }
        }
        uint256 floor = shortOptionCharge(legs, market.spot, params.shortOptionMinimum);
        uint256 scan = worstLoss > 0 ? uint256(worstLoss) : 0;
        return (scan > floor ? scan : floor, worstScenario, worstLoss);
    }

    /// @notice The 16 scenario losses (wad money; extreme rows scaled by extremeFraction, rounded up).
    function scenarioLosses(
        int256 units,
        OptionLeg[] memory legs,
        Market memory market,
        RiskParameters memory params
    ) internal pure returns (int256[SCENARIOS] memory losses) {
        _validate(units, legs, market, params);
        int256 current = _value(units, legs, market.spot, market.volatility, market, 0);
        for (uint256 i = 0; i < SCENARIOS; ++i) {
            (uint256 spot, uint256 volatility) = scenarioMarket(i, market, params);
            int256 loss = current - _value(units, legs, spot, volatility, market, params.lookAhead);
            if (i >= 14) loss = _mulWadUpSigned(loss, params.extremeFraction);
            losses[i] = loss;
        }
    }

    /// @notice Spot and volatility of scenario `i` (0–15), as in the grid of the contract's notes.
    function scenarioMarket(
        uint256 i,
        Market memory market,
        RiskParameters memory params
    ) internal pure returns (uint256 spot, uint256 volatility) {
        uint256 move;
        bool up;
        volatility = market.volatility;
        if (i < 14) {
            // Rows come in pairs (vol up, vol down); pair 0 is unchanged, then +1/3, −1/3, +2/3, −2/3, +1, −1.
            uint256 pair = i / 2;
            uint256 steps = (pair + 1) / 2;
            up = pair % 2 == 1;
            move = (params.priceRange * steps) / 3;
            volatility = Math.mulDiv(
                market.volatility,
                i % 2 == 0 ? WAD + params.volatilityShift : WAD - params.volatilityShift,
                WAD
            );
        } else {
            up = i == 14;
            move = Math.mulDiv(params.priceRange, params.extremeMultiple, WAD);
        }
        spot = Math.mulDiv(market.spot, up ? WAD + move : WAD - move, WAD);
    }

    /// @notice Σ over written legs of |contracts|·contractSize·spot·shortOptionMinimum, rounded up (wad money).
    function shortOptionCharge(
        OptionLeg[] memory legs,
        uint256 spot,
        uint256 shortOptionMinimum
    ) internal pure returns (uint256 charge) {
        uint256 shortUnits = 0;
        for (uint256 j = 0; j < legs.length; ++j) {
            if (legs[j].contracts < 0) shortUnits += uint256(-legs[j].contracts) * legs[j].contractSize;
        }
        charge = Math.mulDiv(shortUnits * spot, shortOptionMinimum, WAD, Math.Rounding.Ceil);
    }

    /// @notice Value of the group at `spot` and `volatility` (wad money), options priced `lookAhead` seconds later.
    function portfolioValue(
        int256 units,
        OptionLeg[] memory legs,
        uint256 spot,
        uint256 volatility,
        Market memory market,
        uint256 lookAhead
    ) internal pure returns (int256) {
        _validate(units, legs, market, RiskParameters(0, 0, 0, 0, 0, lookAhead));
        return _value(units, legs, spot, volatility, market, lookAhead);
    }

    function _value(
        int256 units,
        OptionLeg[] memory legs,
        uint256 spot,
        uint256 volatility,
        Market memory market,
        uint256 lookAhead
    ) private pure returns (int256 value) {
        value = units * int256(spot);
        for (uint256 j = 0; j < legs.length; ++j) {
            OptionLeg memory leg = legs[j];
            uint256 p = legUnitPrice(leg, spot, volatility, market, lookAhead);
            value += leg.contracts * int256(leg.contractSize) * int256(p);
        }
    }

    /// @notice The leg's option price per underlying unit (wad) at `spot` and `volatility`, its time to expiry from
    ///         the market's timestamp shortened by `lookAhead` seconds (floored at 0).
    function legUnitPrice(
        OptionLeg memory leg,
        uint256 spot,
        uint256 volatility,
        Market memory market,
        uint256 lookAhead
    ) internal pure returns (uint256) {
        uint256 remaining = leg.expiry > market.timestamp ? leg.expiry - market.timestamp : 0;
        remaining = remaining > lookAhead ? remaining - lookAhead : 0;
        return OptionMath.price(leg.isCall, spot, leg.strike, remaining, volatility, market.rate);
    }

    function _validate(
        int256 units,
        OptionLeg[] memory legs,
        Market memory market,
        RiskParameters memory params
    ) private pure {
        if (market.spot == 0 || market.spot > MAX_SPOT) revert PortfolioMarginSpotOutOfRange(market.spot);
        if (legs.length > MAX_LEGS) revert PortfolioMarginTooManyLegs(legs.length, MAX_LEGS);
        _checkQuantity(units);
        for (uint256 j = 0; j < legs.length; ++j) {
            OptionLeg memory leg = legs[j];
            if (leg.strike == 0 || leg.strike > OptionMath.MAX_PRICE) {
                revert PortfolioMarginStrikeOutOfRange(j, leg.strike);
            }
            if (leg.contractSize == 0 || leg.contractSize > MAX_QUANTITY) {
                revert PortfolioMarginContractSizeOutOfRange(j, leg.contractSize);
            }
            _checkQuantity(leg.contracts);
        }
        if (params.priceRange >= WAD) revert PortfolioMarginPriceRangeTooWide(params.priceRange);
        uint256 extremeMove = Math.mulDiv(params.priceRange, params.extremeMultiple, WAD);
        if (extremeMove >= WAD) revert PortfolioMarginExtremeMoveTooWide(extremeMove);
        if (
            params.volatilityShift >= WAD ||
            Math.mulDiv(market.volatility, WAD + params.volatilityShift, WAD) > OptionMath.MAX_VOLATILITY
        ) revert PortfolioMarginVolatilityOutOfRange(market.volatility, params.volatilityShift);
        if (params.extremeFraction > WAD || params.shortOptionMinimum > WAD) {
            revert PortfolioMarginFractionTooLarge(params.extremeFraction, params.shortOptionMinimum);
        }
    }

    function _checkQuantity(int256 quantity) private pure {
        if (quantity > int256(MAX_QUANTITY) || quantity < -int256(MAX_QUANTITY)) {
            revert PortfolioMarginQuantityOutOfRange(quantity);
        }
    }

    /// @dev ⌈x·f / 1e18⌉ for a signed x and 0 ≤ f ≤ 1e18 (a loss rounded up, a gain rounded toward zero).
    function _mulWadUpSigned(int256 x, uint256 f) private pure returns (int256) {
        if (x >= 0) return int256(Math.mulDiv(uint256(x), f, WAD, Math.Rounding.Ceil));
        return -int256(Math.mulDiv(uint256(-x), f, WAD));
    }
}
