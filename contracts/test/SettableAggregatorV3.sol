// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";

/// @title SettableAggregatorV3
/// @notice TEST ONLY (never deployed): an AggregatorV3Interface whose rounds anyone sets. Hostile modes: revert on
///         read, or any answer/timestamp, including zero and negative ones, and non-consecutive round ids.
contract SettableAggregatorV3 is AggregatorV3Interface {
    struct StoredRound {
        int256 answer;
        uint256 startedAt;
        uint256 updatedAt;
        uint80 answeredInRound;
    }

    error SettableUnknownRound(uint80 roundId);
    error SettableBroken();

    uint8 public immutable override decimals;
    string public override description;
    uint80 public latestRound;
    bool public broken;
    mapping(uint80 roundId => StoredRound) private _rounds;

    constructor(uint8 decimals_, string memory description_) {
        decimals = decimals_;
        description = description_;
    }

    function version() external pure override returns (uint256) {
        return 1;
    }

    /// @notice Appends a round with the next id, updated now.
    function setAnswer(int256 answer) external {
        _set(latestRound + 1, answer, block.timestamp);
    }

    /// @notice Appends a round with the next id and a chosen timestamp.
    function setAnswerAt(int256 answer, uint256 updatedAt) external {
        _set(latestRound + 1, answer, updatedAt);
    }

    /// @notice Writes any round (it becomes the latest when its id is the highest so far).
    function setRound(uint80 roundId, int256 answer, uint256 updatedAt) external {
        _set(roundId, answer, updatedAt);
    }

    function setBroken(bool broken_) external {
        broken = broken_;
    }

    function getRoundData(uint80 roundId) external view override returns (uint80, int256, uint256, uint256, uint80) {
        if (broken) revert SettableBroken();
        StoredRound memory r = _rounds[roundId];
        if (r.updatedAt == 0) revert SettableUnknownRound(roundId);
        return (roundId, r.answer, r.startedAt, r.updatedAt, r.answeredInRound);
    }

    function latestRoundData() external view override returns (uint80, int256, uint256, uint256, uint80) {
        if (broken) revert SettableBroken();
        StoredRound memory r = _rounds[latestRound];
        return (latestRound, r.answer, r.startedAt, r.updatedAt, r.answeredInRound);
    }

    function _set(uint80 roundId, int256 answer, uint256 updatedAt) private {
        _rounds[roundId] = StoredRound(answer, updatedAt, updatedAt, roundId);
        if (roundId > latestRound) latestRound = roundId;
    }
}
