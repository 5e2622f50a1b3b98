// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

/// @title IKycRegistry
/// @notice Who may hold MarginBridge collateral and at what leverage. Only a salted hash of the off-chain
///         identity record is stored; personal data never reaches the chain.
/// @dev An identity is verified while it exists, is not revoked and `block.timestamp < expiresAt`.
///      Revocation and expiry take effect in the same block.
interface IKycRegistry {
    /// @notice One registered identity. Stored as slot 0 = tier (8) | jurisdiction (16) | expiresAt (64) |
    ///         revoked (8) | registered (8) | identity tag (24); slot 1 = identityHash. One person has one
    ///         identity hash across all of its addresses (the service derives the salt from the person's document).
    struct Identity {
        uint8 tier;
        uint16 jurisdiction;
        uint64 expiresAt;
        bool revoked;
        bool registered;
        bytes32 identityHash;
    }

    /// @notice The zero address, or another unusable address, was given as an account.
    error KycInvalidAccount(address account);
    /// @notice Tier 0 means "no tier" and tiers above MAX_TIER are not defined.
    error KycInvalidTier(uint8 tier);
    /// @notice The expiry is not in the future.
    error KycExpiryNotInFuture(uint64 expiresAt, uint256 nowTimestamp);
    /// @notice The identity hash is zero.
    error KycEmptyIdentityHash(address account);
    /// @notice The account has never been registered.
    error KycNotRegistered(address account);
    /// @notice The account's identity is already revoked.
    error KycAlreadyRevoked(address account);
    /// @notice A tier's maximum leverage must be at least 1x (1e18) and at most MAX_LEVERAGE.
    error KycInvalidLeverage(uint8 tier, uint256 maxLeverage);

    /// @notice An identity was registered or updated.
    event IdentitySet(
        address indexed account,
        uint8 indexed tier,
        uint16 jurisdiction,
        uint64 expiresAt,
        bytes32 identityHash
    );
    /// @notice An identity was revoked; it stops being verified in this block.
    event IdentityRevoked(address indexed account, bytes32 reason);
    /// @notice The maximum leverage of a tier changed (18-decimal multiple, 2e18 = 2x).
    event TierLeverageSet(uint8 indexed tier, uint256 maxLeverage);

    /// @notice Registers or updates an identity (KYC officer). Re-registering a revoked account re-approves it.
    /// @param account the holder's address
    /// @param tier 1..MAX_TIER; caps the account's leverage
    /// @param jurisdiction ISO 3166-1 numeric country code (e.g. 156 for China)
    /// @param expiresAt unix seconds; must be in the future
    /// @param identityHash keccak256 of the salted off-chain identity record (never personal data)
    function setIdentity(
        address account,
        uint8 tier,
        uint16 jurisdiction,
        uint64 expiresAt,
        bytes32 identityHash
    ) external;

    /// @notice Revokes an identity at once (KYC officer). `reason` is an off-chain case reference.
    function revoke(address account, bytes32 reason) external;

    /// @notice Sets the maximum leverage of a tier (risk officer, behind the AccessManager's execution delay).
    /// @param maxLeverage 18-decimal multiple of own funds, between 1e18 and MAX_LEVERAGE
    function setTierLeverage(uint8 tier, uint256 maxLeverage) external;

    /// @notice True while the account is registered, not revoked and not expired.
    function isVerified(address account) external view returns (bool);

    /// @notice Whether `account` is verified, and its identity tag (0 when never registered).
    function verifiedTagOf(address account) external view returns (bool verified, uint24 tag);

    /// @notice maxLeverageOf and the identity tag in one read (what the margin engine's borrow takes).
    function maxLeverageAndTagOf(address account) external view returns (uint256 maxLeverage, uint24 tag);

    /// @notice The identity tag of an identity hash: its top 23 bits with the lowest bit set (never 0). Addresses
    ///         of one identity share a tag. The margin engine refuses a liquidator whose tag equals the tag the
    ///         account's owner borrowed under: two identities whose tags collide (one pair in 2**23) only lose the
    ///         right to liquidate each other; one person's addresses can never pass for two.
    function identityTag(bytes32 identityHash) external pure returns (uint24);

    /// @notice The account's maximum leverage (18 decimals), or 0 when it is not verified.
    function maxLeverageOf(address account) external view returns (uint256);

    /// @notice The stored identity record of an account (all zero when never registered).
    function identityOf(address account) external view returns (Identity memory);

    /// @notice The maximum leverage of a tier (18 decimals); 0 for an unset tier.
    function tierLeverage(uint8 tier) external view returns (uint256);
}
