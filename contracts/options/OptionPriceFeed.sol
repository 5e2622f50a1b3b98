// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";
import {OptionMath} from "./OptionMath.sol";
import {IOptionMarket} from "./IOptionMarket.sol";

/// @title OptionPriceFeed
/// @notice The price of one contract of a series (wad CNY, 18 decimals) as an AggregatorV3 feed for the OracleRouter:
///         round `r` is the underlying feed's round `r`, priced by Black-Scholes (OptionMath) at that round's spot,
///         the time from that round's update to expiry, the latest implied volatility and the series' rate, times
///         the contract size. `updatedAt` is the older of the underlying round's and the volatility's, so a stale
///         volatility makes the option Stale in the router (valued at zero, never above). From the fix on, every
///         round answers the fixed value of a contract (the market's `fixedValue`).
/// @dev Rounds at or after expiry but before the fix answer the intrinsic value at their spot. Past rounds are
///      priced with the volatility current when they are read (the router absorbs rounds as they come).
contract OptionPriceFeed is AggregatorV3Interface {
    IOptionMarket private immutable _market;
    address private immutable _series;
    AggregatorV3Interface private immutable _underlying;
    AggregatorV3Interface private immutable _volatility;
    uint8 private immutable _underlyingDecimals;
    uint8 private immutable _volatilityDecimals;
    bool private immutable _isCall;
    uint64 private immutable _expiry;
    uint32 private immutable _contractSize;
    uint256 private immutable _strike;
    uint256 private immutable _rate;

    /// @notice A feed answered zero or less.
    error OptionFeedBadAnswer(address feed, int256 answer);

    constructor(
        address series_,
        AggregatorV3Interface underlyingFeed,
        AggregatorV3Interface volatilityFeed,
        bool isCall,
        uint256 strike,
        uint64 expiry,
        uint32 contractSize,
        uint256 rate
    ) {
        _market = IOptionMarket(msg.sender);
        _series = series_;
        _underlying = underlyingFeed;
        _volatility = volatilityFeed;
        _underlyingDecimals = underlyingFeed.decimals();
        _volatilityDecimals = volatilityFeed.decimals();
        _isCall = isCall;
        _strike = strike;
        _expiry = expiry;
        _contractSize = contractSize;
        _rate = rate;
    }

    function decimals() external pure returns (uint8) {
        return 18;
    }

    function description() external pure returns (string memory) {
        return "option contract / CNY (Black-Scholes)";
    }

    function version() external pure returns (uint256) {
        return 1;
    }

    function getRoundData(uint80 roundId) external view returns (uint80, int256, uint256, uint256, uint80) {
        (uint80 id, int256 answer, , uint256 updatedAt, ) = _underlying.getRoundData(roundId);
        return _round(id, answer, updatedAt);
    }

    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        (uint80 id, int256 answer, , uint256 updatedAt, ) = _underlying.latestRoundData();
        return _round(id, answer, updatedAt);
    }

    /// @notice A contract's model price at `spot` (wad) with `secondsToExpiry` left, at the latest volatility.
    function modelPrice(uint256 spot, uint256 secondsToExpiry) public view returns (uint256) {
        (uint256 sigma, ) = _latestVolatility();
        return OptionMath.price(_isCall, spot, _strike, secondsToExpiry, sigma, _rate) * _contractSize;
    }

    /// @notice The implied volatility the series is priced at (annualised, wad) and when it was reported.
    function latestVolatility() external view returns (uint256 sigma, uint256 updatedAt) {
        return _latestVolatility();
    }

    function _round(
        uint80 id,
        int256 answer,
        uint256 updatedAt
    ) private view returns (uint80, int256, uint256, uint256, uint80) {
        (uint256 price, uint256 at) = _value(answer, updatedAt);
        return (id, int256(price), at, at, id);
    }

    /// @dev A contract's value for an underlying round (answer, updatedAt), and when that value was last updated.
    function _value(int256 answer, uint256 updatedAt) private view returns (uint256, uint256) {
        (bool isFixed, uint256 value) = _market.fixedValue(_series);
        if (isFixed) return (value, updatedAt);
        if (answer <= 0) revert OptionFeedBadAnswer(address(_underlying), answer);
        (uint256 sigma, uint256 volatilityUpdatedAt) = _latestVolatility();
        uint256 left = updatedAt < _expiry ? _expiry - updatedAt : 0;
        uint256 price =
            OptionMath.price(_isCall, _toWad(uint256(answer), _underlyingDecimals), _strike, left, sigma, _rate) *
                _contractSize;
        return (price, volatilityUpdatedAt < updatedAt ? volatilityUpdatedAt : updatedAt);
    }

    function _latestVolatility() private view returns (uint256 sigma, uint256 updatedAt) {
        int256 answer;
        (, answer, , updatedAt, ) = _volatility.latestRoundData();
        if (answer <= 0) revert OptionFeedBadAnswer(address(_volatility), answer);
        sigma = _toWad(uint256(answer), _volatilityDecimals);
    }

    function _toWad(uint256 x, uint8 d) private pure returns (uint256) {
        return d <= 18 ? x * 10 ** (18 - d) : x / 10 ** (d - 18);
    }
}
