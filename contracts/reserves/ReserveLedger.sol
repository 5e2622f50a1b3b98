// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";
import {ICollateralToken} from "../collateral/ICollateralToken.sol";
import {IReserveLedger} from "./IReserveLedger.sol";
import {ReserveProofLib} from "./ReserveProofLib.sol";

/// @title ReserveLedger
/// @notice Proof-of-reserves epochs and on-chain inclusion proofs. See IReserveLedger and docs/reserves.md.
/// @dev Trust: the reserve publisher is trusted to include every client; each client detects an omission by
///      checking its own proof, and the totals a publisher states are tied to the root by `verifyInclusion`
///      (every proof recomputes the root's sums). Reserves are read here, never claimed.
contract ReserveLedger is IReserveLedger, AccessManaged {
    uint16 public constant ENCODING_VERSION = 1;
    string public constant SNAPSHOT_DOMAIN = "MarginBridge.PoR.v1";

    address[] private _assets;
    address[] private _holders;
    uint64 private _latestEpoch;
    mapping(uint64 epoch => EpochRecord) private _epochs;

    constructor(address authority) AccessManaged(authority) {}

    /// @inheritdoc IReserveLedger
    function publish(EpochInput calldata input) external restricted {
        uint256 k = _validate(input);

        EpochRecord storage rec = _epochs[input.epoch];
        rec.root = input.root;
        rec.snapshotId = _snapshotId(input.epoch, input.snapshotBlock);
        rec.dataHash = input.dataHash;
        rec.plainRoot = input.plainRoot;
        rec.snapshotBlock = input.snapshotBlock;
        rec.leafCount = input.leafCount;
        rec.publishedAt = uint64(block.timestamp);
        rec.depth = input.depth;
        rec.encodingVersion = ENCODING_VERSION;
        rec.assets = _assets;
        rec.liabilities = input.liabilities;
        rec.debt = input.debt;
        rec.uri = input.uri;
        _latestEpoch = input.epoch;
        emit EpochPublished(
            input.epoch,
            input.root,
            input.snapshotBlock,
            input.leafCount,
            input.dataHash,
            input.plainRoot,
            input.uri
        );

        // External reads last: balances of the reserve holders, per asset.
        for (uint256 i = 0; i < k; ++i) {
            uint256 reserves = currentReserves(_assets[i]);
            rec.reserves.push(reserves);
            if (input.liabilities[i] > reserves) {
                emit ReserveShortfall(input.epoch, _assets[i], input.liabilities[i], reserves);
            }
        }
    }

    /// @inheritdoc IReserveLedger
    function setAssets(address[] calldata assets_) external restricted {
        if (assets_.length == 0) revert ReserveNoAssets();
        _checkAddresses(assets_);
        _assets = assets_;
        emit AssetsSet(assets_);
    }

    /// @inheritdoc IReserveLedger
    function setReserveHolders(address[] calldata holders) external restricted {
        _checkAddresses(holders);
        _holders = holders;
        emit ReserveHoldersSet(holders);
    }

    /// @inheritdoc IReserveLedger
    function verifyInclusion(uint64 epoch, InclusionProof calldata proof) external view returns (bytes32 leaf) {
        EpochRecord storage rec = _record(epoch);
        uint256 k = rec.assets.length;
        bytes32 root;
        uint256[] memory sums;
        (root, sums, leaf) = ReserveProofLib.computeRoot(rec.snapshotId, rec.depth, k, proof);
        if (root != rec.root) revert ReserveRootMismatch(root, rec.root);
        for (uint256 i = 0; i < k; ++i) {
            if (sums[i] != rec.liabilities[i]) revert ReserveTotalsMismatch(i, sums[i], rec.liabilities[i]);
            if (sums[k + i] != rec.debt[i]) revert ReserveTotalsMismatch(k + i, sums[k + i], rec.debt[i]);
        }
    }

    /// @inheritdoc IReserveLedger
    function snapshotIdOf(uint64 epoch, uint64 snapshotBlock) external view returns (bytes32) {
        return _snapshotId(epoch, snapshotBlock);
    }

    /// @inheritdoc IReserveLedger
    function reserveRatio(uint64 epoch, uint256 assetIndex) external view returns (uint256) {
        EpochRecord storage rec = _record(epoch);
        if (assetIndex >= rec.assets.length) revert ReserveUnknownAsset(assetIndex);
        uint256 owed = rec.liabilities[assetIndex];
        if (owed == 0) return type(uint256).max;
        return Math.mulDiv(rec.reserves[assetIndex], 1e18, owed);
    }

    /// @inheritdoc IReserveLedger
    function currentReserves(address asset) public view returns (uint256 total) {
        uint256 n = _holders.length;
        for (uint256 i = 0; i < n; ++i) total += IERC20(asset).balanceOf(_holders[i]);
    }

    /// @inheritdoc IReserveLedger
    function tokenBacking(
        address token
    ) external view returns (uint256 supply, int256 attested, uint256 attestedAt, address feed) {
        supply = IERC20(token).totalSupply();
        (feed, ) = ICollateralToken(token).reserveFeed();
        if (feed != address(0)) (, attested, , attestedAt, ) = AggregatorV3Interface(feed).latestRoundData();
    }

    /// @inheritdoc IReserveLedger
    function latestEpoch() external view returns (uint64) {
        return _latestEpoch;
    }

    /// @inheritdoc IReserveLedger
    function getEpoch(uint64 epoch) external view returns (EpochRecord memory) {
        return _record(epoch);
    }

    /// @inheritdoc IReserveLedger
    function assets() external view returns (address[] memory) {
        return _assets;
    }

    /// @inheritdoc IReserveLedger
    function reserveHolders() external view returns (address[] memory) {
        return _holders;
    }

    /// @dev Checks the publish rules and returns the number of assets.
    function _validate(EpochInput calldata input) private view returns (uint256 k) {
        uint64 expected = _latestEpoch + 1;
        if (input.epoch != expected) revert ReserveEpochNotNext(input.epoch, expected);
        uint64 previous = _latestEpoch == 0 ? 0 : _epochs[_latestEpoch].snapshotBlock;
        if ((_latestEpoch != 0 && input.snapshotBlock <= previous) || input.snapshotBlock >= block.number) {
            revert ReserveSnapshotBlockInvalid(input.snapshotBlock, previous, block.number);
        }
        if (input.root == bytes32(0)) revert ReserveZeroRoot();
        if (input.depth == 0 || input.depth > ReserveProofLib.MAX_DEPTH) revert ReserveDepthInvalid(input.depth);
        if (input.leafCount == 0 || input.leafCount > uint256(1) << input.depth) {
            revert ReserveLeafCountInvalid(input.leafCount, input.depth);
        }
        k = _assets.length;
        if (k == 0) revert ReserveNoAssets();
        if (input.liabilities.length != k) revert ReserveAssetCountMismatch(input.liabilities.length, k);
        if (input.debt.length != k) revert ReserveAssetCountMismatch(input.debt.length, k);
        for (uint256 i = 0; i < k; ++i) {
            if (input.liabilities[i] > ReserveProofLib.MAX_VALUE) revert ReserveValueOutOfRange(input.liabilities[i]);
            if (input.debt[i] > ReserveProofLib.MAX_VALUE) revert ReserveValueOutOfRange(input.debt[i]);
        }
    }

    function _record(uint64 epoch) private view returns (EpochRecord storage rec) {
        rec = _epochs[epoch];
        if (rec.root == bytes32(0)) revert ReserveUnknownEpoch(epoch);
    }

    function _snapshotId(uint64 epoch, uint64 snapshotBlock) private view returns (bytes32) {
        return keccak256(abi.encode(SNAPSHOT_DOMAIN, block.chainid, address(this), epoch, snapshotBlock));
    }

    function _checkAddresses(address[] calldata list) private pure {
        for (uint256 i = 0; i < list.length; ++i) {
            if (list[i] == address(0)) revert ReserveInvalidAddress(list[i]);
            for (uint256 j = 0; j < i; ++j) if (list[i] == list[j]) revert ReserveInvalidAddress(list[i]);
        }
    }
}
