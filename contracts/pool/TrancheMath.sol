// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {FixedPoint} from "../shared/FixedPoint.sol";

/// @title TrancheMath
/// @notice The capital pool's pure arithmetic: the senior claim's growth, share conversions of the tranche vaults,
///         utilisation and the cash that may leave before the redemption gate. Rounding is in the name's comment,
///         always against the provider being paid.
library TrancheMath {
    using Math for uint256;

    /// @notice 1.0 in the pool's stored ratio units (1e-9): tranche ratios and rates are kept in 32 bits.
    uint256 internal constant UNIT = 1e9;
    /// @notice One stored ratio unit in 18 decimals.
    uint256 internal constant STEP = 1e9;
    /// @notice The tranche vaults' virtual shares: ERC-4626 decimals offset 6 (shares have cash decimals + 6).
    uint256 internal constant VIRTUAL_SHARES = 1e6;

    /// @notice a · b / c rounded down, in checked 256-bit arithmetic: only for operands bounded by their storage
    ///         widths (amounts below 2**96 and ratios below 2**64 here), whose product cannot overflow; cheaper than a
    ///         full-width mulDiv on the borrow path.
    function mulDown(uint256 a, uint256 b, uint256 c) internal pure returns (uint256) {
        return (a * b) / c;
    }

    /// @notice a · b / c rounded up (c > 0), same bounds as mulDown.
    function mulUp(uint256 a, uint256 b, uint256 c) internal pure returns (uint256) {
        uint256 p = a * b;
        return p == 0 ? 0 : (p - 1) / c + 1;
    }

    /// @notice a − b, or zero when b ≥ a.
    function sub0(uint256 a, uint256 b) internal pure returns (uint256) {
        return a > b ? a - b : 0;
    }

    /// @notice `claim` grown at `rate` (1e-9 units, a year of 365 days) for `elapsed` seconds, simple interest,
    ///         rounded down (the senior class's target accrues on its claim; compounding happens at checkpoints).
    function grow(uint256 claim, uint256 rate, uint256 elapsed) internal pure returns (uint256) {
        if (claim == 0 || rate == 0 || elapsed == 0) return claim;
        // claim < 2**96, rate < 2**32, elapsed < 2**40: the product stays far below 2**256.
        return claim + mulDown(claim, rate * elapsed, UNIT * FixedPoint.YEAR);
    }

    /// @notice debt / (cash + debt), 18 decimals, rounded down.
    function utilisation(uint256 cash, uint256 debt) internal pure returns (uint256) {
        if (debt == 0) return 0;
        return debt.mulDiv(FixedPoint.WAD, cash + debt);
    }

    /// @notice Cash that may leave before utilisation passes `threshold` (18 decimals): cash − debt · (1 − t) / t,
    ///         the subtrahend rounded up; type(uint256).max when the threshold is 100%.
    function ungatedRoom(uint256 cash, uint256 debt, uint256 threshold) internal pure returns (uint256) {
        if (threshold >= FixedPoint.WAD) return type(uint256).max;
        if (debt == 0) return cash;
        if (threshold == 0) return 0;
        return sub0(cash, debt.mulDiv(FixedPoint.WAD - threshold, threshold, Math.Rounding.Ceil));
    }

    /// @notice ERC-4626 shares → assets of a class with `assets` and `supply` shares, rounded down (OpenZeppelin's
    ///         formula with the vaults' virtual share offset, so that the pool and the vaults agree exactly).
    function toAssets(uint256 shares, uint256 assets, uint256 supply) internal pure returns (uint256) {
        return shares.mulDiv(assets + 1, supply + VIRTUAL_SHARES);
    }

    /// @notice ERC-4626 assets → shares of a class with `assets` and `supply` shares, rounded down.
    function toShares(uint256 amount, uint256 assets, uint256 supply) internal pure returns (uint256) {
        return amount.mulDiv(supply + VIRTUAL_SHARES, assets + 1);
    }
}
