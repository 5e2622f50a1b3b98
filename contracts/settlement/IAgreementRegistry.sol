// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

/// @title IAgreementRegistry
/// @notice Public, append-only anchor of signed financing agreements. The full terms stay off-chain (canonical
///         JSON plus the readable document it commits to); the chain keeps their keccak256 hash and proof that
///         both the client and the platform signed it (EIP-712), so either side or a court can later prove what
///         was agreed and when.
/// @dev EIP-712 domain: name "MarginBridge Agreements", version "1", the chain id and this contract.
///      Signed struct: FinancingAgreement(bytes32 agreementId,address client,address platform,bytes32 termsHash,
///      uint32 version,uint64 effectiveAt,uint64 expiresAt). Signatures are checked with OpenZeppelin's
///      SignatureChecker, so an EOA (ECDSA) and a contract wallet (ERC-1271) may both sign.
interface IAgreementRegistry {
    /// @notice The struct both parties sign. `termsHash` = keccak256 of the canonical JSON of the terms.
    struct FinancingAgreement {
        bytes32 agreementId;
        address client;
        address platform;
        bytes32 termsHash;
        uint32 version;
        uint64 effectiveAt;
        uint64 expiresAt;
    }

    /// @notice What is stored per agreement id. Layout: slot 0 = termsHash; slot 1 = client (160) | version (32)
    ///         | effectiveAt (64); slot 2 = platform (160) | expiresAt (64); slot 3 = anchoredAt (64) |
    ///         anchoredBlock (64) | closedAt (64); slot 4 = finalSettlementHash.
    struct Anchor {
        bytes32 termsHash;
        address client;
        uint32 version;
        uint64 effectiveAt;
        address platform;
        uint64 expiresAt;
        uint64 anchoredAt;
        uint64 anchoredBlock;
        uint64 closedAt;
        bytes32 finalSettlementHash;
    }

    /// @notice The agreement id is zero.
    error AgreementInvalidId(bytes32 agreementId);
    /// @notice The client or platform is the zero address, or both are the same address.
    error AgreementInvalidParties(address client, address platform);
    /// @notice The terms hash is zero.
    error AgreementEmptyTermsHash(bytes32 agreementId);
    /// @notice The term is empty or inverted (`expiresAt` must be after `effectiveAt`).
    error AgreementInvalidTerm(uint64 effectiveAt, uint64 expiresAt);
    /// @notice An agreement with this id is already anchored; anchors are never overwritten.
    error AgreementAlreadyAnchored(bytes32 agreementId, bytes32 termsHash);
    /// @notice `signer` did not sign the agreement's EIP-712 digest with this signature.
    error AgreementInvalidSignature(bytes32 agreementId, address signer);
    /// @notice No agreement is anchored under this id.
    error AgreementNotAnchored(bytes32 agreementId);
    /// @notice The agreement was already closed with a final settlement.
    error AgreementAlreadyClosed(bytes32 agreementId, bytes32 finalSettlementHash);
    /// @notice The final settlement hash is zero.
    error AgreementEmptySettlementHash(bytes32 agreementId);

    /// @notice An agreement signed by both parties was anchored.
    event AgreementAnchored(
        bytes32 indexed agreementId,
        address indexed client,
        address indexed platform,
        bytes32 termsHash,
        uint32 version,
        uint64 effectiveAt,
        uint64 expiresAt
    );
    /// @notice A financing ended; `finalSettlementHash` = keccak256 of the canonical final-settlement JSON.
    event AgreementClosed(bytes32 indexed agreementId, address indexed client, bytes32 finalSettlementHash);

    /// @notice Anchors an agreement after checking both parties' EIP-712 signatures (operator).
    /// @dev Each id is anchored once; because the id is inside the signed struct and the domain binds the chain
    ///      and this contract, a signature cannot be replayed for another id, chain or registry.
    /// @param agreement the signed struct
    /// @param clientSignature the client's signature (65-byte ECDSA, or whatever the client's ERC-1271 wallet
    ///        accepts)
    /// @param platformSignature the platform's signature, same rules
    function anchor(
        FinancingAgreement calldata agreement,
        bytes calldata clientSignature,
        bytes calldata platformSignature
    ) external;

    /// @notice Records that the financing ended and commits to its final settlement. Once only. Restricted to the
    ///         AgreementSettlement (AGREEMENT_SETTLER), which calls it at the end of its settleEnd waterfall.
    /// @param finalSettlementHash keccak256 of the canonical JSON of the final-settlement computation
    function close(bytes32 agreementId, bytes32 finalSettlementHash) external;

    /// @notice The anchored record; reverts with AgreementNotAnchored for an unknown id.
    function agreementOf(bytes32 agreementId) external view returns (Anchor memory);

    /// @notice When the agreement was closed (0 while open or never anchored): one slot, for AgreementBinding's check
    ///         on every borrow.
    function closedAtOf(bytes32 agreementId) external view returns (uint64);

    /// @notice True when an agreement is anchored under this id.
    function isAnchored(bytes32 agreementId) external view returns (bool);

    /// @notice True when `termsHash` is exactly the anchored hash of `agreementId`.
    function matchesTerms(bytes32 agreementId, bytes32 termsHash) external view returns (bool);

    /// @notice The EIP-712 digest both parties sign for `agreement` on this chain and registry.
    function agreementDigest(FinancingAgreement calldata agreement) external view returns (bytes32);

    /// @notice Number of agreements anchored so far.
    function anchoredCount() external view returns (uint256);
}
