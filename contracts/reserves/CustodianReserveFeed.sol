// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";
import {ICustodianReserveFeed} from "./ICustodianReserveFeed.sol";

/// @title CustodianReserveFeed
/// @notice See ICustodianReserveFeed. Rounds are kept; `latestRoundData` of a feed without rounds answers zero,
///         which secure mint refuses.
/// @dev Trust: the custodian's statement is taken as published; the feed only makes it public and timestamped.
contract CustodianReserveFeed is ICustodianReserveFeed, AccessManaged {
    struct Round {
        int256 answer;
        uint64 updatedAt;
    }

    uint8 private immutable _decimals;
    string private _description;
    uint80 private _latestRound;
    mapping(uint80 roundId => Round) private _rounds;

    /// @param authority the AccessManager (attest is mapped to CUSTODIAN)
    /// @param decimals_ the token's decimals (answers are token base units)
    /// @param description_ e.g. "mbCNY custody reserves"
    constructor(address authority, uint8 decimals_, string memory description_) AccessManaged(authority) {
        _decimals = decimals_;
        _description = description_;
    }

    /// @inheritdoc ICustodianReserveFeed
    function attest(uint256 holdings, bytes32 attestationRef) external restricted {
        if (holdings == 0 || holdings > uint256(type(int256).max)) revert ReserveFeedInvalidAnswer(holdings);
        uint80 roundId = _latestRound + 1;
        // holdings ≤ int256 max was checked above.
        _rounds[roundId] = Round({answer: int256(holdings), updatedAt: uint64(block.timestamp)});
        _latestRound = roundId;
        emit HoldingsAttested(roundId, holdings, attestationRef, block.timestamp);
    }

    function decimals() external view returns (uint8) {
        return _decimals;
    }

    function description() external view returns (string memory) {
        return _description;
    }

    function version() external pure returns (uint256) {
        return 1;
    }

    function getRoundData(
        uint80 roundId
    ) external view returns (uint80, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound) {
        Round memory r = _rounds[roundId];
        if (r.updatedAt == 0) revert ReserveFeedUnknownRound(roundId);
        return (roundId, r.answer, r.updatedAt, r.updatedAt, roundId);
    }

    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        roundId = _latestRound;
        Round memory r = _rounds[roundId];
        return (roundId, r.answer, r.updatedAt, r.updatedAt, roundId);
    }
}
