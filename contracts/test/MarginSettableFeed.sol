// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";

/// @title MarginSettableFeed
/// @notice TEST ONLY (never deployed): an AggregatorV3 feed whose answer anyone can set, so that margin tests can
///         move prices behind the real OracleRouter. Every set starts a new round stamped with the block time.
contract MarginSettableFeed is AggregatorV3Interface {
    struct Round {
        int256 answer;
        uint256 updatedAt;
    }

    uint8 public immutable override decimals;
    string public override description;
    uint80 private _latest;
    mapping(uint80 roundId => Round) private _rounds;

    error MarginSettableFeedNoRound(uint80 roundId);

    constructor(uint8 decimals_, string memory description_, int256 initialAnswer) {
        decimals = decimals_;
        description = description_;
        setAnswer(initialAnswer);
    }

    /// @notice Starts a new round with `answer`, updated now.
    function setAnswer(int256 answer) public {
        _latest += 1;
        _rounds[_latest] = Round(answer, block.timestamp);
    }

    /// @notice Starts a new round with `answer` stamped `updatedAt` (to simulate stale or future data).
    function setAnswerAt(int256 answer, uint256 updatedAt) external {
        _latest += 1;
        _rounds[_latest] = Round(answer, updatedAt);
    }

    function version() external pure override returns (uint256) {
        return 1;
    }

    function getRoundData(uint80 roundId) external view override returns (uint80, int256, uint256, uint256, uint80) {
        Round memory r = _rounds[roundId];
        if (r.updatedAt == 0) revert MarginSettableFeedNoRound(roundId);
        return (roundId, r.answer, r.updatedAt, r.updatedAt, roundId);
    }

    function latestRoundData() external view override returns (uint80, int256, uint256, uint256, uint80) {
        Round memory r = _rounds[_latest];
        return (_latest, r.answer, r.updatedAt, r.updatedAt, _latest);
    }
}
