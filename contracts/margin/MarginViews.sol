// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {FixedPoint} from "../shared/FixedPoint.sol";
import {IOracleRouter} from "../oracle/IOracleRouter.sol";
import {ICapitalPool} from "../pool/ICapitalPool.sol";
import {IMarginEngine} from "./IMarginEngine.sol";
import {MarginMath} from "./MarginMath.sol";
import {MarginStorage} from "./MarginStorage.sol";
import {MarginValuation} from "./MarginValuation.sol";

/// @title MarginViews
/// @notice The MarginEngine's read-only views, computed from the engine's storage with the same valuation code as
///         its state-changing paths (MarginValuation), so that what a dashboard shows is what the engine enforces.
/// @dev External library, linked into the engine and called by DELEGATECALL (static in a view): it keeps the views'
///      code out of the engine's EIP-170 budget. Each function returns its answer ABI-encoded (`bytes`), which the
///      engine returns as it is: decoding and re-encoding every struct in the engine would cost more code than the
///      views themselves.
library MarginViews {
    /// @notice See IMarginEngine.accountView (ABI-encoded AccountView).
    function accountView(address oracle, address pool, address account) external view returns (bytes memory) {
        return abi.encode(_accountView(IOracleRouter(oracle), ICapitalPool(pool), account));
    }

    /// @notice See IMarginEngine.accountState (ABI-encoded AccountState).
    function accountState(address oracle, address pool, address account) external view returns (bytes memory) {
        MarginStorage.Valuation memory v = MarginValuation.valuateWithPortfolio(
            IOracleRouter(oracle),
            ICapitalPool(pool),
            account,
            0
        );
        return abi.encode(MarginValuation.classify(account, v));
    }

    /// @notice See IMarginEngine.assetMargins (ABI-encoded maintenance, initial, volatility).
    function assetMargins(address oracle, address asset) external view returns (bytes memory) {
        MarginStorage.AssetRecord storage cfg = MarginStorage.layout().assets[asset];
        if (!cfg.listed) revert IMarginEngine.MarginAssetNotListed(asset);
        uint256 volatility = IOracleRouter(oracle).volatility(asset);
        (uint256 maintenance, uint256 initial) = MarginValuation.margins(cfg.liquidityTier, volatility);
        return abi.encode(maintenance, initial, volatility);
    }

    /// @notice See IMarginEngine.assetConfig (ABI-encoded AssetConfig).
    function assetConfig(address asset) external view returns (bytes memory) {
        MarginStorage.AssetRecord memory r = MarginStorage.layout().assets[asset];
        IMarginEngine.AssetConfig memory c;
        c.listed = r.listed;
        c.liquidityTier = r.liquidityTier;
        c.id = r.id;
        c.haircut = r.haircut;
        c.liquidationPenalty = r.liquidationPenalty;
        if (r.listed) c.scale = uint128(uint256(10) ** r.scaleExp);
        c.windowCap = r.windowCap;
        c.windowStart = r.windowStart;
        c.seizedInWindow = r.seizedInWindow;
        return abi.encode(c);
    }

    /// @notice See IMarginEngine.tierRisk (ABI-encoded TierRisk).
    function tierRisk(uint8 tier) external view returns (bytes memory) {
        MarginStorage.TierRecord memory t = MarginStorage.layout().tiers[tier];
        uint256 step = MarginValuation.TIER_RISK_STEP;
        IMarginEngine.TierRisk memory r = IMarginEngine.TierRisk(
            uint64(t.liquidityAddOn * step),
            uint64(t.volatilityMultiplier * step),
            uint64(t.floor * step),
            uint64(t.cap * step),
            uint64(t.initialBuffer * step),
            uint64(t.fixedVolatility * MarginStorage.FIXED_VOLATILITY_STEP)
        );
        return abi.encode(r);
    }

    /// @notice See IMarginEngine.params (ABI-encoded Params).
    function params() external view returns (bytes memory) {
        MarginStorage.ParamsRecord memory r = MarginStorage.layout().params;
        IMarginEngine.Params memory p = IMarginEngine.Params(
            r.warningBuffer,
            r.hardFloorFactor,
            r.targetBuffer,
            r.liquidatorShare,
            r.gracePeriod,
            r.oracleGrace,
            r.liquidationWindow,
            r.dustValue
        );
        return abi.encode(p);
    }

    /// @notice See IMarginEngine.listedAssets (ABI-encoded address[]).
    function listedAssets() external view returns (bytes memory) {
        MarginStorage.Layout storage $ = MarginStorage.layout();
        uint256 n = $.assetCount;
        address[] memory list = new address[](n);
        for (uint256 id; id < n; ++id) list[id] = $.assetById[id];
        return abi.encode(list);
    }

    /// @notice See IMarginEngine.seizableInWindow (ABI-encoded uint256).
    function seizableInWindow(address asset) external view returns (bytes memory) {
        MarginStorage.Layout storage $ = MarginStorage.layout();
        return abi.encode(MarginValuation.windowRemaining($.assets[asset], $.params.liquidationWindow));
    }

    /// @notice See IMarginEngine.recordedState (ABI-encoded state, deadline, seenAt).
    function recordedState(address account) external view returns (bytes memory) {
        MarginStorage.Layout storage $ = MarginStorage.layout();
        MarginStorage.Call memory c = $.calls[account];
        MarginStorage.Account storage a = $.accounts[account];
        return abi.encode(a.state, uint64(c.deadline), uint64(c.seenAt), a.fixedUntilDay);
    }

    function _accountView(
        IOracleRouter oracle,
        ICapitalPool pool,
        address account
    ) private view returns (IMarginEngine.AccountView memory r) {
        MarginStorage.Valuation memory v = MarginValuation.valuateWithPortfolio(oracle, pool, account, 0);
        MarginStorage.Layout storage $ = MarginStorage.layout();
        MarginStorage.ParamsRecord storage p = $.params;
        r.cash = v.cash;
        r.debt = v.debt;
        r.positionValue = v.positionValue;
        r.collateralValue = v.collateralValue;
        r.equity = MarginValuation.equity(v);
        r.marginRatio = MarginMath.marginRatio(r.equity, v.positionValue);
        r.maintenanceReq = v.maintenanceReq;
        r.initialReq = v.initialReq;
        r.warningLine = v.maintenanceReq + MarginMath.mulUp(v.positionValue, p.warningBuffer);
        r.hardLine = MarginMath.mulDown(v.maintenanceReq, p.hardFloorFactor);
        r.callDeadline = uint64(MarginValuation.liveDeadline(account, p.gracePeriod));
        r.state = MarginValuation.classify(account, v);
        r.liquidationReturn = MarginMath.liquidationReturn(v.cash, v.debt, v.collateralValue, v.maintenanceReq);
        r.pricesSafe = v.allSafe;
        r.frozenCash = v.frozenCash;
        r.frozenMask = $.accounts[account].frozenMask;
        if (v.positions.length == 1 && v.debt > v.cash && v.positions[0].price != 0) {
            MarginStorage.Position memory pos = v.positions[0];
            uint256 margin = pos.haircut + pos.maintenance;
            r.liquidationPrice =
                margin >= FixedPoint.WAD
                    ? type(uint256).max
                    : Math.mulDiv(
                        v.debt - v.cash,
                        pos.scale * FixedPoint.WAD,
                        pos.balance * (FixedPoint.WAD - margin),
                        Math.Rounding.Ceil
                    );
        }
    }
}
