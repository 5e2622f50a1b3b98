// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {FixedPoint} from "../shared/FixedPoint.sol";
import {IOracleRouter} from "../oracle/IOracleRouter.sol";
import {ICapitalPool} from "../pool/ICapitalPool.sol";
import {IMarginEngine} from "./IMarginEngine.sol";
import {MarginMath} from "./MarginMath.sol";
import {MarginStorage} from "./MarginStorage.sol";
import {IPortfolioRisk} from "./IPortfolioRisk.sol";

/// @title MarginValuation
/// @notice How the engine values an account and classifies it, shared by the engine's own paths and its views.
/// @dev Internal library (inlined into each user). Valuation rule (docs/security.md, "Unsafe prices"):
///      a position counts at the router's price when Safe, at the session's last price when Closed (nothing trades
///      while a session is closed, and the last session price is the price of record), and at zero when its price
///      is otherwise unsafe (Stale, Deviating, CircuitBroken, Unset) or its balance is frozen: zero collateral and
///      zero requirement, which is never more favourable to the account than any positive price (haircut +
///      maintenance ≤ 100%). New risk (borrow, withdraw, trades that add risk) needs every held price Safe.
library MarginValuation {
    /// @dev Tier risk ratios are stored in steps of 1e-9 (this many units of an 18-decimal ratio).
    uint256 internal constant TIER_RISK_STEP = 1e9;

    /// @dev `index`: the pool's borrow index as of now when the caller already has it (0: ask the pool).
    function valuate(
        IOracleRouter oracle,
        ICapitalPool pool,
        address account,
        uint256 index
    ) internal view returns (MarginStorage.Valuation memory v) {
        MarginStorage.Layout storage $ = MarginStorage.layout();
        MarginStorage.Account memory a = $.accounts[account];
        if (a.frozenMask & MarginStorage.CASH_FROZEN == 0) v.cash = a.cash;
        else v.frozenCash = a.cash;
        v.scaled = a.scaledDebt;
        if (v.scaled > 0) {
            v.index = index == 0 ? pool.borrowIndex() : index;
            v.debt = MarginMath.debtOf(v.scaled, v.index);
        }
        v.allSafe = true;
        uint256 mask = a.heldMask;
        uint256 n = _popcount(mask);
        v.positions = new MarginStorage.Position[](n);
        if (n == 0) return v;
        address[] memory assets = new address[](n);
        uint256 k;
        for (uint256 id; mask != 0; ++id) {
            if (mask & 1 == 1) assets[k++] = $.assetById[id];
            mask >>= 1;
        }
        // One router call for every held asset: price, status, safeSince and volatility from one evaluation each.
        IOracleRouter.Quote[] memory quotes = oracle.quotes(assets);
        for (uint256 i; i < n; ++i) {
            MarginStorage.Position memory pos = _position($, account, assets[i], quotes[i], a.frozenMask, v);
            v.positions[i] = pos;
            v.positionValue += pos.value;
            pos.collateral = MarginMath.mulDown(pos.value, FixedPoint.WAD - pos.haircut);
            pos.maintenanceAmount = MarginMath.mulUp(pos.value, pos.maintenance);
            v.collateralValue += pos.collateral;
            v.maintenanceReq += pos.maintenanceAmount;
            v.initialReq += MarginMath.mulUp(pos.value, pos.initial);
        }
        // An account in its fixed term: every tier's margins at the tier's fixed volatility, not the market's.
        if (block.timestamp / 1 days < a.fixedUntilDay) _applyFixedTerm(v);
    }

    /// @dev `valuate`, and for an account holding an option series the portfolio-margin satellite's margins when the
    ///      account opted in (IPortfolioRisk). Every path values accounts with it; the engine's own code runs the
    ///      rule's `valuate` inline and, for an account holding a series, this one in its linked MarginAccounts.
    function valuateWithPortfolio(
        IOracleRouter oracle,
        ICapitalPool pool,
        address account,
        uint256 index
    ) internal view returns (MarginStorage.Valuation memory v) {
        v = valuate(oracle, pool, account, index);
        if (v.optionHeld) _applyPortfolio(MarginStorage.layout().portfolioRisk, account, v);
    }

    /// @dev The margins of a tier at a volatility: (maintenance, initial), 18 decimals.
    function margins(uint8 tier, uint256 volatility) internal view returns (uint256, uint256) {
        return _margins(MarginStorage.layout().tiers[tier], volatility);
    }

    /// @dev The margins of a tier for an account in its fixed term: at the tier's fixedVolatility.
    function fixedMargins(uint8 tier) internal view returns (uint256, uint256) {
        MarginStorage.TierRecord storage t = MarginStorage.layout().tiers[tier];
        return _margins(t, t.fixedVolatility * MarginStorage.FIXED_VOLATILITY_STEP);
    }

    /// @dev Reads the tier's ratios from its one storage slot (no copy of the record to memory).
    function _margins(MarginStorage.TierRecord storage t, uint256 volatility) private view returns (uint256, uint256) {
        return
            MarginMath.margins(
                t.liquidityAddOn * TIER_RISK_STEP,
                t.volatilityMultiplier * TIER_RISK_STEP,
                t.floor * TIER_RISK_STEP,
                t.cap * TIER_RISK_STEP,
                t.initialBuffer * TIER_RISK_STEP,
                volatility
            );
    }

    function equity(MarginStorage.Valuation memory v) internal pure returns (int256) {
        return MarginMath.equity(v.cash, v.collateralValue, v.debt);
    }

    /// @dev The deadline of the account's margin call if its episode is still running (0: none, or lapsed because
    ///      no evaluation saw the account below maintenance for a whole grace period).
    function liveDeadline(address account, uint256 gracePeriod) internal view returns (uint256) {
        MarginStorage.Call storage c = MarginStorage.layout().calls[account];
        if (c.deadline == 0 || block.timestamp > uint256(c.seenAt) + gracePeriod) return 0;
        return c.deadline;
    }

    /// @dev The state the valuation puts the account in. Defaulted needs every position priced: with a position
    ///      counted at zero the account may still be solvent, so it is at most Liquidatable (partial, to target).
    function classify(
        address account,
        MarginStorage.Valuation memory v
    ) internal view returns (IMarginEngine.AccountState) {
        if (v.debt == 0) return IMarginEngine.AccountState.Healthy;
        if (!v.unpriced && v.debt > v.cash + v.positionValue) return IMarginEngine.AccountState.Defaulted;
        int256 eq = equity(v);
        MarginStorage.ParamsRecord storage p = MarginStorage.layout().params;
        if (eq < SafeCast.toInt256(MarginMath.mulDown(v.maintenanceReq, p.hardFloorFactor))) {
            return IMarginEngine.AccountState.Liquidatable;
        }
        if (eq < SafeCast.toInt256(v.maintenanceReq)) {
            uint256 deadline = liveDeadline(account, p.gracePeriod);
            return
                deadline != 0 && block.timestamp >= deadline
                    ? IMarginEngine.AccountState.Liquidatable
                    : IMarginEngine.AccountState.MarginCall;
        }
        if (eq < SafeCast.toInt256(v.maintenanceReq + MarginMath.mulUp(v.positionValue, p.warningBuffer))) {
            return IMarginEngine.AccountState.Warning;
        }
        return IMarginEngine.AccountState.Healthy;
    }

    /// @dev Records the state: starts a margin call when below maintenance (or restarts one whose episode lapsed),
    ///      notes that the call was seen, cures it when back above, and emits every transition. Unsafe and frozen
    ///      positions count at zero here (MarginValuation), so no price status keeps the clock from starting.
    function refresh(
        address account,
        MarginStorage.Valuation memory v
    ) internal returns (IMarginEngine.AccountState s) {
        MarginStorage.Layout storage $ = MarginStorage.layout();
        MarginStorage.Account storage a = $.accounts[account];
        IMarginEngine.AccountState before = a.state;
        int256 eq = equity(v);
        if (v.debt > 0 && eq < SafeCast.toInt256(v.maintenanceReq)) {
            MarginStorage.Call storage c = $.calls[account];
            uint256 grace = $.params.gracePeriod;
            uint40 deadline = c.deadline;
            if (deadline == 0 || block.timestamp > uint256(c.seenAt) + grace) {
                deadline = uint40(block.timestamp + grace);
                c.deadline = deadline;
                c.seenAt = uint40(block.timestamp);
                emit IMarginEngine.MarginCalled(account, deadline, eq, v.maintenanceReq);
            } else if (c.seenAt != block.timestamp) {
                c.seenAt = uint40(block.timestamp);
            }
        } else if (before >= IMarginEngine.AccountState.MarginCall && $.calls[account].deadline != 0) {
            // A recorded call implies a recorded state of MarginCall or worse: healthier accounts skip this read.
            delete $.calls[account];
            emit IMarginEngine.MarginCallCured(account);
        }
        s = classify(account, v);
        if (s != before) {
            a.state = s;
            emit IMarginEngine.AccountStateChanged(account, before, s, eq, v.maintenanceReq);
        }
    }

    /// @dev New risk: no held asset paused for new risk, every held price Safe, equity ≥ initial requirement and
    ///      exposure within the tier's leverage.
    function requireInitialMargin(
        address account,
        MarginStorage.Valuation memory v,
        uint256 maxLeverage
    ) internal pure {
        if (v.pausedAsset != address(0)) revert IMarginEngine.MarginBorrowingPaused(v.pausedAsset);
        if (!v.allSafe) revert IMarginEngine.MarginPriceUnsafe(v.unsafeAsset, v.unsafeStatus);
        int256 eq = equity(v);
        if (eq < SafeCast.toInt256(v.initialReq)) {
            revert IMarginEngine.MarginInitialMarginBreached(account, eq, v.initialReq);
        }
        if (!withinLeverage(v, eq, maxLeverage)) {
            revert IMarginEngine.MarginLeverageExceeded(account, v.cash + v.positionValue, eq, maxLeverage);
        }
    }

    /// @dev requireInitialMargin as a boolean.
    function meetsInitialMargin(MarginStorage.Valuation memory v, uint256 maxLeverage) internal pure returns (bool) {
        if (!v.allSafe || v.pausedAsset != address(0)) return false;
        int256 eq = equity(v);
        return eq >= SafeCast.toInt256(v.initialReq) && withinLeverage(v, eq, maxLeverage);
    }

    /// @dev Gross exposure (cash + positions) ≤ the owner's tier leverage · equity.
    function withinLeverage(
        MarginStorage.Valuation memory v,
        int256 eq,
        uint256 maxLeverage
    ) internal pure returns (bool) {
        if (eq <= 0) return false;
        return (v.cash + v.positionValue) * FixedPoint.WAD <= maxLeverage * uint256(eq);
    }

    /// @dev No position is liquidated at a penalty above `cap`, the one the account's agreement states.
    function capPenalties(MarginStorage.Valuation memory v, uint256 cap) internal pure {
        for (uint256 i; i < v.positions.length; ++i) {
            if (v.positions[i].penalty > cap) v.positions[i].penalty = cap;
        }
    }

    /// @dev Units of the asset liquidations may still seize in the current window.
    function windowRemaining(MarginStorage.AssetRecord storage cfg, uint256 window) internal view returns (uint256) {
        if (block.timestamp >= cfg.windowStart + window) return cfg.windowCap;
        return cfg.windowCap - cfg.seizedInWindow;
    }

    function _position(
        MarginStorage.Layout storage $,
        address account,
        address asset,
        IOracleRouter.Quote memory q,
        uint16 frozenMask,
        MarginStorage.Valuation memory v
    ) private view returns (MarginStorage.Position memory pos) {
        MarginStorage.AssetRecord storage cfg = $.assets[asset];
        pos.asset = asset;
        pos.balance = $.balances[account][asset];
        pos.tier = cfg.liquidityTier;
        pos.rank = cfg.liquidityTier;
        if (cfg.option) {
            pos.option = true;
            v.optionHeld = true;
        }
        pos.haircut = cfg.haircut;
        pos.penalty = cfg.liquidationPenalty;
        pos.scale = uint256(10) ** cfg.scaleExp;
        pos.status = q.status;
        bool frozen = frozenMask & (uint16(1) << cfg.id) != 0;
        if (frozen || (q.status != IOracleRouter.PriceStatus.Safe && q.status != IOracleRouter.PriceStatus.Closed)) {
            // Counted at zero (no collateral, no requirement) and never seized by a liquidation.
            v.unpriced = true;
        } else {
            pos.price = q.price;
            pos.safeSince = q.safeSince;
            pos.value = MarginMath.valueOf(pos.balance, pos.price, pos.scale);
            (pos.maintenance, pos.initial) = margins(pos.tier, q.volatility);
        }
        if (!frozen && cfg.borrowPaused) v.pausedAsset = asset;
        // A frozen balance counts for nothing whatever its price, so its price never blocks new risk.
        if (!frozen && q.status != IOracleRouter.PriceStatus.Safe && v.allSafe) {
            v.allSafe = false;
            v.unsafeAsset = asset;
            v.unsafeStatus = q.status;
        }
    }

    /// @dev Re-margins a valued account in its fixed term: each priced position at its tier's fixed margins, and the
    ///      requirements summed again. Only fixed accounts pay for it.
    function _applyFixedTerm(MarginStorage.Valuation memory v) private view {
        v.maintenanceReq = 0;
        v.initialReq = 0;
        for (uint256 i; i < v.positions.length; ++i) {
            MarginStorage.Position memory pos = v.positions[i];
            if (pos.value == 0) continue;
            (pos.maintenance, pos.initial) = fixedMargins(pos.tier);
            pos.maintenanceAmount = MarginMath.mulUp(pos.value, pos.maintenance);
            v.maintenanceReq += pos.maintenanceAmount;
            v.initialReq += MarginMath.mulUp(pos.value, pos.initial);
        }
    }

    /// @dev Portfolio margin (IPortfolioRisk): when the satellite applies to the account, every position takes the
    ///      satellite's maintenance, initial and rank, and the requirements are summed again. The satellite is a
    ///      system contract set by the risk officer; it never reverts for a group it cannot value (that group keeps
    ///      the rule's margins), so no account's valuation depends on a grid that cannot be computed.
    function _applyPortfolio(address risk, address account, MarginStorage.Valuation memory v) private view {
        if (risk == address(0)) return;
        uint256 n = v.positions.length;
        IPortfolioRisk.Holding[] memory holdings = new IPortfolioRisk.Holding[](n);
        for (uint256 i; i < n; ++i) {
            MarginStorage.Position memory pos = v.positions[i];
            holdings[i] = IPortfolioRisk.Holding(
                pos.asset,
                pos.balance,
                pos.price,
                pos.value,
                pos.maintenance,
                pos.initial,
                pos.option
            );
        }
        (bool applied, IPortfolioRisk.Margin[] memory m) = IPortfolioRisk(risk).margins(account, holdings);
        if (!applied) return;
        v.maintenanceReq = 0;
        v.initialReq = 0;
        for (uint256 i; i < n; ++i) {
            MarginStorage.Position memory pos = v.positions[i];
            (pos.maintenance, pos.initial, pos.rank) = (m[i].maintenance, m[i].initial, m[i].rank);
            pos.maintenanceAmount = MarginMath.mulUp(pos.value, pos.maintenance);
            v.maintenanceReq += pos.maintenanceAmount;
            v.initialReq += MarginMath.mulUp(pos.value, pos.initial);
        }
    }

    function _popcount(uint256 x) private pure returns (uint256 n) {
        for (; x != 0; x &= x - 1) ++n;
    }
}
