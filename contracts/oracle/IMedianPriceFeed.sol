// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";

/// @title IMedianPriceFeed
/// @notice A Chainlink-compatible price feed whose rounds are the median of signed reporter observations.
/// @dev Reporters are the holders of Roles.ORACLE_REPORTER in the feed's AccessManager. Each signs, off-chain,
///      the EIP-712 struct `Observation(address feed,uint80 roundId,int256 answer,uint64 observedAt)` under the domain
///      {name: "MarginBridge MedianPriceFeed", version: "1", chainId, verifyingContract: feed}. Anyone relays a report
///      for round `latestRound + 1` carrying at least `quorum` observations from distinct reporters; the round's answer
///      is their median (the mean of the two middle values, rounded toward zero, for an even count).
///      With quorum ≥ 2f + 1 the median stays within the range of the honest observations when at most f reporters
///      lie: the dev deployment uses 3 reporters with quorum 3 (tolerates one liar, no absentee).
///      Round data: startedAt = updatedAt = the oldest observation time in the report (a round is as fresh as its
///      oldest observation, not as its relay: staleness is measured from what the reporters saw), answeredInRound =
///      roundId; the relay's block time is in NewRound's block. A signature binds the round id, so it is good for
///      that one round only; a report's oldest observation may not precede the current round's updatedAt.
interface IMedianPriceFeed is AggregatorV3Interface {
    /// @notice One reporter's signed observation as relayed.
    /// @param answer the price in `decimals()` (8 for equities), > 0
    /// @param observedAt when the reporter observed it (unix seconds)
    /// @param signature 65-byte ECDSA signature over the EIP-712 Observation
    struct SignedObservation {
        int256 answer;
        uint64 observedAt;
        bytes signature;
    }

    /// @notice Chainlink AggregatorInterface event: a round got its answer.
    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);
    /// @notice Chainlink AggregatorInterface event: a round started (here: was relayed).
    event NewRound(uint256 indexed roundId, address indexed startedBy, uint256 startedAt);
    /// @notice The full report, for audits and disputes: who signed what.
    event ReportAccepted(uint80 indexed roundId, int256 answer, address[] signers, int256[] observations);
    /// @notice The quorum changed.
    event QuorumSet(uint8 quorum);
    /// @notice The observation time window changed.
    event ObservationWindowSet(uint32 maxAge, uint32 maxFuture);

    /// @notice The round is not `latestRound + 1` (stale, replayed or skipping).
    error FeedInvalidRound(uint80 roundId, uint80 expected);
    /// @notice The report's oldest observation is older than the current round's updatedAt.
    error FeedObservationBeforeLatest(uint64 oldest, uint256 latestUpdatedAt);
    /// @notice Fewer valid observations than the quorum.
    error FeedQuorumNotMet(uint256 count, uint256 quorum);
    /// @notice More observations than MAX_OBSERVATIONS.
    error FeedTooManyObservations(uint256 count);
    /// @notice A signature does not parse (length, s-malleability, v).
    error FeedInvalidSignature(uint256 index);
    /// @notice The signature recovers to an address without the ORACLE_REPORTER role (or signed another feed, chain
    ///         or round, which recovers to an unrelated address).
    error FeedUnknownSigner(address signer);
    /// @notice Two observations recover to the same reporter.
    error FeedDuplicateSigner(address signer);
    /// @notice An observation is older than maxAge.
    error FeedStaleObservation(address signer, uint64 observedAt);
    /// @notice An observation is later than maxFuture ahead of the block.
    error FeedFutureObservation(address signer, uint64 observedAt);
    /// @notice An answer is ≤ 0 or does not fit in int96 (7.9e28: 7.9e20 whole units at 8 decimals).
    error FeedInvalidAnswer(address signer, int256 answer);
    /// @notice `getRoundData` for a round that does not exist.
    error FeedUnknownRound(uint80 roundId);
    /// @notice `latestRoundData` before the first round.
    error FeedNoData();
    /// @notice Quorum zero or above MAX_OBSERVATIONS.
    error FeedInvalidQuorum(uint8 quorum);

    /// @notice Relays a report for round `roundId` (must be latestRound + 1). Permissionless.
    /// @dev Verifies each signature, that its signer holds ORACLE_REPORTER, is not repeated, and observed within
    ///      [block.timestamp − maxAge, block.timestamp + maxFuture]; then stores the median.
    function transmit(uint80 roundId, SignedObservation[] calldata observations) external;

    /// @notice Sets the minimum number of distinct reporters per report. Restricted (risk officer).
    function setQuorum(uint8 quorum) external;

    /// @notice Sets how old (maxAge) or how far ahead (maxFuture) an observation may be, in seconds. Restricted.
    function setObservationWindow(uint32 maxAge, uint32 maxFuture) external;

    /// @notice Minimum number of distinct reporters per report.
    function quorum() external view returns (uint8);

    /// @notice The observation time window (seconds).
    function observationWindow() external view returns (uint32 maxAge, uint32 maxFuture);

    /// @notice The latest round id (0 before the first report).
    function latestRound() external view returns (uint80);

    /// @notice The EIP-712 digest a reporter signs for an observation on this feed and chain.
    function observationDigest(uint80 roundId, int256 answer, uint64 observedAt) external view returns (bytes32);
}
