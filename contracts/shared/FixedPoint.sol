// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

/// @title FixedPoint
/// @notice Units shared by the funding and risk layers: 18-decimal ratios (WAD), the 27-decimal borrow index
///         (RAY) and the length of the year interest is quoted over (365 natural days).
library FixedPoint {
    /// @notice 1.0 as an 18-decimal ratio.
    uint256 internal constant WAD = 1e18;
    /// @notice 1.0 as a 27-decimal index.
    uint256 internal constant RAY = 1e27;
    /// @notice Seconds in the 365-day year annual rates are quoted over.
    uint256 internal constant YEAR = 365 days;
    /// @notice Natural days in that year (a daily rate is the annual rate / DAYS_PER_YEAR).
    uint256 internal constant DAYS_PER_YEAR = 365;
}
