// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @notice Test consumer: checks a leaf of the plain StandardMerkleTree export with OpenZeppelin's
///         MerkleProof.verify, the way an auditor's own contract would. Leaf encoding:
///         ["bytes32", "bytes32", "uint256[]", "uint256[]"] = (snapshotId, commitment, owed, debt).
contract ReserveOzInclusionVerifier {
    function verify(
        bytes32[] calldata proof,
        bytes32 root,
        bytes32 snapshotId,
        bytes32 commitment,
        uint256[] calldata owed,
        uint256[] calldata debt
    ) external pure returns (bool) {
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(snapshotId, commitment, owed, debt))));
        return MerkleProof.verify(proof, root, leaf);
    }
}
