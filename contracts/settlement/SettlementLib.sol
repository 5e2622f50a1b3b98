// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

/// @title SettlementLib
/// @notice Pure helpers of the SettlementHub: the trades Merkle tree and the per-batch buyer set.
library SettlementLib {
    /// @dev Transient-storage namespace of the buyer set (cleared by the hub before the batch ends).
    bytes32 private constant _BUYER_NS = keccak256("marginbridge.settlement.buyer");

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

    /// @notice 1 + position of `buyer` in the batch's distinct-buyer list, or 0 when not seen yet.
    function tloadBuyer(address buyer) internal view returns (uint256 v) {
        bytes32 slot = keccak256(abi.encode(_BUYER_NS, buyer));
        assembly ("memory-safe") {
            v := tload(slot)
        }
    }

    function tstoreBuyer(address buyer, uint256 v) internal {
        bytes32 slot = keccak256(abi.encode(_BUYER_NS, buyer));
        assembly ("memory-safe") {
            tstore(slot, v)
        }
    }
}
