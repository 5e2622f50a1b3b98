// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {FixedPoint} from "../shared/FixedPoint.sol";

/// @title MarginMath
/// @notice The pure formulas of the margin engine, so that anyone can reproduce every figure from chain data.
/// @dev Ratios are 18 decimals (WAD). Values are cash-token base units. A token amount is valued as
///      amount · price / scale with scale = 10**(assetDecimals + 18 − cashDecimals), the price being 18 decimals
///      per whole token. Rounding always goes against the account: values down, requirements up.
library MarginMath {
    using Math for uint256;

    /// @notice Dynamic maintenance margin: clamp(base + k · volatility, floor, cap); initial = maintenance + buffer.
    function margins(
        uint256 base,
        uint256 k,
        uint256 floor,
        uint256 cap,
        uint256 initialBuffer,
        uint256 volatility
    ) internal pure returns (uint256 maintenance, uint256 initial) {
        maintenance = base + k.mulDiv(volatility, FixedPoint.WAD, Math.Rounding.Ceil);
        if (maintenance < floor) maintenance = floor;
        if (maintenance > cap) maintenance = cap;
        initial = maintenance + initialBuffer;
    }

    /// @notice Value of `amount` base units at `price` (18 decimals per whole token), rounded down.
    function valueOf(uint256 amount, uint256 price, uint256 scale) internal pure returns (uint256) {
        return amount.mulDiv(price, scale);
    }

    /// @notice Base units worth at least `value` at `price`, rounded up (whole base units of the asset).
    function unitsFor(uint256 value, uint256 price, uint256 scale) internal pure returns (uint256) {
        return value.mulDiv(scale, price, Math.Rounding.Ceil);
    }

    /// @notice equity = cash + Σ value·(1 − haircut) − debt (may be negative).
    function equity(uint256 cash, uint256 collateralValue, uint256 debt) internal pure returns (int256) {
        return SafeCast.toInt256(cash + collateralValue) - SafeCast.toInt256(debt);
    }

    /// @notice Margin ratio = equity / position value, 18 decimals; 0 when equity ≤ 0; type(uint256).max when there
    ///         is no position (nothing at market risk).
    function marginRatio(int256 eq, uint256 positionValue) internal pure returns (uint256) {
        if (positionValue == 0) return type(uint256).max;
        if (eq <= 0) return 0;
        return uint256(eq).mulDiv(FixedPoint.WAD, positionValue);
    }

    /// @notice Return threshold r* of a uniform move of every position below which the account falls under
    ///         maintenance: (1 + r*)·(Σv(1−h) − Σv·m) = debt − cash, rounded up (earlier, i.e. conservative).
    ///         For one asset without haircut bought at leverage L: r* = (m·L − 1) / (L·(1 − m)).
    /// @return r 18-decimal signed return; −1e18 when no fall can trigger it (no net debt);
    ///         type(int256).max when the account is below maintenance at any price
    function liquidationReturn(
        uint256 cash,
        uint256 debt,
        uint256 collateralValue,
        uint256 maintenanceReq
    ) internal pure returns (int256 r) {
        if (debt <= cash) return -int256(FixedPoint.WAD);
        if (collateralValue <= maintenanceReq) return type(int256).max;
        uint256 growth = (debt - cash).mulDiv(FixedPoint.WAD, collateralValue - maintenanceReq, Math.Rounding.Ceil);
        return SafeCast.toInt256(growth) - int256(FixedPoint.WAD);
    }

    /// @notice Value to sell from one position so that the account reaches its target requirement:
    ///         selling S changes equity by S·(haircut − penalty) and the target requirement by −S·target, so
    ///         S = (targetReq − equity) / (target + haircut − penalty), rounded up.
    /// @return value the value to sell; reachable false when selling this asset cannot raise the ratio
    ///         (target + haircut ≤ penalty), in which case the whole position is to be sold
    function valueToTarget(
        int256 eq,
        uint256 targetReq,
        uint256 targetRate,
        uint256 haircut,
        uint256 penalty
    ) internal pure returns (uint256 value, bool reachable) {
        if (eq >= 0 && uint256(eq) >= targetReq) return (0, true);
        if (targetRate + haircut <= penalty) return (0, false);
        // eq < targetReq here; both fit int256 (targetReq is a sum of token values).
        uint256 gap = uint256(SafeCast.toInt256(targetReq) - eq);
        return (gap.mulDiv(FixedPoint.WAD, targetRate + haircut - penalty, Math.Rounding.Ceil), true);
    }

    /// @notice `value` · `rate` rounded up (requirements).
    function mulUp(uint256 value, uint256 rate) internal pure returns (uint256) {
        return value.mulDiv(rate, FixedPoint.WAD, Math.Rounding.Ceil);
    }

    /// @notice `value` · `rate` rounded down (collateral values, shares).
    function mulDown(uint256 value, uint256 rate) internal pure returns (uint256) {
        return value.mulDiv(rate, FixedPoint.WAD);
    }

    /// @notice Debt in cash units from scaled debt: ceil(scaled · index / RAY) (the pool's repay rounding).
    function debtOf(uint256 scaled, uint256 index) internal pure returns (uint256) {
        return scaled.mulDiv(index, FixedPoint.RAY, Math.Rounding.Ceil);
    }

    /// @notice Scaled debt a repayment of `assets` retires: floor(assets · RAY / index), so that the pool never
    ///         pulls more than `assets`.
    function scaledFor(uint256 assets, uint256 index) internal pure returns (uint256) {
        return assets.mulDiv(FixedPoint.RAY, index);
    }
}
