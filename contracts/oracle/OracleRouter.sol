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

    /// @dev What every price read needs, cached at configuration (and on calendar changes) so that one cold SLOAD
    ///      serves it. Layout, one slot: primary (160) | maxStaleness (32) | primaryDecimals (8) |
    ///      secondaryDecimals (8) | hasSecondary (8) | hasCalendar (8). `hasCalendar` is false when the asset has no
    ///      session windows and no closed day: it is then open 24/7 since 0 and the calendar is not read at all.
    struct Hot {
        address primary;
        uint32 maxStaleness;
        uint8 primaryDecimals;
        uint8 secondaryDecimals;
        bool hasSecondary;
        bool hasCalendar;
    }

    /// @dev One round's essentials, kept in memory while absorbing.
    struct Round {
        uint80 id;
        uint256 price;
        uint256 updatedAt;
    }

    mapping(address asset => AssetParams) private _configs;
    mapping(address asset => Hot) private _hot;
    mapping(address asset => AssetState) private _states;
    mapping(address asset => TradingCalendar.Calendar) private _calendars;

    /// @param authority the AccessManager
    constructor(address authority) AccessManaged(authority) {}

    // ───────────────────────────────────────────── views ─────────────────────────────────────────────

    /// @inheritdoc IOracleRouter
    function getPrice(address asset) external view returns (uint256 price, PriceStatus status, uint256 updatedAt) {
        (price, status, updatedAt, ) = _evaluate(asset);
    }

    /// @inheritdoc IOracleRouter
    /// @dev When the price is Safe now but no poke has recorded it yet, returns the current block time (the grace
    ///      period then starts counting from a poke).
    function safeSince(address asset) external view returns (uint256) {
        (, PriceStatus status, , uint256 openedAt) = _evaluate(asset);
        return _safeSince(asset, status, openedAt);
    }

    /// @inheritdoc IOracleRouter
    function quotes(address[] calldata assets) external view returns (Quote[] memory q) {
        q = new Quote[](assets.length);
        for (uint256 i; i < assets.length; ++i) {
            address asset = assets[i];
            Quote memory x = q[i];
            uint256 openedAt;
            (x.price, x.status, x.updatedAt, openedAt) = _evaluate(asset);
            x.safeSince = _safeSince(asset, x.status, openedAt);
            x.volatility = _volatility(_states[asset]);
        }
    }

    /// @inheritdoc IOracleRouter
    function volatility(address asset) external view returns (uint256) {
        return _volatility(_states[asset]);
    }

    /// @inheritdoc IOracleRouter
    function assetParams(address asset) external view returns (AssetParams memory) {
        return _configs[asset];
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
            params.volatilityHalfLife == 0
        ) revert OracleInvalidParams(asset);
        _configs[asset] = params;
        bool hasSecondary = params.secondary != address(0);
        _hot[asset] = Hot({
            primary: params.primary,
            maxStaleness: params.maxStaleness,
            primaryDecimals: _decimalsOf(params.primary),
            secondaryDecimals: hasSecondary ? _decimalsOf(params.secondary) : 0,
            hasSecondary: hasSecondary,
            hasCalendar: _hasCalendar(_calendars[asset])
        });
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
            params.volatilityHalfLife
        );
        _refresh(asset, true);
    }

    /// @inheritdoc IOracleRouter
    function setGuards(address asset, uint32 maxStaleness, uint64 maxDeviation, uint64 maxMove) external restricted {
        if (_hot[asset].primary == address(0)) revert OracleAssetNotConfigured(asset);
        if (maxStaleness == 0) revert OracleInvalidParams(asset);
        AssetParams storage p = _configs[asset];
        p.maxStaleness = maxStaleness;
        p.maxDeviation = maxDeviation;
        p.maxMove = maxMove;
        _hot[asset].maxStaleness = maxStaleness;
        emit GuardsSet(asset, maxStaleness, maxDeviation, maxMove);
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
        _hot[asset].hasCalendar = _hasCalendar(cal);
        emit SessionSet(asset, utcOffsetSeconds, windows);
    }

    /// @inheritdoc IOracleRouter
    function setHoliday(address asset, uint32 localDay, bool closed) external restricted {
        TradingCalendar.Calendar storage cal = _calendars[asset];
        if (cal.holidays[localDay] != closed) {
            cal.holidays[localDay] = closed;
            // closedDays counts the days marked closed: it is only decremented for a day that was counted.
            if (closed) ++cal.closedDays;
            else --cal.closedDays;
            _hot[asset].hasCalendar = _hasCalendar(cal);
        }
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
        if (_hot[asset].primary == address(0)) revert OracleAssetNotConfigured(asset);
        return _refresh(asset, true);
    }

    // ────────────────────────────────────────── internals ──────────────────────────────────────────

    /// @dev Absorbs new rounds, then records the Safe/not-Safe transition at the current block time.
    function _refresh(address asset, bool checkBreaker) private returns (PriceStatus status) {
        uint256 staleUntil = checkBreaker ? _absorb(asset, true) : 0;
        uint256 openedAt;
        (, status, , openedAt) = _evaluate(asset);
        AssetState storage st = _states[asset];
        if (status == PriceStatus.Safe) {
            uint256 since = st.safeSince;
            if (since == 0) since = block.timestamp;
            // A closed session or a stale window seen between two absorbed rounds ends the continuous safe period.
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
        Hot memory hot = _hot[asset];
        AggregatorV3Interface primary = AggregatorV3Interface(hot.primary);
        (bool ok, Round memory latest) = _latestRound(primary, hot.primaryDecimals);
        if (!ok || latest.id <= st.lastRoundId) return 0;
        if (st.lastRoundId == 0) {
            _accept(asset, latest, 0);
            return 0;
        }
        uint80 id = st.lastRoundId + 1;
        for (uint256 n = 0; n < MAX_ROUNDS_PER_POKE && id <= latest.id; ++n) {
            Round memory r;
            bool exists;
            (exists, ok, r) = _roundAt(primary, hot.primaryDecimals, id);
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
            if (checkBreaker && _movedTooFar(_configs[asset].maxMove, st.lastPrice, r.price)) {
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

    /// @dev Makes `r` the reference round and, unless it is the first, feeds its return over the time since the
    ///      reference into the time-weighted EWMA.
    function _accept(address asset, Round memory r, int256 logReturn) private {
        AssetState storage st = _states[asset];
        if (st.lastRoundId != 0) {
            uint256 dt = r.updatedAt > st.lastUpdatedAt ? r.updatedAt - st.lastUpdatedAt : 0;
            (uint256 variance, uint256 weight) = VolatilityMath.nextVariance(
                st.variance,
                st.varianceWeight,
                logReturn,
                dt,
                _configs[asset].volatilityHalfLife
            );
            // The variance and its σ fit 128 bits (IOracleRouter.AssetState); SafeCast keeps the bound checked.
            st.variance = variance.toUint128();
            st.volatility = VolatilityMath.volatility(variance).toUint128();
            // weight ≤ 1e18 < 2**64.
            st.varianceWeight = uint64(weight);
            ++st.returnCount;
        }
        st.lastRoundId = r.id;
        st.lastPrice = r.price.toUint128();
        st.lastUpdatedAt = r.updatedAt.toUint40();
        emit RoundProcessed(asset, r.id, r.price, logReturn, _volatility(st));
    }

    /// @dev σ as recorded when the last round was absorbed (VolatilityMath.volatility of the variance).
    function _volatility(AssetState storage st) private view returns (uint256) {
        return st.volatility;
    }

    /// @dev Whether the price must have gone stale while the session was open between two consecutive rounds.
    function _staleBetween(address asset, uint256 previous, uint256 next) private view returns (bool) {
        Hot memory hot = _hot[asset];
        uint256 maxStaleness = hot.maxStaleness;
        if (next <= previous + maxStaleness) return false;
        (bool openWhenStale, ) = _openAt(asset, hot.hasCalendar, previous + maxStaleness);
        if (openWhenStale) return true;
        (bool openAtNext, uint256 openedAt) = _openAt(asset, hot.hasCalendar, next);
        return openAtNext && openedAt > previous && next - openedAt > maxStaleness;
    }

    /// @dev The whole status decision, shared by getPrice, safeSince, quotes and poke; also returns when the current
    ///      session opened (meaningful when Safe). Reads the one-slot cache first; the secondary's parameters and
    ///      maxMove only when they matter, the calendar only when the asset has one.
    function _evaluate(
        address asset
    ) private view returns (uint256 price, PriceStatus status, uint256 updatedAt, uint256 openedAt) {
        Hot memory hot = _hot[asset];
        if (hot.primary == address(0)) return (0, PriceStatus.Unset, 0, 0);
        AssetState storage st = _states[asset];
        (bool ok, Round memory latest) = _latestRound(AggregatorV3Interface(hot.primary), hot.primaryDecimals);
        if (!ok) return (st.lastPrice, PriceStatus.Stale, st.lastUpdatedAt, 0);
        price = latest.price;
        updatedAt = latest.updatedAt;
        if (st.tripped) return (price, PriceStatus.CircuitBroken, updatedAt, 0);
        // A move no poke has absorbed yet counts as tripped already: nobody can act on it before the breaker does.
        if (
            st.lastRoundId != 0 &&
            latest.id != st.lastRoundId &&
            _movedTooFar(_configs[asset].maxMove, st.lastPrice, latest.price)
        ) return (price, PriceStatus.CircuitBroken, updatedAt, 0);
        bool open;
        (open, openedAt) = _openAt(asset, hot.hasCalendar, block.timestamp);
        if (!open) return (price, PriceStatus.Closed, updatedAt, 0);
        if (_isStale(updatedAt, openedAt, hot.maxStaleness)) return (price, PriceStatus.Stale, updatedAt, 0);
        if (hot.hasSecondary && !_secondaryConfirms(asset, hot.secondaryDecimals, price, openedAt)) {
            return (price, PriceStatus.Deviating, updatedAt, 0);
        }
        status = PriceStatus.Safe;
    }

    /// @dev A secondary that cannot confirm (broken or stale) counts as disagreeing.
    function _secondaryConfirms(
        address asset,
        uint8 secondaryDecimals,
        uint256 price,
        uint256 openedAt
    ) private view returns (bool) {
        AssetParams storage params = _configs[asset];
        (bool ok, Round memory second) = _latestRound(AggregatorV3Interface(params.secondary), secondaryDecimals);
        return
            ok &&
            !_isStale(second.updatedAt, openedAt, params.maxStaleness) &&
            _relativeDiff(price, second.price) <= params.maxDeviation;
    }

    /// @dev safeSince from an evaluation: a session that opened after the record means the asset was Closed in between.
    function _safeSince(address asset, PriceStatus status, uint256 openedAt) private view returns (uint256) {
        if (status != PriceStatus.Safe) return 0;
        uint256 since = _states[asset].safeSince;
        if (since == 0) return block.timestamp;
        return since > openedAt ? since : openedAt;
    }

    /// @dev The calendar's answer, without reading it when the asset has neither windows nor closed days (24/7).
    function _openAt(address asset, bool hasCalendar, uint256 t) private view returns (bool open, uint256 openedAt) {
        if (!hasCalendar) return (true, 0);
        return _calendars[asset].openAt(t);
    }

    function _hasCalendar(TradingCalendar.Calendar storage cal) private view returns (bool) {
        return cal.windows.length != 0 || cal.closedDays != 0;
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
