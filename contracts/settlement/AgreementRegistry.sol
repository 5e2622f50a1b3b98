// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {IAgreementRegistry} from "./IAgreementRegistry.sol";

/// @title AgreementRegistry
/// @notice Anchors financing agreements signed by client and platform. See IAgreementRegistry.
/// @dev `anchor` and `close` are `restricted`: the AccessManager maps `anchor` to OPERATOR and `close` to
///      AGREEMENT_SETTLER, held only by the AgreementSettlement, whose settleEnd runs the agreement's end waterfall
///      and closes it in the same transaction. Every read is public.
contract AgreementRegistry is IAgreementRegistry, AccessManaged, EIP712 {
    /// @notice EIP-712 type hash of FinancingAgreement.
    bytes32 public constant FINANCING_AGREEMENT_TYPEHASH = keccak256(
        "FinancingAgreement(bytes32 agreementId,address client,address platform,bytes32 termsHash,"
        "uint32 version,uint64 effectiveAt,uint64 expiresAt)"
    );

    mapping(bytes32 agreementId => Anchor) private _anchors;
    uint256 private _count;

    /// @param manager the protocol's AccessManager
    constructor(address manager) AccessManaged(manager) EIP712("MarginBridge Agreements", "1") {}

    /// @inheritdoc IAgreementRegistry
    function anchor(
        FinancingAgreement calldata agreement,
        bytes calldata clientSignature,
        bytes calldata platformSignature
    ) external restricted {
        _validate(agreement);
        bytes32 digest = _digest(agreement);
        _checkSignature(agreement.agreementId, agreement.client, digest, clientSignature);
        _checkSignature(agreement.agreementId, agreement.platform, digest, platformSignature);
        _store(agreement);
    }

    /// @inheritdoc IAgreementRegistry
    function close(bytes32 agreementId, bytes32 finalSettlementHash) external restricted {
        Anchor storage a = _anchors[agreementId];
        if (a.termsHash == bytes32(0)) revert AgreementNotAnchored(agreementId);
        if (a.closedAt != 0) revert AgreementAlreadyClosed(agreementId, a.finalSettlementHash);
        if (finalSettlementHash == bytes32(0)) revert AgreementEmptySettlementHash(agreementId);
        a.closedAt = uint64(block.timestamp);
        a.finalSettlementHash = finalSettlementHash;
        emit AgreementClosed(agreementId, a.client, finalSettlementHash);
    }

    /// @inheritdoc IAgreementRegistry
    function agreementOf(bytes32 agreementId) external view returns (Anchor memory) {
        Anchor memory a = _anchors[agreementId];
        if (a.termsHash == bytes32(0)) revert AgreementNotAnchored(agreementId);
        return a;
    }

    /// @inheritdoc IAgreementRegistry
    function closedAtOf(bytes32 agreementId) external view returns (uint64) {
        return _anchors[agreementId].closedAt;
    }

    /// @inheritdoc IAgreementRegistry
    function isAnchored(bytes32 agreementId) external view returns (bool) {
        return _anchors[agreementId].termsHash != bytes32(0);
    }

    /// @inheritdoc IAgreementRegistry
    function matchesTerms(bytes32 agreementId, bytes32 termsHash) external view returns (bool) {
        return termsHash != bytes32(0) && _anchors[agreementId].termsHash == termsHash;
    }

    /// @inheritdoc IAgreementRegistry
    function agreementDigest(FinancingAgreement calldata agreement) external view returns (bytes32) {
        return _digest(agreement);
    }

    /// @inheritdoc IAgreementRegistry
    function anchoredCount() external view returns (uint256) {
        return _count;
    }

    function _digest(FinancingAgreement calldata a) private view returns (bytes32) {
        return
            _hashTypedDataV4(
                keccak256(
                    abi.encode(
                        FINANCING_AGREEMENT_TYPEHASH,
                        a.agreementId,
                        a.client,
                        a.platform,
                        a.termsHash,
                        a.version,
                        a.effectiveAt,
                        a.expiresAt
                    )
                )
            );
    }

    function _validate(FinancingAgreement calldata agreement) private view {
        bytes32 id = agreement.agreementId;
        if (id == bytes32(0)) revert AgreementInvalidId(id);
        address client = agreement.client;
        address platform = agreement.platform;
        if (client == address(0) || platform == address(0) || client == platform)
            revert AgreementInvalidParties(client, platform);
        if (agreement.termsHash == bytes32(0)) revert AgreementEmptyTermsHash(id);
        if (agreement.expiresAt <= agreement.effectiveAt)
            revert AgreementInvalidTerm(agreement.effectiveAt, agreement.expiresAt);
        bytes32 existing = _anchors[id].termsHash;
        if (existing != bytes32(0)) revert AgreementAlreadyAnchored(id, existing);
    }

    function _checkSignature(bytes32 id, address signer, bytes32 digest, bytes calldata signature) private view {
        if (!SignatureChecker.isValidSignatureNowCalldata(signer, digest, signature))
            revert AgreementInvalidSignature(id, signer);
    }

    function _store(FinancingAgreement calldata agreement) private {
        _anchors[agreement.agreementId] = Anchor({
            termsHash: agreement.termsHash,
            client: agreement.client,
            version: agreement.version,
            effectiveAt: agreement.effectiveAt,
            platform: agreement.platform,
            expiresAt: agreement.expiresAt,
            anchoredAt: uint64(block.timestamp),
            anchoredBlock: uint64(block.number),
            closedAt: 0,
            finalSettlementHash: bytes32(0)
        });
        unchecked {
            // One increment per distinct id; cannot realistically reach 2^256.
            ++_count;
        }
        emit AgreementAnchored(
            agreement.agreementId,
            agreement.client,
            agreement.platform,
            agreement.termsHash,
            agreement.version,
            agreement.effectiveAt,
            agreement.expiresAt
        );
    }
}
