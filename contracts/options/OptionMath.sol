// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {VolatilityMath} from "../oracle/VolatilityMath.sol";
import {FixedPoint} from "../shared/FixedPoint.sol";

/// @title OptionMath
/// @notice Black-Scholes prices of European calls and puts in 18-decimal fixed point (wad), for valuing cash-settled
///         option positions and revaluing them under margin scenarios.
/// @dev Model: C = S·N(d1) − K·e^(−rT)·N(d2), P = K·e^(−rT)·N(−d2) − S·N(−d1), d1 = (ln(S/K) + rT + σ²T/2) / (σ√T),
///        d2 = d1 − σ√T, T = seconds / 365 days (FixedPoint.YEAR), r the continuously compounded annual rate (≥ 0),
///        σ the annualised volatility. No dividends. At or after expiry (T = 0), or when σ√T rounds to zero, the
///        price is the (discounted) intrinsic value max(S − K·e^(−rT), 0) or max(K·e^(−rT) − S, 0).
///      Reused from VolatilityMath: ln(S/K) = logReturn(K, S) (≤ 100 wei error) and e^(−y) = decayWeight(y, ln 2)
///        (2^(−y/ln 2), floored series, ≤ ~100 wei error).
///      Normal CDF: Hart (1968) algorithm 5666 as published by G. West, "Better approximations to cumulative normal
///        functions" (Wilmott, 2005): for |x| < 7.0711, N(−|x|) = e^(−x²/2)·P(|x|)/Q(|x|) with P of degree 6 and Q of
///        degree 7 (every coefficient positive, so the Horner sums never go negative); for 7.0711 ≤ |x| < 10 a
///        five-term continued fraction e^(−x²/2) / (√(2π)·(x + 1/(x + 2/(x + 3/(x + 4/(x + 0.65)))))); beyond 10 the
///        tail (< 7.7e-24) is 0. Hart's approximation is accurate to double precision; in wad the tail
///        is computed once and N(x) = 1 − N(−x) exactly, so N(x) + N(−x) = 1e18 to the wei.
///      Precision (test/contracts/options/OptionMath.test.ts, 3,000 random inputs with spot 1–1,000, strike 0.5–2×
///        spot, 1 day–2 years, σ 5%–150%, r 0–10%, against a float64 Black-Scholes with W. J. Cody's erfc):
///        |N error| ≤ 3e-16 (measured 1.1e-16); |price error| ≤ 2e-15 × spot (measured 7.3e-16 × spot); relative
///        error ≤ 1e-10 for prices ≥ 1e-6 × spot (measured 1.5e-11; below that the float64 reference itself loses
///        digits to cancellation).
///      Rounding: the positive term is floored and the subtracted term ceiled, so a price never exceeds the exact
///        arithmetic value of the formula from the same N and discount (a long option is valued down by the
///        arithmetic, by at most 2 wei); a negative result of the subtraction (an option worth less than 1 wei) is 0.
///        The liability of a short option is NOT rounded up here: scenario losses are differences of two prices of the
///        same leg, where a per-leg bias cancels, and the approximation error (~1e-15 × spot) dwarfs wei rounding.
///        Conservatism belongs to the margin model (scenario grid, extreme moves, short-option minimum) and to the
///        conversion of a requirement into cash-token units, which must round up.
///      Put-call parity: C − P = S − K·e^(−rT) exactly (to the wei, with the same floored discount) whenever neither
///        price was clamped at 0; a clamp moves it by the clamped amount (an option worth less than the N error × S:
///        measured ≤ 92 wei, tested ≤ 100 wei).
///      Monotonicity: N is non-decreasing to the wei on [−10, 10]; a price is monotone in spot except by cancellation
///        noise (≤ 1e-15 × spot, measured ≤ 315 wei) where the option is worth a few hundred wei.
library OptionMath {
    uint256 internal constant WAD = 1e18;

    /// @notice Largest spot or strike accepted (1e18 price units per underlying unit): keeps every product in range.
    uint256 internal constant MAX_PRICE = 1e36;
    /// @notice Largest annualised volatility accepted (10,000%).
    uint256 internal constant MAX_VOLATILITY = 100e18;
    /// @notice Largest annual rate accepted (100%).
    uint256 internal constant MAX_RATE = 1e18;
    /// @notice Longest time to expiry accepted (100 years).
    uint256 internal constant MAX_SECONDS = 100 * FixedPoint.YEAR;

    /// @notice |x| beyond which N(−|x|) < 1 wei.
    uint256 internal constant CDF_CUTOFF = 10e18;
    /// @notice The boundary (√50) between Hart's rational function and the continued fraction.
    uint256 internal constant CDF_RATIONAL_LIMIT = 7071067811865470000;
    /// @notice √(2π) in wad.
    uint256 internal constant SQRT_2PI = 2506628274631000500;

    /// @notice Spot or strike zero or above MAX_PRICE.
    error OptionMathPriceOutOfRange(uint256 spot, uint256 strike);
    /// @notice Volatility, rate or time beyond the documented bounds.
    error OptionMathParameterOutOfRange(uint256 secondsToExpiry, uint256 volatility, uint256 rate);

    /// @notice Black-Scholes price of a European call, wad price units per underlying unit (rounded down, see notes).
    /// @param spot underlying price (wad, > 0)
    /// @param strike strike price (wad, > 0)
    /// @param secondsToExpiry seconds until expiry; 0 at or after expiry (intrinsic value)
    /// @param volatility annualised volatility (wad, 0.2e18 = 20%)
    /// @param rate continuously compounded annual rate (wad, ≥ 0)
    function callPrice(
        uint256 spot,
        uint256 strike,
        uint256 secondsToExpiry,
        uint256 volatility,
        uint256 rate
    ) internal pure returns (uint256) {
        return price(true, spot, strike, secondsToExpiry, volatility, rate);
    }

    /// @notice Black-Scholes price of a European put (same units, rounding and bounds as callPrice).
    function putPrice(
        uint256 spot,
        uint256 strike,
        uint256 secondsToExpiry,
        uint256 volatility,
        uint256 rate
    ) internal pure returns (uint256) {
        return price(false, spot, strike, secondsToExpiry, volatility, rate);
    }

    /// @notice Price of a call (isCall) or put; see callPrice.
    function price(
        bool isCall,
        uint256 spot,
        uint256 strike,
        uint256 secondsToExpiry,
        uint256 volatility,
        uint256 rate
    ) internal pure returns (uint256) {
        if (spot == 0 || strike == 0 || spot > MAX_PRICE || strike > MAX_PRICE) {
            revert OptionMathPriceOutOfRange(spot, strike);
        }
        if (secondsToExpiry > MAX_SECONDS || volatility > MAX_VOLATILITY || rate > MAX_RATE) {
            revert OptionMathParameterOutOfRange(secondsToExpiry, volatility, rate);
        }
        // rT ≤ 100 (wad), so e^(−rT) ≥ 3.7e-44: it may floor to 0 only for absurd but accepted inputs.
        uint256 rt = Math.mulDiv(rate, secondsToExpiry, FixedPoint.YEAR);
        uint256 discounted = rt == 0 ? strike : Math.mulDiv(strike, expNeg(rt), WAD);
        // σ√T: √(T·1e36) is √T in wad.
        uint256 sigmaRootT = Math.mulDiv(
            volatility,
            Math.sqrt(Math.mulDiv(secondsToExpiry, WAD * WAD, FixedPoint.YEAR)),
            WAD
        );
        if (sigmaRootT == 0) {
            if (isCall) return spot > discounted ? spot - discounted : 0;
            return discounted > spot ? discounted - spot : 0;
        }
        // d1 = (ln(S/K) + rT + σ²T/2) / σ√T; σ√T ≤ 1e21 and |ln| ≤ 84 wad, so every signed product fits.
        int256 numerator =
            VolatilityMath.logReturn(strike, spot) + int256(rt) + int256((sigmaRootT * sigmaRootT) / (2 * WAD));
        return _blackScholes(isCall, spot, discounted, numerator, sigmaRootT);
    }

    /// @dev The formula once d1's numerator ln(S/K) + rT + σ²T/2 and σ√T > 0 are known.
    function _blackScholes(
        bool isCall,
        uint256 spot,
        uint256 discounted,
        int256 numerator,
        uint256 sigmaRootT
    ) private pure returns (uint256) {
        int256 d1 = (numerator * int256(WAD)) / int256(sigmaRootT);
        int256 d2 = d1 - int256(sigmaRootT);
        (uint256 gauss1, uint256 gauss2) = _gaussians(d1, d2, spot, discounted);
        uint256 positive;
        uint256 negative;
        if (isCall) {
            positive = Math.mulDiv(spot, _cdf(d1, gauss1), WAD);
            negative = Math.mulDiv(discounted, _cdf(d2, gauss2), WAD, Math.Rounding.Ceil);
        } else {
            positive = Math.mulDiv(discounted, _cdf(-d2, gauss2), WAD);
            negative = Math.mulDiv(spot, _cdf(-d1, gauss1), WAD, Math.Rounding.Ceil);
        }
        return positive > negative ? positive - negative : 0;
    }

    /// @notice e^(−y) in wad for y ≥ 0 (wad), as 2^(−y/ln 2) through VolatilityMath.decayWeight (floored; 0 for
    ///         y ≥ 64·ln 2, where the value is below 1e-19).
    function expNeg(uint256 y) internal pure returns (uint256) {
        return VolatilityMath.decayWeight(y, uint256(VolatilityMath.LN2_WAD));
    }

    /// @notice The standard normal CDF N(x) in wad (see the contract's notes for the approximation and its error).
    function normalCdf(int256 x) internal pure returns (uint256) {
        uint256 a = x < 0 ? uint256(-x) : uint256(x);
        return _cdf(x, a >= CDF_CUTOFF ? 0 : expNeg((a * a) / (2 * WAD)));
    }

    /// @dev e^(−d1²/2) and e^(−d2²/2) with one exponential: since d1² − d2² = 2·ln(S / K·e^(−rT)), the second is
    ///      the first times S / K·e^(−rT). The exponential is taken of the smaller |d| (the larger value) and the
    ///      other derived by a factor ≤ 1, so its error is not amplified. Without a discounted strike (rT > 44) both
    ///      are computed directly.
    function _gaussians(
        int256 d1,
        int256 d2,
        uint256 spot,
        uint256 discounted
    ) private pure returns (uint256 gauss1, uint256 gauss2) {
        uint256 a1 = d1 < 0 ? uint256(-d1) : uint256(d1);
        uint256 a2 = d2 < 0 ? uint256(-d2) : uint256(d2);
        if (discounted == 0) return (_gauss(a1), _gauss(a2));
        if (a1 <= a2) {
            gauss1 = _gauss(a1);
            gauss2 = Math.mulDiv(gauss1, spot, discounted);
        } else {
            gauss2 = _gauss(a2);
            gauss1 = Math.mulDiv(gauss2, discounted, spot);
        }
    }

    /// @dev e^(−a²/2) for |x| = a below the cutoff (0 beyond it, where the tail is 0 anyway).
    function _gauss(uint256 a) private pure returns (uint256) {
        return a >= CDF_CUTOFF ? 0 : expNeg((a * a) / (2 * WAD));
    }

    /// @dev N(x) given gauss = e^(−x²/2): the tail N(−|x|) computed once, N(x) = 1 − N(−x) exactly.
    function _cdf(int256 x, uint256 gauss) private pure returns (uint256) {
        uint256 a = x < 0 ? uint256(-x) : uint256(x);
        uint256 tail = a >= CDF_CUTOFF ? 0 : _upperTail(a, gauss);
        return x > 0 ? WAD - tail : tail;
    }

    /// @dev N(−a) for 0 ≤ a < CDF_CUTOFF (wad), gauss = e^(−a²/2). Products stay below 1e3 wad × 1e1 wad = 1e40.
    function _upperTail(uint256 a, uint256 gauss) private pure returns (uint256) {
        if (a < CDF_RATIONAL_LIMIT) {
            uint256 p = 35262496599891100; // 3.52624965998911e-2
            p = (p * a) / WAD + 700383064443688000;
            p = (p * a) / WAD + 6373962203531650000;
            p = (p * a) / WAD + 33912866078383000000;
            p = (p * a) / WAD + 112079291497871000000;
            p = (p * a) / WAD + 221213596169931000000;
            p = (p * a) / WAD + 220206867912376000000;
            uint256 q = 88388347648318400; // 8.83883476483184e-2
            q = (q * a) / WAD + 1755667163182640000;
            q = (q * a) / WAD + 16064177579207000000;
            q = (q * a) / WAD + 86780732202946100000;
            q = (q * a) / WAD + 296564248779674000000;
            q = (q * a) / WAD + 637333633378831000000;
            q = (q * a) / WAD + 793826512519948000000;
            q = (q * a) / WAD + 440413735824752000000;
            return (gauss * p) / q;
        }
        uint256 b = a + 650000000000000000;
        b = a + (4 * WAD * WAD) / b;
        b = a + (3 * WAD * WAD) / b;
        b = a + (2 * WAD * WAD) / b;
        b = a + (WAD * WAD) / b;
        return Math.mulDiv(gauss, WAD * WAD, b * SQRT_2PI);
    }
}
