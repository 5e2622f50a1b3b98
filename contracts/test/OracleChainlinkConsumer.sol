// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";

/// @title OracleChainlinkConsumer
/// @notice TEST ONLY: a consumer written exactly as Chainlink's "Using Data Feeds" guide shows (DataConsumerV3 and
///         the historical-price example), plus the freshness checks the guide recommends. It knows nothing of
///         MarginBridge: it proves MedianPriceFeed works for any Chainlink consumer unchanged.
contract OracleChainlinkConsumer {
    AggregatorV3Interface internal dataFeed;

    constructor(address feed) {
        dataFeed = AggregatorV3Interface(feed);
    }

    /// @notice Returns the latest answer (DataConsumerV3.getChainlinkDataFeedLatestAnswer).
    function getChainlinkDataFeedLatestAnswer() public view returns (int256) {
        // prettier-ignore
        (
            /* uint80 roundID */,
            int256 answer,
            /*uint startedAt*/,
            /*uint timeStamp*/,
            /*uint80 answeredInRound*/
        ) = dataFeed.latestRoundData();
        return answer;
    }

    /// @notice Returns historical data for a round ID (HistoricalDataConsumerV3.getHistoricalData).
    function getHistoricalData(uint80 roundId) public view returns (int256) {
        // prettier-ignore
        (
            /*uint80 roundID*/,
            int256 answer,
            /*uint startedAt*/,
            /*uint timeStamp*/,
            /*uint80 answeredInRound*/
        ) = dataFeed.getRoundData(roundId);
        return answer;
    }

    /// @notice The latest answer scaled to 18 decimals, after the checks Chainlink recommends: a positive answer,
    ///         a complete round, answeredInRound not behind, and an update no older than `maxAge`.
    function getCheckedPrice(uint256 maxAge) public view returns (uint256) {
        (uint80 roundId, int256 answer, , uint256 updatedAt, uint80 answeredInRound) = dataFeed.latestRoundData();
        require(answer > 0, "invalid answer");
        require(updatedAt != 0, "round not complete");
        require(answeredInRound >= roundId, "stale round");
        require(block.timestamp - updatedAt <= maxAge, "stale price");
        return uint256(answer) * 10 ** (18 - dataFeed.decimals());
    }

    /// @notice The feed's metadata as consumers display it.
    function describe() public view returns (string memory, uint8, uint256) {
        return (dataFeed.description(), dataFeed.decimals(), dataFeed.version());
    }
}
