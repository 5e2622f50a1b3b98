// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ICollateralToken} from "../collateral/ICollateralToken.sol";
import {ICapitalPool} from "../pool/ICapitalPool.sol";
import {IOracleRouter} from "../oracle/IOracleRouter.sol";
import {IKycRegistry} from "../identity/IKycRegistry.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {FixedPoint} from "../shared/FixedPoint.sol";
import {IMarginEngine} from "./IMarginEngine.sol";
import {MarginStorage} from "./MarginStorage.sol";
import {MarginLedger} from "./MarginLedger.sol";
import {MarginValuation} from "./MarginValuation.sol";
import {IPortfolioRisk} from "./IPortfolioRisk.sol";

/// @title MarginAdmin
/// @notice The MarginEngine's rarely used state changes, run in the engine's storage: the risk officer's setters
///         (asset listing, tier margins, engine parameters), the freeze mirror, the legal seizure and the
///         SETTLER's one-sided transfer between accounts. Access control
///         and the reentrancy guard stay in the engine; these functions validate, write, emit and move tokens.
/// @dev External library, linked into the engine and called by DELEGATECALL: it keeps rarely used code out of the
///      engine's 24,576-byte EIP-170 budget.
library MarginAdmin {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /// @notice Most securities the engine lists: bits 0–14 of a held mask (bit 15 of a frozen mask is the cash).
    uint256 internal constant MAX_ASSETS = 15;
    /// @dev Largest power of ten below 2**128: the bound an asset's value scale had as a uint128.
    uint256 private constant _MAX_SCALE_EXP = 38;

    /// @notice See IMarginEngine.configureAsset.
    function configureAsset(
        address cash,
        address asset,
        uint8 liquidityTier,
        uint64 haircut,
        uint64 liquidationPenalty,
        uint128 windowCap
    ) external {
        if (
            asset == address(0) ||
            asset == cash ||
            liquidityTier == 0 ||
            haircut >= FixedPoint.WAD ||
            liquidationPenalty >= FixedPoint.WAD ||
            windowCap == 0
        ) revert IMarginEngine.MarginInvalidAssetConfig(asset);
        MarginStorage.Layout storage $ = MarginStorage.layout();
        MarginStorage.AssetRecord storage cfg = $.assets[asset];
        if (!cfg.listed) {
            uint256 n = $.assetCount;
            if (n >= MAX_ASSETS) revert IMarginEngine.MarginTooManyAssets(n);
            uint256 assetDecimals = IERC20Metadata(asset).decimals();
            uint256 cashDecimals = IERC20Metadata(cash).decimals();
            // scale = 10**(assetDecimals + 18 − cashDecimals) must be a whole number that fits 128 bits.
            if (assetDecimals + 18 < cashDecimals || assetDecimals + 18 - cashDecimals > _MAX_SCALE_EXP) {
                revert IMarginEngine.MarginInvalidAssetConfig(asset);
            }
            cfg.listed = true;
            cfg.id = uint8(n);
            cfg.scaleExp = uint8(assetDecimals + 18 - cashDecimals);
            $.assetById[n] = asset;
            $.assetCount = n + 1;
        }
        cfg.liquidityTier = liquidityTier;
        address risk = $.portfolioRisk;
        cfg.option = risk != address(0) && IPortfolioRisk(risk).isOptionSeries(asset);
        cfg.haircut = haircut;
        cfg.liquidationPenalty = liquidationPenalty;
        if (cfg.windowCap != windowCap) {
            cfg.windowCap = windowCap;
            // A non-zero start keeps the window slot initialised, so the first seizure pays a cheap storage update.
            cfg.windowStart = uint64(block.timestamp);
            cfg.seizedInWindow = 0;
        }
        emit IMarginEngine.AssetConfigured(asset, liquidityTier, haircut, liquidationPenalty, windowCap);
    }

    /// @notice See IMarginEngine.setPortfolioRisk: sets the satellite and marks again which listed assets are its
    ///         option series (address(0): none is, every account is under the rule-based margin).
    function setPortfolioRisk(address risk) external {
        MarginStorage.Layout storage $ = MarginStorage.layout();
        $.portfolioRisk = risk;
        uint256 n = $.assetCount;
        for (uint256 id; id < n; ++id) {
            address asset = $.assetById[id];
            $.assets[asset].option = risk != address(0) && IPortfolioRisk(risk).isOptionSeries(asset);
        }
        emit IMarginEngine.PortfolioRiskSet(risk);
    }

    /// @notice See IMarginEngine.setTierRisk.
    function setTierRisk(uint8 tier, IMarginEngine.TierRisk calldata risk) external {
        uint256 step = MarginValuation.TIER_RISK_STEP;
        if (
            tier == 0 ||
            risk.floor > risk.cap ||
            uint256(risk.cap) + risk.initialBuffer > FixedPoint.WAD ||
            risk.liquidityAddOn > risk.cap ||
            risk.liquidityAddOn % step != 0 ||
            risk.volatilityMultiplier % step != 0 ||
            risk.floor % step != 0 ||
            risk.cap % step != 0 ||
            risk.initialBuffer % step != 0 ||
            risk.fixedVolatility % MarginStorage.FIXED_VOLATILITY_STEP != 0 ||
            risk.fixedVolatility > type(uint16).max * MarginStorage.FIXED_VOLATILITY_STEP
        ) revert IMarginEngine.MarginInvalidTierRisk(tier);
        // Each field is a uint64 multiple of the step: the quotient is below 2**64 / 1e9 < 2**48.
        MarginStorage.layout().tiers[tier] = MarginStorage.TierRecord(
            uint48(risk.liquidityAddOn / step),
            uint48(risk.volatilityMultiplier / step),
            uint48(risk.floor / step),
            uint48(risk.cap / step),
            uint48(risk.initialBuffer / step),
            uint16(risk.fixedVolatility / MarginStorage.FIXED_VOLATILITY_STEP)
        );
        emit IMarginEngine.TierRiskSet(tier, risk);
    }

    /// @notice See IMarginEngine.setParams. The insurance share owed is kept as it is.
    function setParams(IMarginEngine.Params memory p) external {
        if (
            p.warningBuffer > FixedPoint.WAD ||
            p.hardFloorFactor > FixedPoint.WAD ||
            p.targetBuffer > FixedPoint.WAD ||
            p.liquidatorShare > FixedPoint.WAD ||
            p.liquidationWindow == 0 ||
            p.gracePeriod == 0 ||
            p.dustValue > type(uint72).max
        ) revert IMarginEngine.MarginInvalidParams();
        MarginStorage.ParamsRecord storage r = MarginStorage.layout().params;
        r.warningBuffer = p.warningBuffer;
        r.hardFloorFactor = p.hardFloorFactor;
        r.targetBuffer = p.targetBuffer;
        r.liquidatorShare = p.liquidatorShare;
        r.gracePeriod = p.gracePeriod;
        r.oracleGrace = p.oracleGrace;
        r.liquidationWindow = p.liquidationWindow;
        // dustValue ≤ 2**72 − 1 was checked above.
        r.dustValue = uint72(p.dustValue);
        if (r.insuranceOwedPlusOne == 0) r.insuranceOwedPlusOne = 1;
        emit IMarginEngine.ParamsSet(p);
    }

    /// @notice See IMarginEngine.setBorrowingPaused.
    function setBorrowingPaused(address asset, bool paused) external {
        MarginStorage.AssetRecord storage cfg = MarginStorage.layout().assets[asset];
        if (!cfg.listed) revert IMarginEngine.MarginAssetNotListed(asset);
        cfg.borrowPaused = paused;
        emit IMarginEngine.BorrowingPaused(asset, paused);
    }

    /// @notice See IMarginEngine.freezeChanged: `msg.sender` is the token. Never reverts.
    function freezeChanged(address cash, address account, bool frozen) external {
        uint16 bit = _frozenBit(cash, msg.sender);
        if (bit != 0) _setFrozen(account, msg.sender, bit, frozen);
    }

    /// @notice See IMarginEngine.syncFrozen.
    function syncFrozen(address cash, address account, address asset) external {
        uint16 bit = _frozenBit(cash, asset);
        if (bit == 0) revert IMarginEngine.MarginAssetNotListed(asset);
        _setFrozen(account, asset, bit, ICollateralToken(asset).isFrozen(account));
    }

    /// @notice See IMarginEngine.legalSeize. A frozen balance counts for nothing in the account's margin, so taking
    ///         it changes no margin figure. Cash beyond the engine's own balance is released from its pool float.
    function legalSeize(
        address cash,
        address pool,
        address account,
        address asset,
        uint256 amount,
        address to,
        bytes32 orderRef
    ) external {
        if (amount == 0) revert IMarginEngine.MarginZeroAmount();
        if (orderRef == bytes32(0)) revert IMarginEngine.MarginLegalReferenceMissing();
        uint16 bit = _frozenBit(cash, asset);
        if (bit == 0) revert IMarginEngine.MarginAssetNotListed(asset);
        if (MarginStorage.layout().accounts[account].frozenMask & bit == 0) {
            revert IMarginEngine.MarginBalanceNotFrozen(account, asset);
        }
        MarginLedger.debitUnchecked(cash, account, asset, amount);
        emit IMarginEngine.LegalSeizure(account, asset, to, amount, orderRef);
        if (asset == cash) {
            uint256 own = IERC20(cash).balanceOf(address(this));
            if (own < amount) ICapitalPool(pool).release(amount - own, address(this));
        }
        IERC20(asset).safeTransfer(to, amount);
    }

    function _frozenBit(address cash, address asset) private view returns (uint16) {
        return MarginLedger.frozenBit(cash, asset);
    }

    function _setFrozen(address account, address asset, uint16 bit, bool frozen) private {
        MarginStorage.Account storage a = MarginStorage.layout().accounts[account];
        uint16 mask = a.frozenMask;
        uint16 next = frozen ? mask | bit : mask & ~bit;
        if (next == mask) return;
        a.frozenMask = next;
        emit IMarginEngine.FreezeSynced(account, asset, frozen);
    }

    /// @notice See IMarginEngine.transferBetweenAccounts.
    function transferBetweenAccounts(
        MarginStorage.Contracts calldata c,
        address from,
        address to,
        address asset,
        uint256 amount
    ) external {
        if (amount == 0) revert IMarginEngine.MarginZeroAmount();
        if (!IKycRegistry(c.kyc).isVerified(to)) revert IMarginEngine.MarginNotVerified(to);
        MarginLedger.debit(c.cash, from, asset, amount);
        MarginLedger.credit(c.cash, to, asset, amount);
        emit IMarginEngine.AccountTransfer(from, to, asset, amount);
        // A transfer gives nothing back: an indebted sender must still meet initial margin.
        if (MarginStorage.layout().accounts[from].scaledDebt > 0) {
            MarginValuation.requireInitialMargin(
                from,
                MarginValuation.valuateWithPortfolio(IOracleRouter(c.oracle), ICapitalPool(c.pool), from, 0),
                IKycRegistry(c.kyc).maxLeverageOf(from)
            );
        }
    }
}
