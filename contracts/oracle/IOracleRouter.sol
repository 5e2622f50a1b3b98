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

    /// @notice The asset's daily volatility σ_daily, 18 decimals (0.02e18 = 2% a day): the square root of an
    ///         exponentially weighted, time-weighted average of r² · 86400 / Δt over the primary's rounds (r the log
    ///         return over Δt seconds), with a half-life in seconds, so it does not depend on how often reporters
    ///         push. Updated from each new round the router absorbs; 0 before the first return.
    function volatility(address asset) external view returns (uint256);

    /// @notice Everything the margin engine needs about one asset, from one evaluation of its feeds.
    /// @param price as `getPrice`
    /// @param status as `getPrice`
    /// @param updatedAt as `getPrice`
    /// @param safeSince as `safeSince` (0 while not Safe)
    /// @param volatility as `volatility`
    struct Quote {
        uint256 price;
        PriceStatus status;
        uint256 updatedAt;
        uint256 safeSince;
        uint256 volatility;
    }

    /// @notice `getPrice`, `safeSince` and `volatility` of several assets in one call, each field exactly what the
    ///         single-asset function returns in the same block. The margin engine values an account with it.
    /// @dev Cheaper than the three calls: the feeds and the session are read once per asset, not once per function.
    function quotes(address[] calldata assets) external view returns (Quote[] memory);

    // ───────────────────────── additions: configuration, keeping state, errors and events ─────────────────────────

    /// @notice Risk parameters of one asset.
    /// @param primary the feed whose rounds drive the price, the breaker and the volatility (any AggregatorV3Interface)
    /// @param secondary optional cross-check feed (address(0) for none), same unit as the primary
    /// @param maxStaleness seconds a primary (and secondary) answer stays fresh while the session is open
    /// @param maxDeviation largest |primary − secondary| / primary, 18 decimals (0.02e18 = 2%)
    /// @param maxMove largest |next − current| / current between two consecutive primary rounds, 18 decimals;
    ///        a larger move trips the circuit breaker
    /// @param volatilityHalfLife seconds after which a return's weight in the volatility has halved (> 0; one
    ///        trading day, 86,400, weighs the last days most, like RiskMetrics' daily λ = 0.94 does over ≈ 11 days)
    struct AssetParams {
        address primary;
        address secondary;
        uint32 maxStaleness;
        uint64 maxDeviation;
        uint64 maxMove;
        uint64 volatilityHalfLife;
    }

    /// @notice What the router has recorded for an asset from the primary feed's rounds (all reproducible from them).
    /// @param lastRoundId the last primary round processed (0: none yet)
    /// @param lastPrice the reference price, 18 decimals: the answer of `lastRoundId`
    /// @param safeSince see `safeSince`; 0 when the last keeper call did not find the price Safe
    /// @param tripped whether the circuit breaker is tripped
    /// @param lastUpdatedAt `updatedAt` of `lastRoundId`
    /// @param trippedRoundId the primary round that tripped it (0 when not tripped)
    /// @param returnCount how many returns the EWMA has absorbed
    /// @param varianceWeight the weight the absorbed returns carry together, 1 − 2^(−T/halfLife) for T seconds of
    ///        history, 18 decimals
    /// @param variance the daily variance: Σ weight · r² · 86400 / Δt over returns, divided by varianceWeight
    ///        (weights halve every half-life; unbiased from the first return), 18 decimals
    /// @param volatility √(variance · 1e18), floored: the daily σ that `volatility` and `quotes` return, computed
    ///        once per absorbed round rather than at every read
    /// @dev Layout: slot 0 lastRoundId | lastPrice | safeSince | tripped (everything a quote reads but σ);
    ///      slot 1 lastUpdatedAt | trippedRoundId | returnCount | varianceWeight (read when absorbing rounds);
    ///      slot 2 variance | volatility. Both fit 128 bits: a sample r² · 86400 / Δt is below 2**90 as a wad (|r| ≤
    ///      128 · ln 2, Δt ≥ 1 s), the variance is a weighted mean of samples, and σ = √(V · 1e18) < 2**76.
    struct AssetState {
        uint80 lastRoundId;
        uint128 lastPrice;
        uint40 safeSince;
        bool tripped;
        uint40 lastUpdatedAt;
        uint80 trippedRoundId;
        uint64 returnCount;
        uint64 varianceWeight;
        uint128 variance;
        uint128 volatility;
    }

    /// @notice An asset's configuration was set (or replaced). Recorded state restarts from the primary's latest round.
    event AssetConfigured(
        address indexed asset,
        address indexed primary,
        address indexed secondary,
        uint32 maxStaleness,
        uint64 maxDeviation,
        uint64 maxMove,
        uint64 volatilityHalfLife
    );
    /// @notice An asset's guards changed without touching its recorded state (breaker, safe window, volatility).
    event GuardsSet(address indexed asset, uint32 maxStaleness, uint64 maxDeviation, uint64 maxMove);
    /// @notice An asset's weekly session calendar was set. `windows` as in `setSession`; empty means always open.
    event SessionSet(address indexed asset, int32 utcOffsetSeconds, uint32[] windows);
    /// @notice A local calendar day (days since 1970-01-01 in the asset's time zone) was marked closed or reopened.
    event HolidaySet(address indexed asset, uint32 indexed localDay, bool closed);
    /// @notice A primary round was absorbed: new reference price and daily volatility.
    event RoundProcessed(
        address indexed asset,
        uint80 indexed roundId,
        uint256 price,
        int256 logReturn,
        uint256 volatility
    );
    /// @notice A round moved more than `maxMove` from the reference; the asset is CircuitBroken until reset.
    event CircuitBreakerTripped(address indexed asset, uint80 indexed roundId, uint256 referencePrice, uint256 price);
    /// @notice The risk officer re-armed the breaker; pending rounds were absorbed up to `roundId`.
    event CircuitBreakerReset(address indexed asset, uint80 indexed roundId, uint256 price);
    /// @notice A keeper call found the price Safe after it was not; `since` is the start of the safe window.
    event PriceBecameSafe(address indexed asset, uint256 since);
    /// @notice A keeper call found the price not Safe after it was.
    event PriceBecameUnsafe(address indexed asset, PriceStatus status);

    /// @notice The asset has no primary feed.
    error OracleAssetNotConfigured(address asset);
    /// @notice A parameter is out of range (zero staleness, zero half-life, secondary equals primary).
    error OracleInvalidParams(address asset);
    /// @notice A feed reports more than 36 decimals.
    error OracleUnsupportedDecimals(address feed, uint8 decimals);
    /// @notice A session window is malformed (start ≥ end, beyond a week, overlapping or unsorted, too many).
    error OracleInvalidSession(address asset, uint256 index);
    /// @notice The UTC offset is beyond ±14 h.
    error OracleInvalidUtcOffset(int32 utcOffsetSeconds);
    /// @notice The breaker of the asset is not tripped.
    error OracleBreakerNotTripped(address asset);

    /// @notice Sets (or replaces) an asset's feeds and risk parameters. Restricted to the risk officer (delayed).
    /// @dev Restarts the recorded state from the primary's latest round: breaker re-armed, volatility kept.
    function configureAsset(address asset, AssetParams calldata params) external;

    /// @notice Changes an asset's staleness, deviation and move limits, keeping everything recorded (a tripped
    ///         breaker stays tripped). Restricted to the risk officer (delayed); the RiskGuardian calls it at once
    ///         for tighter limits only.
    function setGuards(address asset, uint32 maxStaleness, uint64 maxDeviation, uint64 maxMove) external;

    /// @notice Sets an asset's weekly trading session. Restricted to the risk officer.
    /// @param utcOffsetSeconds the exchange's time zone (Shanghai: +28800)
    /// @param windows sorted, non-overlapping open intervals in LOCAL minutes of the week, each `start << 16 | end`
    ///        with Monday 00:00 = 0 and end ≤ 10080 (exclusive). Empty: open 24/7.
    function setSession(address asset, int32 utcOffsetSeconds, uint32[] calldata windows) external;

    /// @notice Marks a local calendar day closed (holiday) or open again. Restricted to the risk officer.
    /// @param localDay days since 1970-01-01 in the asset's time zone: floor((unixTime + utcOffset) / 86400)
    function setHoliday(address asset, uint32 localDay, bool closed) external;

    /// @notice Re-arms a tripped breaker: absorbs the pending primary rounds (the tripping one included) into the
    ///         reference and the volatility without a breaker check. Restricted to the risk officer.
    function resetCircuitBreaker(address asset) external;

    /// @notice Permissionless keeper call: absorbs the primary's new rounds in order (at most MAX_ROUNDS_PER_POKE),
    ///         trips the breaker on a move beyond `maxMove`, and records when the price became Safe.
    /// @return status the asset's status after the call
    function poke(address asset) external returns (PriceStatus status);

    /// @notice The asset's parameters.
    function assetParams(address asset) external view returns (AssetParams memory);

    /// @notice What the router has recorded for the asset.
    function assetState(address asset) external view returns (AssetState memory);

    /// @notice Whether the asset's session is open at `timestamp`, and since when (0 when open 24/7 without break).
    function sessionAt(address asset, uint256 timestamp) external view returns (bool open, uint256 openedAt);

    /// @notice The asset's session calendar.
    function session(address asset) external view returns (int32 utcOffsetSeconds, uint32[] memory windows);

    /// @notice Whether a local day is marked closed.
    function isHoliday(address asset, uint32 localDay) external view returns (bool);
}
