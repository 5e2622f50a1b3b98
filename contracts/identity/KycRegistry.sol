// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";
import {IKycRegistry} from "./IKycRegistry.sol";

/// @title KycRegistry
/// @notice On-chain half of KYC: tier, jurisdiction, expiry and a salted identity hash per address.
/// @dev Every write is `restricted`: the AccessManager decides who (KYC officer for identities, risk officer for
///      tier leverage, the latter with an execution delay so that capital providers see changes coming).
contract KycRegistry is IKycRegistry, AccessManaged {
    /// @notice Highest defined tier.
    uint8 public constant MAX_TIER = 5;
    /// @notice Highest leverage any tier may carry (18 decimals): 10x.
    uint256 public constant MAX_LEVERAGE = 10e18;

    /// @dev Storage form of Identity: slot 0 = tier | jurisdiction | expiresAt | revoked | registered | tag (the
    ///      identity tag, see identityTag), slot 1 = identityHash. Every read a margin path makes (verified,
    ///      leverage, tag) is in slot 0.
    struct Record {
        uint8 tier;
        uint16 jurisdiction;
        uint64 expiresAt;
        bool revoked;
        bool registered;
        uint24 tag;
        bytes32 identityHash;
    }

    mapping(address account => Record) private _identities;
    mapping(uint8 tier => uint256 maxLeverage) private _tierLeverage;

    /// @param authority the AccessManager governing this registry
    constructor(address authority) AccessManaged(authority) {}

    /// @inheritdoc IKycRegistry
    function setIdentity(
        address account,
        uint8 tier,
        uint16 jurisdiction,
        uint64 expiresAt,
        bytes32 identityHash
    ) external restricted {
        if (account == address(0)) revert KycInvalidAccount(account);
        if (tier == 0 || tier > MAX_TIER) revert KycInvalidTier(tier);
        if (expiresAt <= block.timestamp) revert KycExpiryNotInFuture(expiresAt, block.timestamp);
        if (identityHash == bytes32(0)) revert KycEmptyIdentityHash(account);
        _identities[account] = Record({
            tier: tier,
            jurisdiction: jurisdiction,
            expiresAt: expiresAt,
            revoked: false,
            registered: true,
            tag: identityTag(identityHash),
            identityHash: identityHash
        });
        emit IdentitySet(account, tier, jurisdiction, expiresAt, identityHash);
    }

    /// @inheritdoc IKycRegistry
    function revoke(address account, bytes32 reason) external restricted {
        Record storage identity = _identities[account];
        if (!identity.registered) revert KycNotRegistered(account);
        if (identity.revoked) revert KycAlreadyRevoked(account);
        identity.revoked = true;
        emit IdentityRevoked(account, reason);
    }

    /// @inheritdoc IKycRegistry
    function setTierLeverage(uint8 tier, uint256 maxLeverage) external restricted {
        if (tier == 0 || tier > MAX_TIER) revert KycInvalidTier(tier);
        if (maxLeverage < 1e18 || maxLeverage > MAX_LEVERAGE) revert KycInvalidLeverage(tier, maxLeverage);
        _tierLeverage[tier] = maxLeverage;
        emit TierLeverageSet(tier, maxLeverage);
    }

    /// @inheritdoc IKycRegistry
    function isVerified(address account) public view returns (bool) {
        Record storage identity = _identities[account];
        return identity.registered && !identity.revoked && block.timestamp < identity.expiresAt;
    }

    /// @inheritdoc IKycRegistry
    function verifiedTagOf(address account) external view returns (bool verified, uint24 tag) {
        Record storage identity = _identities[account];
        return (identity.registered && !identity.revoked && block.timestamp < identity.expiresAt, identity.tag);
    }

    /// @inheritdoc IKycRegistry
    function maxLeverageAndTagOf(address account) external view returns (uint256 maxLeverage, uint24 tag) {
        Record storage identity = _identities[account];
        tag = identity.tag;
        if (identity.registered && !identity.revoked && block.timestamp < identity.expiresAt) {
            maxLeverage = _tierLeverage[identity.tier];
        }
    }

    /// @inheritdoc IKycRegistry
    function identityTag(bytes32 identityHash) public pure returns (uint24) {
        return uint24(uint256(identityHash) >> 232) | 1;
    }

    /// @inheritdoc IKycRegistry
    function maxLeverageOf(address account) external view returns (uint256) {
        if (!isVerified(account)) return 0;
        return _tierLeverage[_identities[account].tier];
    }

    /// @inheritdoc IKycRegistry
    function identityOf(address account) external view returns (Identity memory) {
        Record storage r = _identities[account];
        return Identity(r.tier, r.jurisdiction, r.expiresAt, r.revoked, r.registered, r.identityHash);
    }

    /// @inheritdoc IKycRegistry
    function tierLeverage(uint8 tier) external view returns (uint256) {
        return _tierLeverage[tier];
    }
}
