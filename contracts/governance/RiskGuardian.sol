// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";
import {FixedPoint} from "../shared/FixedPoint.sol";
import {IKycRegistry} from "../identity/IKycRegistry.sol";
import {IMarginEngine} from "../margin/IMarginEngine.sol";
import {IOracleRouter} from "../oracle/IOracleRouter.sol";
import {IRiskGuardian} from "./IRiskGuardian.sol";

/// @title RiskGuardian
/// @notice See IRiskGuardian. Trust: the guardian can only make the system stricter; the worst it can do is stop new
///         borrowing or raise margins (which the risk officer undoes after the delay). It can never loosen anything.
contract RiskGuardian is IRiskGuardian, AccessManaged {
    IMarginEngine private immutable _engine;
    IOracleRouter private immutable _router;
    IKycRegistry private immutable _kyc;

    /// @param authority the AccessManager (GUARDIAN calls this contract; it holds RISK_OFFICER without delay)
    constructor(
        address authority,
        IMarginEngine engine_,
        IOracleRouter router_,
        IKycRegistry kyc_
    ) AccessManaged(authority) {
        _engine = engine_;
        _router = router_;
        _kyc = kyc_;
    }

    /// @inheritdoc IRiskGuardian
    function tightenTierRisk(uint8 tier, IMarginEngine.TierRisk calldata risk, bytes32 reason) external restricted {
        _requireReason(reason);
        IMarginEngine.TierRisk memory cur = _engine.tierRisk(tier);
        bytes32 action = "tierRisk";
        _atLeast(action, 0, risk.liquidityAddOn, cur.liquidityAddOn);
        _atLeast(action, 1, risk.volatilityMultiplier, cur.volatilityMultiplier);
        _atLeast(action, 2, risk.floor, cur.floor);
        _atLeast(action, 3, risk.cap, cur.cap);
        _atLeast(action, 4, risk.initialBuffer, cur.initialBuffer);
        _atLeast(action, 5, risk.fixedVolatility, cur.fixedVolatility);
        if (
            risk.liquidityAddOn == cur.liquidityAddOn &&
            risk.volatilityMultiplier == cur.volatilityMultiplier &&
            risk.floor == cur.floor &&
            risk.cap == cur.cap &&
            risk.initialBuffer == cur.initialBuffer &&
            risk.fixedVolatility == cur.fixedVolatility
        ) revert GuardianNotTighter(action, type(uint256).max);
        _engine.setTierRisk(tier, risk);
        emit RiskTightened(address(_engine), action, reason, abi.encode(tier, risk));
    }

    /// @inheritdoc IRiskGuardian
    function tightenHaircut(address asset, uint64 haircut, bytes32 reason) external restricted {
        _requireReason(reason);
        IMarginEngine.AssetConfig memory cfg = _engine.assetConfig(asset);
        if (!cfg.listed || haircut <= cfg.haircut) revert GuardianNotTighter("haircut", 0);
        _engine.configureAsset(asset, cfg.liquidityTier, haircut, cfg.liquidationPenalty, cfg.windowCap);
        emit RiskTightened(address(_engine), "haircut", reason, abi.encode(asset, haircut));
    }

    /// @inheritdoc IRiskGuardian
    function tightenParams(
        uint64 warningBuffer,
        uint64 hardFloorFactor,
        uint64 targetBuffer,
        uint32 gracePeriod,
        bytes32 reason
    ) external restricted {
        _requireReason(reason);
        IMarginEngine.Params memory p = _engine.params();
        bytes32 action = "params";
        _atLeast(action, 0, warningBuffer, p.warningBuffer);
        _atLeast(action, 1, hardFloorFactor, p.hardFloorFactor);
        _atLeast(action, 2, targetBuffer, p.targetBuffer);
        if (gracePeriod == 0 || gracePeriod > p.gracePeriod) revert GuardianNotTighter(action, 3);
        if (
            warningBuffer == p.warningBuffer &&
            hardFloorFactor == p.hardFloorFactor &&
            targetBuffer == p.targetBuffer &&
            gracePeriod == p.gracePeriod
        ) revert GuardianNotTighter(action, type(uint256).max);
        p.warningBuffer = warningBuffer;
        p.hardFloorFactor = hardFloorFactor;
        p.targetBuffer = targetBuffer;
        p.gracePeriod = gracePeriod;
        _engine.setParams(p);
        emit RiskTightened(
            address(_engine),
            action,
            reason,
            abi.encode(warningBuffer, hardFloorFactor, targetBuffer, gracePeriod)
        );
    }

    /// @inheritdoc IRiskGuardian
    function pauseBorrowing(address asset, bytes32 reason) external restricted {
        _requireReason(reason);
        if (_engine.borrowingPaused(asset)) revert GuardianNotTighter("pauseBorrowing", 0);
        _engine.setBorrowingPaused(asset, true);
        emit RiskTightened(address(_engine), "pauseBorrowing", reason, abi.encode(asset));
    }

    /// @inheritdoc IRiskGuardian
    function tightenLeverage(uint8 tier, uint256 maxLeverage, bytes32 reason) external restricted {
        _requireReason(reason);
        if (maxLeverage >= _kyc.tierLeverage(tier) || maxLeverage < FixedPoint.WAD) {
            revert GuardianNotTighter("leverage", 0);
        }
        _kyc.setTierLeverage(tier, maxLeverage);
        emit RiskTightened(address(_kyc), "leverage", reason, abi.encode(tier, maxLeverage));
    }

    /// @inheritdoc IRiskGuardian
    function tightenOracleGuards(
        address asset,
        uint32 maxStaleness,
        uint64 maxDeviation,
        uint64 maxMove,
        bytes32 reason
    ) external restricted {
        _requireReason(reason);
        IOracleRouter.AssetParams memory p = _router.assetParams(asset);
        bytes32 action = "oracleGuards";
        if (maxStaleness == 0 || maxStaleness > p.maxStaleness) revert GuardianNotTighter(action, 0);
        if (maxDeviation > p.maxDeviation) revert GuardianNotTighter(action, 1);
        // maxMove 0 switches the breaker off: the loosest value. A tighter limit is non-zero and no larger.
        if (maxMove == 0 || (p.maxMove != 0 && maxMove > p.maxMove)) revert GuardianNotTighter(action, 2);
        if (maxStaleness == p.maxStaleness && maxDeviation == p.maxDeviation && maxMove == p.maxMove) {
            revert GuardianNotTighter(action, type(uint256).max);
        }
        _router.setGuards(asset, maxStaleness, maxDeviation, maxMove);
        emit RiskTightened(address(_router), action, reason, abi.encode(asset, maxStaleness, maxDeviation, maxMove));
    }

    /// @inheritdoc IRiskGuardian
    function rearmBreaker(address asset, bytes32 reason) external restricted {
        _requireReason(reason);
        _router.resetCircuitBreaker(asset);
        (, IOracleRouter.PriceStatus status, ) = _router.getPrice(asset);
        if (status != IOracleRouter.PriceStatus.Safe) revert GuardianPriceNotSafe(asset, status);
        emit RiskTightened(address(_router), "rearmBreaker", reason, abi.encode(asset));
    }

    /// @notice The contracts this guardian tightens.
    function targets() external view returns (IMarginEngine engine, IOracleRouter router, IKycRegistry kyc) {
        return (_engine, _router, _kyc);
    }

    function _atLeast(bytes32 action, uint256 field, uint256 next, uint256 current) private pure {
        if (next < current) revert GuardianNotTighter(action, field);
    }

    function _requireReason(bytes32 reason) private pure {
        if (reason == bytes32(0)) revert GuardianReasonMissing();
    }
}
