// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

/// @title SettlementLib
/// @notice Pure helpers of the SettlementHub: the trades Merkle tree and the per-batch set of accounts whose margin
///         is checked after the batch.
library SettlementLib {
    /// @dev Transient-storage namespace of the checked-account set (cleared by the hub before the batch ends).
    bytes32 private constant _ACCOUNT_NS = keccak256("marginbridge.settlement.checked-account");

    /// @notice Leaf of a trade: keccak256(abi.encode(batchId, index, buyOrder, sellOrder, quantity, price)).
    ///         Six words, so a leaf preimage can never be read as a node preimage (two words).
    function tradeLeaf(
        bytes32 batchId,
        uint256 index,
        bytes32 buyOrder,
        bytes32 sellOrder,
        uint256 quantity,
        uint256 price
    ) internal pure returns (bytes32) {
        return keccak256(abi.encode(batchId, index, buyOrder, sellOrder, quantity, price));
    }

    /// @notice Positional Merkle root: node = keccak256(left ‖ right) in order (not sorted); an odd node is
    ///         promoted unchanged to the next level (never duplicated, so [a,b,c] and [a,b,c,c] differ).
    /// @dev Overwrites `leaves` in place.
    function merkleRoot(bytes32[] memory leaves) internal pure returns (bytes32) {
        uint256 n = leaves.length;
        while (n > 1) {
            uint256 half = n >> 1;
            for (uint256 i; i < half; ++i) {
                leaves[i] = _hashPair(leaves[2 * i], leaves[2 * i + 1]);
            }
            if (n & 1 == 1) {
                leaves[half] = leaves[n - 1];
                n = half + 1;
            } else {
                n = half;
            }
        }
        return leaves[0];
    }

    function _hashPair(bytes32 a, bytes32 b) private pure returns (bytes32 h) {
        assembly ("memory-safe") {
            mstore(0x00, a)
            mstore(0x20, b)
            h := keccak256(0x00, 0x40)
        }
    }

    /// @notice 1 + position of `account` in the batch's list of accounts to check, or 0 when not in it yet.
    function tloadAccount(address account) internal view returns (uint256 v) {
        bytes32 slot = keccak256(abi.encode(_ACCOUNT_NS, account));
        assembly ("memory-safe") {
            v := tload(slot)
        }
    }

    function tstoreAccount(address account, uint256 v) internal {
        bytes32 slot = keccak256(abi.encode(_ACCOUNT_NS, account));
        assembly ("memory-safe") {
            tstore(slot, v)
        }
    }
}
