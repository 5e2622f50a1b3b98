// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";
import {IOracleRouter} from "./IOracleRouter.sol";
import {TradingCalendar} from "./TradingCalendar.sol";
import {VolatilityMath} from "./VolatilityMath.sol";

/// @title OracleRouter
/// @notice Per asset: a primary and an optional secondary AggregatorV3Interface feed, staleness, deviation, a circuit
///         breaker, a trading calendar and an EWMA volatility. See IOracleRouter.
/// @dev `getPrice` is a view and never writes. Everything that must be remembered (the breaker, when prices became
///      Safe, the volatility) is written by the permissionless `poke`, which walks the primary's rounds in order, so
///      the recorded state is a function of the feed's round history and the pokes' timestamps only.
///      Trust: feeds are trusted for their answers within the guards; the risk officer for the parameters.
contract OracleRouter is IOracleRouter, AccessManaged {
    using SafeCast for uint256;
    using TradingCalendar for TradingCalendar.Calendar;

    /// @notice Output precision of every price.
    uint256 public constant PRICE_DECIMALS = 18;
    /// @notice Most primary rounds one poke absorbs (the rest wait for the next poke) to bound its gas.
    uint256 public constant MAX_ROUNDS_PER_POKE = 16;

    /// @dev Parameters plus the feeds' decimals, read once at configuration.
    struct Config {
        AssetParams params;
        uint8 primaryDecimals;
        uint8 secondaryDecimals;
    }

    /// @dev One round's essentials, kept in memory while absorbing.
    struct Round {
        uint80 id;
        uint256 price;
        uint256 updatedAt;
    }

    mapping(address asset => Config) private _configs;
    mapping(address asset => AssetState) private _states;
    mapping(address asset => TradingCalendar.Calendar) private _calendars;

    /// @param authority the AccessManager
    constructor(address authority) AccessManaged(authority) {}

    // ───────────────────────────────────────────── views ─────────────────────────────────────────────

    /// @inheritdoc IOracleRouter
    function getPrice(address asset) external view returns (uint256 price, PriceStatus status, uint256 updatedAt) {
        return _evaluate(asset);
    }

    /// @inheritdoc IOracleRouter
    /// @dev When the price is Safe now but no poke has recorded it yet, returns the current block time (the grace
    ///      period then starts counting from a poke).
    function safeSince(address asset) external view returns (uint256) {
        (, PriceStatus status, ) = _evaluate(asset);
        if (status != PriceStatus.Safe) return 0;
        uint256 since = _states[asset].safeSince;
        if (since == 0) return block.timestamp;
        // A session that opened after the record means the asset was Closed in between.
        (, uint256 openedAt) = _calendars[asset].openAt(block.timestamp);
        return since > openedAt ? since : openedAt;
    }

    /// @inheritdoc IOracleRouter
    function volatility(address asset) external view returns (uint256) {
        return VolatilityMath.volatility(_states[asset].variance);
    }

    /// @inheritdoc IOracleRouter
    function assetParams(address asset) external view returns (AssetParams memory) {
        return _configs[asset].params;
    }

    /// @inheritdoc IOracleRouter
    function assetState(address asset) external view returns (AssetState memory) {
        return _states[asset];
    }

    /// @inheritdoc IOracleRouter
    function sessionAt(address asset, uint256 timestamp) external view returns (bool open, uint256 openedAt) {
        return _calendars[asset].openAt(timestamp);
    }

    /// @inheritdoc IOracleRouter
    function session(address asset) external view returns (int32 utcOffsetSeconds, uint32[] memory windows) {
        TradingCalendar.Calendar storage cal = _calendars[asset];
        return (cal.utcOffset, cal.windows);
    }

    /// @inheritdoc IOracleRouter
    function isHoliday(address asset, uint32 localDay) external view returns (bool) {
        return _calendars[asset].holidays[localDay];
    }

    // ─────────────────────────────────────── risk officer ───────────────────────────────────────

    /// @inheritdoc IOracleRouter
    function configureAsset(address asset, AssetParams calldata params) external restricted {
        if (
            params.primary == address(0) ||
            params.secondary == params.primary ||
            params.maxStaleness == 0 ||
            params.ewmaLambda == 0 ||
            params.ewmaLambda >= VolatilityMath.WAD
        ) revert OracleInvalidParams(asset);
        Config storage cfg = _configs[asset];
        cfg.params = params;
        cfg.primaryDecimals = _decimalsOf(params.primary);
        cfg.secondaryDecimals = params.secondary == address(0) ? 0 : _decimalsOf(params.secondary);
        AssetState storage st = _states[asset];
        st.lastRoundId = 0;
        st.tripped = false;
        st.trippedRoundId = 0;
        st.safeSince = 0;
        emit AssetConfigured(
            asset,
            params.primary,
            params.secondary,
            params.maxStaleness,
            params.maxDeviation,
            params.maxMove,
            params.ewmaLambda
        );
        _refresh(asset, true);
    }

    /// @inheritdoc IOracleRouter
    function setSession(address asset, int32 utcOffsetSeconds, uint32[] calldata windows) external restricted {
        if (utcOffsetSeconds > TradingCalendar.MAX_UTC_OFFSET || utcOffsetSeconds < -TradingCalendar.MAX_UTC_OFFSET) {
            revert OracleInvalidUtcOffset(utcOffsetSeconds);
        }
        uint256 bad = TradingCalendar.firstInvalidWindow(windows);
        if (bad != type(uint256).max) revert OracleInvalidSession(asset, bad);
        TradingCalendar.Calendar storage cal = _calendars[asset];
        cal.utcOffset = utcOffsetSeconds;
        cal.windows = windows;
        emit SessionSet(asset, utcOffsetSeconds, windows);
    }

    /// @inheritdoc IOracleRouter
    function setHoliday(address asset, uint32 localDay, bool closed) external restricted {
        _calendars[asset].holidays[localDay] = closed;
        emit HolidaySet(asset, localDay, closed);
    }

    /// @inheritdoc IOracleRouter
    function resetCircuitBreaker(address asset) external restricted {
        AssetState storage st = _states[asset];
        if (!st.tripped) revert OracleBreakerNotTripped(asset);
        st.tripped = false;
        st.trippedRoundId = 0;
        _absorb(asset, false);
        emit CircuitBreakerReset(asset, st.lastRoundId, st.lastPrice);
        _refresh(asset, true);
    }

    // ─────────────────────────────────────────── keepers ───────────────────────────────────────────

    /// @inheritdoc IOracleRouter
    function poke(address asset) external returns (PriceStatus status) {
        if (_configs[asset].params.primary == address(0)) revert OracleAssetNotConfigured(asset);
        return _refresh(asset, true);
    }

    // ────────────────────────────────────────── internals ──────────────────────────────────────────

    /// @dev Absorbs new rounds, then records the Safe/not-Safe transition at the current block time.
    function _refresh(address asset, bool checkBreaker) private returns (PriceStatus status) {
        uint256 staleUntil = checkBreaker ? _absorb(asset, true) : 0;
        (, status, ) = _evaluate(asset);
        AssetState storage st = _states[asset];
        if (status == PriceStatus.Safe) {
            uint256 since = st.safeSince;
            if (since == 0) since = block.timestamp;
            // A closed session or a stale window seen between two absorbed rounds ends the continuous safe period.
            (, uint256 openedAt) = _calendars[asset].openAt(block.timestamp);
            if (openedAt > since) since = openedAt;
            if (staleUntil > since) since = staleUntil;
            if (since != st.safeSince) {
                st.safeSince = since.toUint40();
                emit PriceBecameSafe(asset, since);
            }
        } else if (st.safeSince != 0) {
            st.safeSince = 0;
            emit PriceBecameUnsafe(asset, status);
        }
    }

    /// @dev Absorbs the primary's rounds after `lastRoundId` in order (at most MAX_ROUNDS_PER_POKE). With
    ///      `checkBreaker`, a move beyond maxMove trips the breaker and stops before that round. Returns the end of the
    ///      latest stale window found between absorbed rounds (0 if none).
    function _absorb(address asset, bool checkBreaker) private returns (uint256 staleUntil) {
        AssetState storage st = _states[asset];
        if (st.tripped) return 0;
        AggregatorV3Interface primary = AggregatorV3Interface(_configs[asset].params.primary);
        (bool ok, Round memory latest) = _latestRound(primary, _configs[asset].primaryDecimals);
        if (!ok || latest.id <= st.lastRoundId) return 0;
        if (st.lastRoundId == 0) {
            _accept(asset, latest, 0);
            return 0;
        }
        uint80 id = st.lastRoundId + 1;
        for (uint256 n = 0; n < MAX_ROUNDS_PER_POKE && id <= latest.id; ++n) {
            Round memory r;
            bool exists;
            (exists, ok, r) = _roundAt(primary, _configs[asset].primaryDecimals, id);
            if (!exists) {
                // Round ids need not be consecutive (Chainlink phases): skip straight to the latest round.
                if (id == latest.id) r = latest;
                else {
                    id = latest.id;
                    continue;
                }
            } else if (!ok) {
                ++id; // an invalid answer (≤ 0) is never a reference
                continue;
            }
            if (checkBreaker && _movedTooFar(_configs[asset].params.maxMove, st.lastPrice, r.price)) {
                st.tripped = true;
                st.trippedRoundId = r.id;
                emit CircuitBreakerTripped(asset, r.id, st.lastPrice, r.price);
                return staleUntil;
            }
            if (_staleBetween(asset, st.lastUpdatedAt, r.updatedAt)) staleUntil = r.updatedAt;
            _accept(asset, r, VolatilityMath.logReturn(st.lastPrice, r.price));
            id = r.id + 1;
        }
    }

    /// @dev Makes `r` the reference round and, unless it is the first, feeds its return into the EWMA.
    function _accept(address asset, Round memory r, int256 logReturn) private {
        AssetState storage st = _states[asset];
        if (st.lastRoundId != 0) {
            st.variance = VolatilityMath.nextVariance(
                st.variance,
                logReturn,
                _configs[asset].params.ewmaLambda,
                st.returnCount == 0
            );
            ++st.returnCount;
        }
        st.lastRoundId = r.id;
        st.lastPrice = r.price.toUint128();
        st.lastUpdatedAt = r.updatedAt.toUint40();
        emit RoundProcessed(asset, r.id, r.price, logReturn, VolatilityMath.volatility(st.variance));
    }

    /// @dev Whether the price must have gone stale while the session was open between two consecutive rounds.
    function _staleBetween(address asset, uint256 previous, uint256 next) private view returns (bool) {
        uint256 maxStaleness = _configs[asset].params.maxStaleness;
        if (next <= previous + maxStaleness) return false;
        TradingCalendar.Calendar storage cal = _calendars[asset];
        (bool openWhenStale, ) = cal.openAt(previous + maxStaleness);
        if (openWhenStale) return true;
        (bool openAtNext, uint256 openedAt) = cal.openAt(next);
        return openAtNext && openedAt > previous && next - openedAt > maxStaleness;
    }

    /// @dev The whole status decision, shared by getPrice, safeSince and poke.
    function _evaluate(address asset) private view returns (uint256 price, PriceStatus status, uint256 updatedAt) {
        Config storage cfg = _configs[asset];
        if (cfg.params.primary == address(0)) return (0, PriceStatus.Unset, 0);
        AssetState storage st = _states[asset];
        (bool ok, Round memory latest) = _latestRound(AggregatorV3Interface(cfg.params.primary), cfg.primaryDecimals);
        if (!ok) return (st.lastPrice, PriceStatus.Stale, st.lastUpdatedAt);
        price = latest.price;
        updatedAt = latest.updatedAt;
        if (st.tripped) return (price, PriceStatus.CircuitBroken, updatedAt);
        // A move no poke has absorbed yet counts as tripped already: nobody can act on it before the breaker does.
        if (
            st.lastRoundId != 0 &&
            latest.id != st.lastRoundId &&
            _movedTooFar(cfg.params.maxMove, st.lastPrice, latest.price)
        ) return (price, PriceStatus.CircuitBroken, updatedAt);
        (bool open, uint256 openedAt) = _calendars[asset].openAt(block.timestamp);
        if (!open) return (price, PriceStatus.Closed, updatedAt);
        if (_isStale(updatedAt, openedAt, cfg.params.maxStaleness)) return (price, PriceStatus.Stale, updatedAt);
        if (cfg.params.secondary != address(0)) {
            (bool secondaryOk, Round memory second) = _latestRound(
                AggregatorV3Interface(cfg.params.secondary),
                cfg.secondaryDecimals
            );
            // A secondary that cannot confirm (broken or stale) counts as disagreeing.
            if (
                !secondaryOk ||
                _isStale(second.updatedAt, openedAt, cfg.params.maxStaleness) ||
                _relativeDiff(price, second.price) > cfg.params.maxDeviation
            ) return (price, PriceStatus.Deviating, updatedAt);
        }
        return (price, PriceStatus.Safe, updatedAt);
    }

    /// @dev Staleness counts only from the session's opening: the overnight or weekend gap is not staleness.
    function _isStale(uint256 updatedAt, uint256 openedAt, uint256 maxStaleness) private view returns (bool) {
        uint256 from = updatedAt > openedAt ? updatedAt : openedAt;
        return block.timestamp > from && block.timestamp - from > maxStaleness;
    }

    function _movedTooFar(uint256 maxMove, uint256 referencePrice, uint256 price) private pure returns (bool) {
        return maxMove != 0 && _relativeDiff(referencePrice, price) > maxMove;
    }

    /// @dev |a − b| / a in wad (rounded down).
    function _relativeDiff(uint256 a, uint256 b) private pure returns (uint256) {
        uint256 diff = a > b ? a - b : b - a;
        return (diff * VolatilityMath.WAD) / a;
    }

    function _latestRound(
        AggregatorV3Interface feed,
        uint8 decimals
    ) private view returns (bool ok, Round memory round) {
        try feed.latestRoundData() returns (uint80 id, int256 answer, uint256, uint256 updatedAt, uint80) {
            if (answer <= 0 || updatedAt == 0) return (false, round);
            return (true, Round(id, _scale(answer, decimals), updatedAt));
        } catch {
            return (false, round);
        }
    }

    /// @return exists whether the feed knows the round; ok whether its answer is usable
    function _roundAt(
        AggregatorV3Interface feed,
        uint8 decimals,
        uint80 id
    ) private view returns (bool exists, bool ok, Round memory round) {
        try feed.getRoundData(id) returns (uint80 roundId, int256 answer, uint256, uint256 updatedAt, uint80) {
            if (updatedAt == 0) return (false, false, round);
            if (answer <= 0) return (true, false, round);
            return (true, true, Round(roundId, _scale(answer, decimals), updatedAt));
        } catch {
            return (false, false, round);
        }
    }

    function _decimalsOf(address feed) private view returns (uint8 d) {
        d = AggregatorV3Interface(feed).decimals();
        if (d > 36) revert OracleUnsupportedDecimals(feed, d);
    }

    /// @dev Feed answer → 18 decimals (exact when the feed has ≤ 18 decimals, floored otherwise).
    function _scale(int256 answer, uint8 decimals) private pure returns (uint256) {
        uint256 a = uint256(answer);
        if (decimals <= PRICE_DECIMALS) return a * 10 ** (PRICE_DECIMALS - decimals);
        return a / 10 ** (decimals - PRICE_DECIMALS);
    }
}
