// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {VolatilityMath} from "../oracle/VolatilityMath.sol";

/// @title OracleVolatilityMathHarness
/// @notice TEST ONLY: exposes VolatilityMath for property tests against a floating-point reference.
contract OracleVolatilityMathHarness {
    function logReturn(uint256 prev, uint256 next) external pure returns (int256) {
        return VolatilityMath.logReturn(prev, next);
    }

    function nextVariance(uint256 variance, int256 r, uint256 lambda, bool first) external pure returns (uint256) {
        return VolatilityMath.nextVariance(variance, r, lambda, first);
    }

    function volatility(uint256 variance) external pure returns (uint256) {
        return VolatilityMath.volatility(variance);
    }
}
