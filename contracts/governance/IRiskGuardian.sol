// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {IMarginEngine} from "../margin/IMarginEngine.sol";
import {IOracleRouter} from "../oracle/IOracleRouter.sol";

/// @title IRiskGuardian
/// @notice Governance that tightens fast and loosens slowly. A guardian (the risk officer's on-call deputy, role
///         GUARDIAN) may tighten risk at once through this contract: raise margins and haircuts, lower leverage,
///         pause new risk on an asset, tighten the oracle's guards, re-arm a tripped breaker once the price is Safe.
///         Every function checks that each field moves only towards more safety, so a loosening cannot pass as a
///         tightening. Loosening anything (and reverting a tightening) goes through the risk officer's delayed
///         role, visible to capital providers before it executes.
/// @dev The contract holds RISK_OFFICER without delay in the AccessManager: it is the only path on which that role
///      acts at once, and it exposes only one-way changes. Each action emits RiskTightened with a reason code.
interface IRiskGuardian {
    /// @notice A tightening took effect at once. `action` names it (e.g. "tierRisk"), `change` ABI-encodes the new
    ///         values (and their key: tier or asset), `reason` is the guardian's reason code.
    event RiskTightened(address indexed target, bytes32 indexed action, bytes32 indexed reason, bytes change);

    /// @notice A field would move towards less safety (or nothing changes): `field` is its position in the call.
    error GuardianNotTighter(bytes32 action, uint256 field);
    /// @notice Every tightening needs a reason code.
    error GuardianReasonMissing();
    /// @notice A breaker is re-armed only when the price it guards is Safe again.
    error GuardianPriceNotSafe(address asset, IOracleRouter.PriceStatus status);

    /// @notice Raises a tier's margins: every field at least its current value, one of them higher.
    function tightenTierRisk(uint8 tier, IMarginEngine.TierRisk calldata risk, bytes32 reason) external;

    /// @notice Raises an asset's haircut (keeping its tier, penalty and seizure window).
    function tightenHaircut(address asset, uint64 haircut, bytes32 reason) external;

    /// @notice Raises the warning buffer, the hard line, the liquidation target, or shortens the margin-call grace
    ///         period (never to zero); the other parameters stay.
    function tightenParams(
        uint64 warningBuffer,
        uint64 hardFloorFactor,
        uint64 targetBuffer,
        uint32 gracePeriod,
        bytes32 reason
    ) external;

    /// @notice Pauses new risk on an asset (resuming is the risk officer's, with the delay).
    function pauseBorrowing(address asset, bytes32 reason) external;

    /// @notice Lowers a KYC tier's maximum leverage (never below 1×).
    function tightenLeverage(uint8 tier, uint256 maxLeverage, bytes32 reason) external;

    /// @notice Tightens an asset's oracle guards: shorter staleness, smaller deviation, a smaller (non-zero) move
    ///         limit; a breaker that was off (0) may be switched on.
    function tightenOracleGuards(
        address asset,
        uint32 maxStaleness,
        uint64 maxDeviation,
        uint64 maxMove,
        bytes32 reason
    ) external;

    /// @notice Re-arms a tripped circuit breaker (the router absorbs the pending rounds); refused unless the price
    ///         is Safe afterwards.
    function rearmBreaker(address asset, bytes32 reason) external;
}
