// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {IReserveLedger} from "./IReserveLedger.sol";

/// @title ReserveProofLib
/// @notice Merkle-sum tree encoding version 1 (docs/reserves.md), on-chain side.
///         leaf = keccak256(0x00 ‖ snapshotId ‖ commitment ‖ owed[0..K) ‖ debt[0..K))
///         node = keccak256(0x01 ‖ leftHash ‖ leftOwed ‖ leftDebt ‖ rightHash ‖ rightOwed ‖ rightDebt)
///         every amount is 16 bytes big-endian (uint128).
library ReserveProofLib {
    uint256 internal constant MAX_VALUE = type(uint128).max;
    uint8 internal constant MAX_DEPTH = 32;

    /// @notice Recomputes the root and the root's sums from a proof; reverts on any range or sum violation.
    /// @param k number of assets
    /// @return root the recomputed root
    /// @return sums the root's per-asset sums, owed[0..K) then debt[0..K)
    /// @return leaf the leaf hash
    function computeRoot(
        bytes32 snapshotId,
        uint8 depth,
        uint256 k,
        IReserveLedger.InclusionProof calldata p
    ) internal pure returns (bytes32 root, uint256[] memory sums, bytes32 leaf) {
        uint256 w = 2 * k;
        if (p.owed.length != k) revert IReserveLedger.ReserveAssetCountMismatch(p.owed.length, k);
        if (p.debt.length != k) revert IReserveLedger.ReserveAssetCountMismatch(p.debt.length, k);
        if (p.siblingHashes.length != depth) {
            revert IReserveLedger.ReserveProofLengthMismatch(p.siblingHashes.length, depth);
        }
        if (p.siblingSums.length != uint256(depth) * w) {
            revert IReserveLedger.ReserveProofLengthMismatch(p.siblingSums.length, uint256(depth) * w);
        }
        if (p.index >> depth != 0) revert IReserveLedger.ReserveIndexOutOfRange(p.index, depth);

        sums = new uint256[](w);
        for (uint256 i = 0; i < k; ++i) {
            sums[i] = _inRange(p.owed[i]);
            sums[k + i] = _inRange(p.debt[i]);
        }
        uint256[] memory sib = new uint256[](w);
        // Allocated last: the record writers never touch memory past its end.
        bytes memory buf = new bytes(1 + 2 * (32 + 16 * w));
        leaf = _hashLeaf(buf, snapshotId, p.accountCommitment, sums);
        root = leaf;
        uint256 recordLen = 32 + 16 * w;
        for (uint256 level = 0; level < depth; ++level) {
            uint256 base = level * w;
            for (uint256 j = 0; j < w; ++j) sib[j] = _inRange(p.siblingSums[base + j]);
            bytes32 sibHash = p.siblingHashes[level];
            if ((p.index >> level) & 1 == 1) {
                _writeRecord(buf, 1, sibHash, sib);
                _writeRecord(buf, 1 + recordLen, root, sums);
            } else {
                _writeRecord(buf, 1, root, sums);
                _writeRecord(buf, 1 + recordLen, sibHash, sib);
            }
            buf[0] = 0x01;
            root = keccak256(buf);
            for (uint256 j = 0; j < w; ++j) {
                uint256 s = sums[j] + sib[j];
                if (s > MAX_VALUE) revert IReserveLedger.ReserveSumOverflow(j, s);
                sums[j] = s;
            }
        }
    }

    function _inRange(uint256 v) private pure returns (uint256) {
        if (v > MAX_VALUE) revert IReserveLedger.ReserveValueOutOfRange(v);
        return v;
    }

    /// @dev Hashes 0x00 ‖ snapshotId ‖ commitment ‖ values using the front of `buf` (values already in range).
    function _hashLeaf(
        bytes memory buf,
        bytes32 snapshotId,
        bytes32 commitment,
        uint256[] memory values
    ) private pure returns (bytes32 h) {
        uint256 len = 65 + 16 * values.length;
        _writeRecord(buf, 33, commitment, values);
        assembly ("memory-safe") {
            let p := add(buf, 32)
            mstore(add(p, 1), snapshotId)
            mstore8(p, 0)
            h := keccak256(p, len)
        }
    }

    /// @dev Writes hash ‖ values (16 bytes each) at buf[at..). Each value is stored as a 32-byte word ending at
    ///      its 16-byte slot, so its zero upper half lands on the slot before; writing the values last-to-first
    ///      and the hash after them keeps every write inside the record (values are ≤ uint128 max).
    function _writeRecord(bytes memory buf, uint256 at, bytes32 hash, uint256[] memory values) private pure {
        assembly ("memory-safe") {
            let p := add(add(buf, 32), at)
            let n := mload(values)
            let src := add(values, 32)
            for {
                let i := n
            } gt(i, 0) {
                i := sub(i, 1)
            } {
                mstore(add(p, mul(i, 16)), mload(add(src, mul(sub(i, 1), 32))))
            }
            mstore(p, hash)
        }
    }
}
