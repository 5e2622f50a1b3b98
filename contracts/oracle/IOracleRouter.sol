// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

/// @title IOracleRouter
/// @notice The only way margin code reads prices. Per asset it combines a primary and an optional secondary
///         AggregatorV3Interface feed, checks positivity, staleness, deviation, the circuit breaker and the trading
///         session, and scales every answer to one precision.
/// @dev Prices: the value of ONE WHOLE token (10**decimals base units) in the quote currency, 18 decimals.
///      The cash token is the quote currency and is not routed (its price is 1 by definition).
interface IOracleRouter {
    /// @notice Why a price may or may not be acted on.
    /// Safe: fresh, within deviation, breaker not tripped, session open.
    /// Stale: older than the asset's max staleness while its session is open.
    /// Deviating: primary and secondary disagree beyond the max deviation.
    /// CircuitBroken: a move beyond the per-update limit tripped the breaker; only the risk officer resets it.
    /// Closed: outside the asset's trading session (overnight, weekend, holiday); the price is the last one seen.
    /// Unset: the asset has no feed configured.
    enum PriceStatus {
        Safe,
        Stale,
        Deviating,
        CircuitBroken,
        Closed,
        Unset
    }

    /// @notice The asset's price (18 decimals per whole token), its status and when the answer was observed.
    ///         Never reverts for a configured asset: callers decide what each status allows.
    function getPrice(address asset) external view returns (uint256 price, PriceStatus status, uint256 updatedAt);

    /// @notice Unix time since which the asset's price has been continuously Safe (0 while it is not Safe).
    ///         The margin engine waits a grace period after this before liquidating.
    function safeSince(address asset) external view returns (uint256);

    /// @notice EWMA volatility of the asset's per-round log returns, 18 decimals (0.02e18 = 2% per round),
    ///         updated from each new round of the primary feed.
    function volatility(address asset) external view returns (uint256);
}
