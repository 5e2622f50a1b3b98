// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";

/// @title ICustodianReserveFeed
/// @notice The custodian's attestation of its off-chain holdings of one asset, in the token's base units, as a
///         Chainlink Proof-of-Reserve-style feed (AggregatorV3Interface): CollateralToken's secure mint reads it.
interface ICustodianReserveFeed is AggregatorV3Interface {
    /// @notice Attested holdings must be positive and fit int256.
    error ReserveFeedInvalidAnswer(uint256 holdings);
    /// @notice The round was never published.
    error ReserveFeedUnknownRound(uint80 roundId);

    /// @notice The custodian attested its holdings; `attestationRef` points at the custody statement.
    event HoldingsAttested(uint80 indexed roundId, uint256 holdings, bytes32 indexed attestationRef, uint256 at);

    /// @notice Publishes a new round (custodian).
    /// @param holdings custody holdings in the token's base units
    /// @param attestationRef reference of the custody statement (e.g. hash of the bank confirmation)
    function attest(uint256 holdings, bytes32 attestationRef) external;
}
