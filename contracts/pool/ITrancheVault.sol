// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {IERC4626} from "@openzeppelin/contracts/interfaces/IERC4626.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {IERC7540Operator, IERC7540Redeem, IERC7575} from "./IERC7540.sol";

/// @title ITrancheVault
/// @notice One share class of the capital pool (senior or junior), sold as an ERC-4626 vault over the cash token with
///         ERC-7540 asynchronous redemption. Deposits are synchronous (the cash goes straight to the pool); exits are
///         requests (`requestRedeem`) that the pool serves first-in first-out, at once when the rules allow (no notice
///         period for the class, nothing due ahead, cash and the gate permitting), and that the controller then claims
///         with `redeem` / `withdraw`. Request ids are always 0: a controller's requests are aggregated (ERC-7540's
///         requestId 0); each request's place in the queue is in the pool's RedeemQueued / RedeemServed events and
///         `requestOf` view.
///         A provider signs (EIP-712) the class's current agreement terms and anchors the signature here before its
///         first deposit: an address without an anchored agreement on the current terms receives no shares (deposit,
///         mint or transfer).
/// @dev EIP-712 domain: the vault's agreement name ("MarginBridge Senior Tranche" / "MarginBridge Junior Tranche"),
///      version "1", the chain id and this vault. Signed struct:
///      ProviderAgreement(address provider,bytes32 termsHash,uint32 termsVersion,uint64 signedAt). `termsHash` is
///      keccak256 of the canonical JSON of the class's rules (loss waterfall, tranche rules, notice periods, gates),
///      as published with the deployment. Shares have the cash token's decimals + 6 (virtual-share offset).
interface ITrancheVault is IERC4626, IERC7540Redeem, IERC7540Operator, IERC7575, IERC165 {
    /// @notice What is stored per provider: the terms version it signed, when it signed and when it was anchored.
    struct Agreement {
        uint32 termsVersion;
        uint64 signedAt;
        uint64 anchoredAt;
    }

    /// @notice A deposit of `assets` to `receiver` exceeds `max` (OpenZeppelin's ERC-4626 error).
    error ERC4626ExceededMaxDeposit(address receiver, uint256 assets, uint256 max);
    /// @notice A mint of `shares` to `receiver` exceeds `max`.
    error ERC4626ExceededMaxMint(address receiver, uint256 shares, uint256 max);
    /// @notice A claim of `assets` exceeds `owner`'s claimable `max`.
    error ERC4626ExceededMaxWithdraw(address owner, uint256 assets, uint256 max);
    /// @notice A claim of `shares` exceeds `owner`'s claimable `max`.
    error ERC4626ExceededMaxRedeem(address owner, uint256 shares, uint256 max);
    /// @notice `provider` has no anchored agreement on the current terms (`signedVersion` 0: none at all).
    error VaultNoAgreement(address provider, uint256 signedVersion, uint256 currentVersion);
    /// @notice `provider` did not sign the agreement's EIP-712 digest with this signature.
    error VaultInvalidSignature(address provider);
    /// @notice The signature's time is in the future.
    error VaultSignedInFuture(uint256 signedAt, uint256 nowAt);
    /// @notice `provider` already anchored the current terms.
    error VaultAgreementAlreadyAnchored(address provider, uint256 termsVersion);
    /// @notice New terms need a non-zero hash and a higher version.
    error VaultInvalidTerms(bytes32 termsHash, uint256 termsVersion, uint256 currentVersion);
    /// @notice Only the capital pool may call this.
    error VaultNotPool(address caller);
    /// @notice `caller` is neither `controller` nor an operator it approved.
    error VaultNotController(address caller, address controller);
    /// @notice Zero shares cannot be requested.
    error VaultZeroShares();
    /// @notice The zero address cannot control a request.
    error VaultInvalidController(address controller);
    /// @notice ERC-7540: previews of asynchronous redemptions revert.
    error VaultAsyncRedeem();

    /// @notice `provider` anchored its signed agreement on terms `termsVersion` (`termsHash`).
    event AgreementAnchored(address indexed provider, uint256 termsVersion, bytes32 termsHash, uint256 signedAt);
    /// @notice The class's agreement terms changed (risk officer, behind its delay): deposits need a signature on
    ///         the new ones.
    event AgreementTermsSet(bytes32 termsHash, uint256 termsVersion);

    /// @notice Anchors `provider`'s EIP-712 signature of the current terms. Anyone may relay it (the provider, or the
    ///         service on its behalf); ECDSA and ERC-1271 signatures are accepted.
    /// @param provider the signer, who may then receive shares
    /// @param signedAt when the provider signed (unix seconds, not in the future)
    /// @param signature the provider's signature of `agreementDigest(provider, signedAt)`
    function anchorAgreement(address provider, uint64 signedAt, bytes calldata signature) external;

    /// @notice Sets the class's agreement terms (risk officer, behind its delay). Existing shares stay; new shares
    ///         need a signature on the new terms.
    function setAgreementTerms(bytes32 termsHash, uint32 termsVersion) external;

    /// @notice Burns `shares` locked by requests the pool served (the pool only).
    function burnServed(uint256 shares) external;

    /// @notice The EIP-712 digest `provider` signs for the current terms at `signedAt`.
    function agreementDigest(address provider, uint64 signedAt) external view returns (bytes32);

    /// @notice The current terms: keccak256 of their canonical JSON, and their version.
    function agreementTerms() external view returns (bytes32 termsHash, uint32 termsVersion);

    /// @notice `provider`'s anchored agreement (all zero when none).
    function agreementOf(address provider) external view returns (Agreement memory);

    /// @notice True when `provider` anchored the current terms.
    function hasAgreement(address provider) external view returns (bool);

    /// @notice The class: 0 senior, 1 junior.
    function tranche() external view returns (uint8);

    /// @notice The capital pool this class belongs to.
    function pool() external view returns (address);
}
