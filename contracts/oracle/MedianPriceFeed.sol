// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";
import {IAccessManager} from "@openzeppelin/contracts/access/manager/IAccessManager.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Roles} from "../shared/Roles.sol";
import {IMedianPriceFeed} from "./IMedianPriceFeed.sol";

/// @title MedianPriceFeed
/// @notice AggregatorV3Interface fed by the median of quorum-signed reporter observations. See IMedianPriceFeed.
/// @dev Trust: at most f of the reporters lie when quorum ≥ 2f + 1; the AccessManager admin decides who reports.
///      The relayer is untrusted: it can only choose which valid observations to include.
contract MedianPriceFeed is IMedianPriceFeed, AccessManaged, EIP712 {
    /// @notice The EIP-712 type reporters sign.
    bytes32 public constant OBSERVATION_TYPEHASH = keccak256(
        "Observation(address feed,uint80 roundId,int256 answer,uint64 observedAt)"
    );
    /// @notice Most observations a report may carry.
    uint256 public constant MAX_OBSERVATIONS = 31;

    /// @dev One slot per round: answer (int128), startedAt (uint64), updatedAt (uint64).
    struct Round {
        int128 answer;
        uint64 startedAt;
        uint64 updatedAt;
    }

    /// @dev The latest round whole in one slot, so that `latestRoundData` (every price the router reads) costs one
    ///      storage read: round id (80) | answer (96: answers are refused above 2**95 − 1) | startedAt (40) |
    ///      updatedAt (40, seconds: year 36812).
    struct Latest {
        uint80 roundId;
        int96 answer;
        uint40 startedAt;
        uint40 updatedAt;
    }

    uint8 private immutable _decimals;
    string private _description;

    Latest private _latest;
    // slot: quorum (uint8) | maxAge (uint32) | maxFuture (uint32), read by transmit
    uint8 private _quorum;
    uint32 private _maxAge;
    uint32 private _maxFuture;
    mapping(uint80 roundId => Round) private _rounds;

    /// @param authority the AccessManager (its ORACLE_REPORTER holders are the reporters)
    /// @param decimals_ answer decimals (8 for equity prices)
    /// @param description_ e.g. "mbBANK / CNY"
    /// @param quorum_ minimum distinct reporters per report (≥ 2f + 1 to tolerate f liars)
    /// @param maxAge_ seconds an observation may be old when relayed
    /// @param maxFuture_ seconds an observation may be ahead of the block (clock skew)
    constructor(
        address authority,
        uint8 decimals_,
        string memory description_,
        uint8 quorum_,
        uint32 maxAge_,
        uint32 maxFuture_
    ) AccessManaged(authority) EIP712("MarginBridge MedianPriceFeed", "1") {
        _decimals = decimals_;
        _description = description_;
        _setQuorum(quorum_);
        _setObservationWindow(maxAge_, maxFuture_);
    }

    // ─────────────────────────────────── AggregatorV3Interface ───────────────────────────────────

    /// @notice Decimals of every answer.
    function decimals() external view returns (uint8) {
        return _decimals;
    }

    /// @notice What the feed prices, e.g. "mbBANK / CNY".
    function description() external view returns (string memory) {
        return _description;
    }

    /// @notice Implementation version.
    function version() external pure returns (uint256) {
        return 1;
    }

    /// @notice A past round. Reverts with FeedUnknownRound for round 0 or a round not yet relayed.
    function getRoundData(
        uint80 roundId
    )
        external
        view
        returns (uint80 roundId_, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        if (roundId == 0 || roundId > _latest.roundId) revert FeedUnknownRound(roundId);
        return _roundData(roundId);
    }

    /// @notice The latest round. Reverts with FeedNoData before the first report.
    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        Latest memory latest = _latest;
        if (latest.roundId == 0) revert FeedNoData();
        return (latest.roundId, latest.answer, latest.startedAt, latest.updatedAt, latest.roundId);
    }

    // ────────────────────────────────────────── reports ──────────────────────────────────────────

    /// @inheritdoc IMedianPriceFeed
    function transmit(uint80 roundId, SignedObservation[] calldata observations) external {
        Latest memory previous = _latest;
        uint80 expected = previous.roundId + 1;
        if (roundId != expected) revert FeedInvalidRound(roundId, expected);
        uint256 n = observations.length;
        if (n > MAX_OBSERVATIONS) revert FeedTooManyObservations(n);
        if (n < _quorum) revert FeedQuorumNotMet(n, _quorum);

        address[] memory signers = new address[](n);
        int256[] memory answers = new int256[](n);
        uint64 oldest = type(uint64).max;
        for (uint256 i = 0; i < n; ++i) {
            SignedObservation calldata o = observations[i];
            address signer = _verify(roundId, o, i);
            for (uint256 j = 0; j < i; ++j) {
                if (signers[j] == signer) revert FeedDuplicateSigner(signer);
            }
            signers[i] = signer;
            answers[i] = o.answer;
            if (o.observedAt < oldest) oldest = o.observedAt;
        }
        // A round is as old as its oldest observation, and never older than the round before it: a relayer cannot
        // make an old observation look fresh, nor bring back one from before the current answer.
        if (oldest < previous.updatedAt) revert FeedObservationBeforeLatest(oldest, previous.updatedAt);
        int256 median = _median(answers);

        // Answers were checked to fit int96 in _verify; the median of int96 values does too. `oldest` is at most
        // maxFuture seconds ahead of the block, far below 2**40.
        _latest = Latest(roundId, int96(median), uint40(oldest), uint40(oldest));
        _rounds[roundId] = Round(int128(median), oldest, oldest);
        emit NewRound(roundId, msg.sender, oldest);
        emit AnswerUpdated(median, roundId, oldest);
        emit ReportAccepted(roundId, median, signers, answers);
    }

    // ────────────────────────────────────────── admin ──────────────────────────────────────────

    /// @inheritdoc IMedianPriceFeed
    function setQuorum(uint8 quorum_) external restricted {
        _setQuorum(quorum_);
    }

    /// @inheritdoc IMedianPriceFeed
    function setObservationWindow(uint32 maxAge, uint32 maxFuture) external restricted {
        _setObservationWindow(maxAge, maxFuture);
    }

    // ────────────────────────────────────────── views ──────────────────────────────────────────

    /// @inheritdoc IMedianPriceFeed
    function quorum() external view returns (uint8) {
        return _quorum;
    }

    /// @inheritdoc IMedianPriceFeed
    function observationWindow() external view returns (uint32 maxAge, uint32 maxFuture) {
        return (_maxAge, _maxFuture);
    }

    /// @inheritdoc IMedianPriceFeed
    function latestRound() external view returns (uint80) {
        return _latest.roundId;
    }

    /// @inheritdoc IMedianPriceFeed
    function observationDigest(uint80 roundId, int256 answer, uint64 observedAt) public view returns (bytes32) {
        return
            _hashTypedDataV4(keccak256(abi.encode(OBSERVATION_TYPEHASH, address(this), roundId, answer, observedAt)));
    }

    // ────────────────────────────────────────── internals ──────────────────────────────────────────

    /// @dev Recovers the signer of observation `index` and checks role, answer range and observation time.
    function _verify(uint80 roundId, SignedObservation calldata o, uint256 index) private view returns (address) {
        (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecover(
            observationDigest(roundId, o.answer, o.observedAt),
            o.signature
        );
        if (err != ECDSA.RecoverError.NoError) revert FeedInvalidSignature(index);
        (bool isReporter, ) = IAccessManager(authority()).hasRole(Roles.ORACLE_REPORTER, signer);
        if (!isReporter) revert FeedUnknownSigner(signer);
        if (o.answer <= 0 || o.answer > type(int96).max) revert FeedInvalidAnswer(signer, o.answer);
        if (o.observedAt > block.timestamp + _maxFuture) revert FeedFutureObservation(signer, o.observedAt);
        if (o.observedAt + uint256(_maxAge) < block.timestamp) revert FeedStaleObservation(signer, o.observedAt);
        return signer;
    }

    /// @dev Median by insertion sort (n ≤ 31); for an even count the mean of the two middle values.
    function _median(int256[] memory values) private pure returns (int256) {
        int256[] memory v = new int256[](values.length);
        for (uint256 i = 0; i < values.length; ++i) {
            int256 x = values[i];
            uint256 j = i;
            while (j > 0 && v[j - 1] > x) {
                v[j] = v[j - 1];
                --j;
            }
            v[j] = x;
        }
        uint256 mid = v.length / 2;
        if (v.length % 2 == 1) return v[mid];
        // Both positive and < 2^95: the sum cannot overflow.
        return (v[mid - 1] + v[mid]) / 2;
    }

    function _roundData(uint80 roundId) private view returns (uint80, int256, uint256, uint256, uint80) {
        Round memory r = _rounds[roundId];
        return (roundId, r.answer, r.startedAt, r.updatedAt, roundId);
    }

    function _setQuorum(uint8 quorum_) private {
        if (quorum_ == 0 || quorum_ > MAX_OBSERVATIONS) revert FeedInvalidQuorum(quorum_);
        _quorum = quorum_;
        emit QuorumSet(quorum_);
    }

    function _setObservationWindow(uint32 maxAge, uint32 maxFuture) private {
        _maxAge = maxAge;
        _maxFuture = maxFuture;
        emit ObservationWindowSet(maxAge, maxFuture);
    }
}
