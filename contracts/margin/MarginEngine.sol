// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {FixedPoint} from "../shared/FixedPoint.sol";
import {IKycRegistry} from "../identity/IKycRegistry.sol";
import {IOracleRouter} from "../oracle/IOracleRouter.sol";
import {ICapitalPool} from "../pool/ICapitalPool.sol";
import {IInsuranceFund} from "../pool/IInsuranceFund.sol";
import {IMarginEngine} from "./IMarginEngine.sol";
import {MarginMath} from "./MarginMath.sol";
import {MarginStorage} from "./MarginStorage.sol";
import {MarginValuation} from "./MarginValuation.sol";
import {MarginAdmin} from "./MarginAdmin.sol";
import {MarginViews} from "./MarginViews.sol";
import {MarginLedger} from "./MarginLedger.sol";
import {MarginSettlement} from "./MarginSettlement.sol";
import {MarginAccounts} from "./MarginAccounts.sol";
import {IAgreementBinding} from "../settlement/IAgreementBinding.sol";

/// @title MarginEngine
/// @notice See IMarginEngine. Trust: the oracle router is trusted for prices and volatility; the pool and the
///         insurance fund are trusted system contracts; listed assets must be plain ERC-20s (no fee on transfer,
///         no callbacks) — the CollateralTokens are. Risk parameters change only through the AccessManager.
///         Custody of cash: what accounts borrow stays in the pool as the engine's float (`CapitalPool.floatHeld`)
///         until it leaves the margin system; the engine's own cash balance plus that float equals its accounts'
///         cash plus the insurance share owed. Borrowing and repaying move no token; a withdrawal or a payment to
///         the insurance fund that the engine's own balance cannot cover releases the difference from the float.
/// @dev Every state-changing function: validate → value the account → write balances/debt and emit → check margin
///      on the new state → external token/pool calls last. The pool's borrow is the one call made before the
///      check, because it returns the scaled debt; any failing check reverts it with the rest.
///      State lives in MarginStorage (ERC-7201); the risk officer's setters and the views run in the linked
///      libraries MarginAdmin and MarginViews. What the chain alone guarantees: docs/security.md.
contract MarginEngine is IMarginEngine, AccessManaged, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /// @notice Most securities the engine lists (bits of an account's held-asset mask).
    uint256 public constant MAX_ASSETS = MarginAdmin.MAX_ASSETS;
    /// @notice Tier risk ratios are set in steps of 1e-9 (this many units of an 18-decimal ratio).
    uint256 public constant TIER_RISK_STEP = MarginValuation.TIER_RISK_STEP;
    /// @notice Source tag of the insurance fund for the penalty share.
    bytes32 private constant _SOURCE_LIQUIDATION = MarginAccounts.SOURCE_LIQUIDATION;

    /// @dev How the loss waterfall splits what the account could not pay (scaled debt units, and cash paid).
    struct Loss {
        uint256 coveredScaled;
        uint256 fromInsurance;
        uint256 writeOffScaled;
    }

    /// @dev Running totals of one liquidate() call, settled with one pool repay and one insurance transfer.
    struct Settlement {
        uint256 liquidatorPays;
        uint256 repaid;
        uint256 insurance;
    }

    IERC20 private immutable _cash;
    ICapitalPool private immutable _pool;
    IInsuranceFund private immutable _insurance;
    IOracleRouter private immutable _oracle;
    IKycRegistry private immutable _kyc;
    IAgreementBinding private immutable _agreements;

    /// @param cash the cash token (borrowed and lent in)
    /// @param pool the CapitalPool lending `cash`
    /// @param insurance the InsuranceFund
    /// @param oracle the OracleRouter (the only price source)
    /// @param kyc the KycRegistry (who may own an account, at what leverage)
    /// @param authority the AccessManager
    /// @param initialParams engine-wide risk parameters
    /// @param agreements the AgreementBinding (each account's agreed leverage and penalty)
    constructor(
        IERC20 cash,
        ICapitalPool pool,
        IInsuranceFund insurance,
        IOracleRouter oracle,
        IKycRegistry kyc,
        address authority,
        Params memory initialParams,
        IAgreementBinding agreements
    ) AccessManaged(authority) {
        _agreements = agreements;
        _cash = cash;
        _pool = pool;
        _insurance = insurance;
        _oracle = oracle;
        _kyc = kyc;
        MarginAdmin.setParams(initialParams);
        // The pool pulls repayments and the fund pulls its penalty share: approve once, not per call.
        cash.forceApprove(address(pool), type(uint256).max);
        cash.forceApprove(address(insurance), type(uint256).max);
    }

    // ───────────────────────────── account holders ─────────────────────────────

    /// @inheritdoc IMarginEngine
    function deposit(address asset, uint256 amount) external nonReentrant {
        if (amount == 0) revert MarginZeroAmount();
        if (!_kyc.isVerified(msg.sender)) revert MarginNotVerified(msg.sender);
        _credit(msg.sender, asset, amount);
        emit CollateralDeposited(msg.sender, asset, amount);
        if (_account(msg.sender).state != AccountState.Healthy) _refresh(msg.sender, _valuate(msg.sender, 0));
        IERC20(asset).safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc IMarginEngine
    function withdraw(address asset, uint256 amount) external nonReentrant {
        MarginAccounts.withdraw(_contracts(), asset, amount);
    }

    /// @inheritdoc IMarginEngine
    function borrow(uint256 amount) external nonReentrant {
        if (amount == 0) revert MarginZeroAmount();
        // Zero for an unverified (revoked, expired) identity.
        (uint256 maxLeverage, uint24 tag) = _kyc.maxLeverageAndTagOf(msg.sender);
        if (maxLeverage == 0) revert MarginNotVerified(msg.sender);
        // An active agreement bound to the account, and its leverage when lower (reverts with the binding's error).
        maxLeverage = _agreements.leverageLimit(msg.sender, maxLeverage);
        MarginStorage.Account storage a = _account(msg.sender);
        if (a.frozenMask & MarginStorage.CASH_FROZEN != 0) revert MarginBalanceFrozen(msg.sender, address(_cash));
        (uint256 scaled, uint256 index) = _pool.borrow(amount);
        a.scaledDebt = (a.scaledDebt + scaled).toUint88();
        a.cash = (a.cash + amount).toUint88();
        a.ownerTag = tag;
        MarginStorage.Valuation memory v = _valuate(msg.sender, index);
        MarginValuation.requireInitialMargin(msg.sender, v, maxLeverage);
        emit Borrowed(msg.sender, amount, scaled, v.debt);
        _refresh(msg.sender, v);
    }

    /// @inheritdoc IMarginEngine
    function setFixedTerm(uint16 untilDay) external {
        MarginAccounts.setFixedTerm(untilDay);
    }

    /// @inheritdoc IMarginEngine
    function repay(uint256 amount) external nonReentrant {
        MarginAccounts.repay(_contracts(), amount, false);
    }

    /// @inheritdoc IMarginEngine
    function repayFromWallet(uint256 amount) external nonReentrant {
        MarginAccounts.repay(_contracts(), amount, true);
    }

    // ───────────────────────────── anyone ─────────────────────────────

    /// @inheritdoc IMarginEngine
    function poke(address account) external nonReentrant returns (AccountState) {
        return _refresh(account, _valuate(account, 0));
    }

    /// @inheritdoc IMarginEngine
    function liquidate(address account, uint256 maxSegments) external nonReentrant returns (uint256 segments) {
        address[] memory one = new address[](1);
        one[0] = account;
        return _liquidateAll(one, maxSegments, true);
    }

    /// @inheritdoc IMarginEngine
    function liquidateMany(
        address[] calldata accounts,
        uint256 maxSegmentsEach
    ) external nonReentrant returns (uint256 liquidated) {
        return _liquidateAll(accounts, maxSegmentsEach, false);
    }

    /// @inheritdoc IMarginEngine
    function sweepInsurance() external nonReentrant returns (uint256) {
        return MarginAccounts.sweepInsurance(_contracts());
    }

    /// @inheritdoc IMarginEngine
    function syncFrozen(address account, address asset) external {
        MarginAdmin.syncFrozen(address(_cash), account, asset);
    }

    // ───────────────────────────── listed tokens ─────────────────────────────

    /// @inheritdoc IMarginEngine
    function freezeChanged(address account, bool frozen) external {
        MarginAdmin.freezeChanged(address(_cash), account, frozen);
    }

    // ───────────────────────────── SettlementHub ─────────────────────────────

    /// @inheritdoc IMarginEngine
    function transferBetweenAccounts(address from, address to, address asset, uint256 amount) external restricted {
        MarginAdmin.transferBetweenAccounts(_contracts(), from, to, asset, amount);
    }

    /// @inheritdoc IMarginEngine
    function settleTrade(
        address buyer,
        address seller,
        address asset,
        uint256 units,
        uint256 cashAmount
    ) external restricted returns (uint256) {
        return MarginSettlement.settleTrade(_contracts(), buyer, seller, asset, units, cashAmount);
    }

    /// @inheritdoc IMarginEngine
    function checkInitialMargin(address account) external view returns (bool) {
        return MarginSettlement.checkInitialMargin(_contracts(), account);
    }

    // ───────────────────────────── risk officer, legal officer ─────────────────────────────

    /// @inheritdoc IMarginEngine
    function configureAsset(
        address asset,
        uint8 liquidityTier,
        uint64 haircut,
        uint64 liquidationPenalty,
        uint128 windowCap
    ) external restricted {
        MarginAdmin.configureAsset(address(_cash), asset, liquidityTier, haircut, liquidationPenalty, windowCap);
    }

    /// @inheritdoc IMarginEngine
    function setTierRisk(uint8 tier, TierRisk calldata risk) external restricted {
        MarginAdmin.setTierRisk(tier, risk);
    }

    /// @inheritdoc IMarginEngine
    function setParams(Params calldata newParams) external restricted {
        MarginAdmin.setParams(newParams);
    }

    /// @inheritdoc IMarginEngine
    function setBorrowingPaused(address asset, bool paused) external restricted {
        MarginAdmin.setBorrowingPaused(asset, paused);
    }

    /// @inheritdoc IMarginEngine
    function setPortfolioRisk(address risk) external restricted {
        MarginAdmin.setPortfolioRisk(risk);
    }

    /// @inheritdoc IMarginEngine
    function portfolioRisk() external view returns (address) {
        return MarginStorage.layout().portfolioRisk;
    }

    /// @inheritdoc IMarginEngine
    function borrowingPaused(address asset) external view returns (bool) {
        return MarginStorage.layout().assets[asset].borrowPaused;
    }

    /// @inheritdoc IMarginEngine
    function legalSeize(
        address account,
        address asset,
        uint256 amount,
        address to,
        bytes32 orderRef
    ) external restricted nonReentrant {
        MarginAdmin.legalSeize(address(_cash), address(_pool), account, asset, amount, to, orderRef);
    }

    // ───────────────────────────── views ─────────────────────────────

    /// @inheritdoc IMarginEngine
    function accountView(address account) external view returns (AccountView memory) {
        _returnEncoded(MarginViews.accountView(address(_oracle), address(_pool), account));
    }

    /// @inheritdoc IMarginEngine
    function accountState(address account) external view returns (AccountState) {
        _returnEncoded(MarginViews.accountState(address(_oracle), address(_pool), account));
    }

    /// @inheritdoc IMarginEngine
    function balanceOf(address account, address asset) external view returns (uint256) {
        if (asset == address(_cash)) return _account(account).cash;
        return MarginStorage.layout().balances[account][asset];
    }

    /// @inheritdoc IMarginEngine
    function debtOf(address account) external view returns (uint256 debt, uint256 scaled) {
        scaled = _account(account).scaledDebt;
        if (scaled > 0) debt = MarginMath.debtOf(scaled, _pool.borrowIndex());
    }

    /// @inheritdoc IMarginEngine
    function assetMargins(address asset) external view returns (uint256, uint256, uint256) {
        _returnEncoded(MarginViews.assetMargins(address(_oracle), asset));
    }

    /// @inheritdoc IMarginEngine
    function insuranceOwed() external view returns (uint256) {
        return MarginStorage.layout().params.insuranceOwedPlusOne - 1;
    }

    /// @inheritdoc IMarginEngine
    function assetConfig(address asset) external view returns (AssetConfig memory) {
        _returnEncoded(MarginViews.assetConfig(asset));
    }

    /// @inheritdoc IMarginEngine
    function tierRisk(uint8 tier) external view returns (TierRisk memory) {
        _returnEncoded(MarginViews.tierRisk(tier));
    }

    /// @inheritdoc IMarginEngine
    function params() external view returns (Params memory) {
        _returnEncoded(MarginViews.params());
    }

    /// @inheritdoc IMarginEngine
    function listedAssets() external view returns (address[] memory) {
        _returnEncoded(MarginViews.listedAssets());
    }

    /// @inheritdoc IMarginEngine
    function seizableInWindow(address asset) external view returns (uint256) {
        _returnEncoded(MarginViews.seizableInWindow(asset));
    }

    /// @inheritdoc IMarginEngine
    function contracts()
        external
        view
        returns (address cash, address pool, address insurance, address oracle, address kyc)
    {
        return (address(_cash), address(_pool), address(_insurance), address(_oracle), address(_kyc));
    }

    /// @inheritdoc IMarginEngine
    function recordedState(address account) external view returns (AccountState, uint64, uint64, uint16) {
        _returnEncoded(MarginViews.recordedState(account));
    }

    // ───────────────────────────── balances ─────────────────────────────

    /// @dev Ends the call returning `encoded` as it is: the views library already ABI-encoded the function's
    ///      return values, so the engine neither decodes nor re-encodes them.
    function _returnEncoded(bytes memory encoded) private pure {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            return(add(encoded, 32), mload(encoded))
        }
    }

    function _account(address account) private view returns (MarginStorage.Account storage) {
        return MarginStorage.layout().accounts[account];
    }

    /// @dev The rule's valuation inline; an account holding an option series that opted into portfolio margin is
    ///      valued again with the satellite in MarginAccounts (MarginValuation.valuateWithPortfolio), so that the
    ///      engine's code stays under EIP-170 and nobody else pays for the hook.
    function _valuate(address account, uint256 index) private view returns (MarginStorage.Valuation memory v) {
        v = MarginValuation.valuate(_oracle, _pool, account, index);
        if (v.optionHeld) {
            bytes memory portfolio = MarginAccounts.valuatePortfolio(_contracts(), account, index);
            if (portfolio.length != 0) v = abi.decode(portfolio, (MarginStorage.Valuation));
        }
    }

    /// @dev Makes sure the engine itself holds `amount` cash before paying it out, taking the shortfall from its
    ///      float in the pool (lent cash the pool keeps until it leaves the margin system). The engine's cash balance
    ///      plus that float always equals its accounts' cash plus the insurance share owed, so the float covers it.
    function _holdCash(uint256 amount) private {
        uint256 held = _cash.balanceOf(address(this));
        if (held < amount) _pool.release(amount - held, address(this));
    }

    function _credit(address account, address asset, uint256 amount) private {
        MarginLedger.credit(address(_cash), account, asset, amount);
    }

    function _debit(address account, address asset, uint256 amount) private {
        MarginLedger.debit(address(_cash), account, asset, amount);
    }

    function _debitUnchecked(address account, address asset, uint256 amount) private {
        MarginLedger.debitUnchecked(address(_cash), account, asset, amount);
    }

    function _contracts() private view returns (MarginStorage.Contracts memory) {
        return
            MarginStorage.Contracts(
                address(_cash),
                address(_oracle),
                address(_pool),
                address(_kyc),
                address(_insurance)
            );
    }

    // ───────────────────────────── margin state ─────────────────────────────

    function _refresh(address account, MarginStorage.Valuation memory v) private returns (AccountState) {
        return MarginValuation.refresh(account, v);
    }

    // ───────────────────────────── liquidation ─────────────────────────────

    /// @dev The liquidator's KYC, the pool's accrual and the liquidator's own margin check once, each account in
    ///      turn. `strict` (one account, `liquidate`): a refusal reverts with its reason and the result is the number
    ///      of segments; otherwise refusals are skips and the result is the number of accounts liquidated.
    function _liquidateAll(
        address[] memory accounts,
        uint256 maxSegments,
        bool strict
    ) private returns (uint256 result) {
        (bool verified, uint24 tag) = _kyc.verifiedTagOf(msg.sender);
        if (!verified) revert MarginNotVerified(msg.sender);
        // Accrue now (the index the valuations need): the pool's repayments then find their accrual done.
        uint256 index = _pool.accrue();
        for (uint256 k; k < accounts.length; ++k) {
            (uint256 segments, LiquidationSkip skip) = _liquidateOne(accounts[k], tag, index, maxSegments, strict);
            if (strict) result = segments;
            else if (skip != LiquidationSkip.None) emit LiquidationSkipped(accounts[k], msg.sender, skip);
            else if (segments > 0 || _account(accounts[k]).scaledDebt == 0) ++result;
        }
        _requireLiquidatorMargin();
    }

    /// @dev One account's liquidation by msg.sender (its KYC tag given), at the pool's `index`. `strict`: a refusal
    ///      reverts with its reason (the single call); otherwise it is returned as a skip (the batch goes on).
    function _liquidateOne(
        address account,
        uint24 tag,
        uint256 index,
        uint256 maxSegments,
        bool strict
    ) private returns (uint256 segments, LiquidationSkip skip) {
        // The owner's own address, or another address of the same identity (the tag it borrowed under).
        if (account == msg.sender || tag == _account(account).ownerTag) {
            if (strict) revert MarginSelfLiquidation(account);
            return (0, LiquidationSkip.SameIdentity);
        }
        MarginStorage.Valuation memory v = _valuate(account, index);
        AccountState s = MarginValuation.classify(account, v);
        if (s != AccountState.Liquidatable && s != AccountState.Defaulted) {
            if (strict) revert MarginNotLiquidatable(account, s);
            return (0, LiquidationSkip.NotLiquidatable);
        }
        MarginValuation.capPenalties(v, _agreements.penaltyCapOf(account));
        MarginStorage.ParamsRecord memory p = MarginStorage.layout().params;
        Settlement memory t;
        bool full = s == AccountState.Defaulted;
        while (segments < maxSegments) {
            // Short of a full liquidation, stop at the target: equity ≥ maintenance + targetBuffer · positions.
            uint256 target;
            int256 eq;
            if (!full) {
                if (v.debt == 0) break;
                target = v.maintenanceReq + MarginMath.mulUp(v.positionValue, p.targetBuffer);
                eq = MarginValuation.equity(v);
                if (eq >= SafeCast.toInt256(target)) break;
            }
            (bool found, uint256 i) = _pickSegment(v, p);
            if (!found) {
                if (segments == 0 && _account(account).heldMask != 0) {
                    if (strict) _revertNothingSeizable(account, v, p);
                    return (0, LiquidationSkip.NothingSeizable);
                }
                break;
            }
            _segment(account, v, v.positions[i], p, full, target, eq, t);
            ++segments;
        }
        _settle(account, v, t);
    }

    /// @dev A liquidator with debt must still meet initial margin after paying for what it took.
    function _requireLiquidatorMargin() private view {
        if (_account(msg.sender).scaledDebt > 0) {
            MarginValuation.requireInitialMargin(msg.sender, _valuate(msg.sender, 0), _kyc.maxLeverageOf(msg.sender));
        }
    }

    /// @dev The position a segment sells: among positions a liquidation may take now (price Safe for the oracle
    ///      grace, balance not frozen, window cap not used up), the highest rank (the least liquid, highest tier; for
    ///      a portfolio-margined account the satellite's rank: most loss per unit of value first, hedges last; lowest
    ///      id on a tie),
    ///      positions worth at least dustValue before dust. A used-up cap or an unsafe price on one asset never
    ///      blocks the others.
    function _pickSegment(
        MarginStorage.Valuation memory v,
        MarginStorage.ParamsRecord memory p
    ) private view returns (bool found, uint256 best) {
        uint256 bestKey;
        MarginStorage.Layout storage $ = MarginStorage.layout();
        for (uint256 i; i < v.positions.length; ++i) {
            MarginStorage.Position memory pos = v.positions[i];
            uint256 since = pos.safeSince;
            if (pos.balance == 0 || since == 0 || block.timestamp < since + p.oracleGrace) continue;
            uint256 key = pos.value >= p.dustValue ? 256 + pos.rank : pos.rank;
            if (key <= bestKey) continue;
            if (MarginValuation.windowRemaining($.assets[pos.asset], p.liquidationWindow) == 0) continue;
            (best, bestKey) = (i, key);
        }
        found = bestKey != 0;
    }

    /// @dev Nothing could be seized from an account that holds positions: reverts with why, for the first position
    ///      in id order (balance frozen, price unsafe, oracle grace running, cap used up). Only this failure path
    ///      reads the freeze again.
    function _revertNothingSeizable(
        address account,
        MarginStorage.Valuation memory v,
        MarginStorage.ParamsRecord memory p
    ) private view {
        MarginStorage.Position memory pos = v.positions[0];
        if (_account(account).frozenMask & MarginLedger.frozenBit(address(_cash), pos.asset) != 0) {
            revert MarginBalanceFrozen(account, pos.asset);
        }
        if (pos.safeSince == 0) revert MarginPriceUnsafe(pos.asset, pos.status);
        if (block.timestamp < pos.safeSince + p.oracleGrace) {
            revert MarginOracleGrace(pos.asset, pos.safeSince + p.oracleGrace);
        }
        revert MarginSeizureCapReached(account);
    }

    /// @dev Units to seize from `pos`: just enough for `target` (the equity the liquidation restores; `eq` is the
    ///      equity now; both computed by the caller, unused when `full`) rounded up to whole base units, all of it when
    ///      the target cannot be reached or the account is defaulted, never more than repays the whole debt, the
    ///      whole position when the rest would be dust, and at most the window's remaining cap.
    function _unitsToSeize(
        MarginStorage.Valuation memory v,
        MarginStorage.Position memory pos,
        MarginStorage.ParamsRecord memory p,
        bool full,
        uint256 target,
        int256 eq
    ) private view returns (uint256 units) {
        units = pos.balance;
        if (!full) {
            (uint256 value, bool reachable) = MarginMath.valueToTarget(
                eq,
                target,
                pos.maintenance + p.targetBuffer,
                pos.haircut,
                pos.penalty
            );
            if (reachable) units = MarginMath.unitsFor(value, pos.price, pos.scale);
            uint256 forDebt = MarginMath.unitsFor(
                Math.mulDiv(v.debt, FixedPoint.WAD, FixedPoint.WAD - pos.penalty, Math.Rounding.Ceil),
                pos.price,
                pos.scale
            );
            if (units > forDebt) units = forDebt;
            if (units > pos.balance) units = pos.balance;
            if (MarginMath.valueOf(pos.balance - units, pos.price, pos.scale) < p.dustValue) units = pos.balance;
        }
        uint256 cap = MarginValuation.windowRemaining(MarginStorage.layout().assets[pos.asset], p.liquidationWindow);
        if (units > cap) units = cap;
    }

    /// @dev One segment: moves the units to the liquidator's account, books the proceeds against the debt (any
    ///      excess to the account's cash), records the window and updates the valuation in memory.
    function _segment(
        address account,
        MarginStorage.Valuation memory v,
        MarginStorage.Position memory pos,
        MarginStorage.ParamsRecord memory p,
        bool full,
        uint256 target,
        int256 eq,
        Settlement memory t
    ) private {
        uint256 units = _unitsToSeize(v, pos, p, full, target, eq);
        uint256 value = MarginMath.valueOf(units, pos.price, pos.scale);
        uint256 penalty = MarginMath.mulUp(value, pos.penalty);
        uint256 bonus = MarginMath.mulDown(penalty, p.liquidatorShare);
        uint256 proceeds = value - penalty;
        uint256 toDebt = proceeds < v.debt ? proceeds : v.debt;

        _debitUnchecked(account, pos.asset, units);
        _credit(msg.sender, pos.asset, units);
        _recordSeizure(MarginStorage.layout().assets[pos.asset], units, p.liquidationWindow);
        t.liquidatorPays += value - bonus;
        t.insurance += penalty - bonus;
        t.repaid += toDebt;
        v.debt -= toDebt;
        v.cash += proceeds - toDebt;
        _revalue(v, pos, pos.balance - units);
        emit Liquidated(account, msg.sender, pos.asset, units, pos.price, value, toDebt, bonus, penalty - bonus);
    }

    function _recordSeizure(MarginStorage.AssetRecord storage cfg, uint256 units, uint256 window) private {
        if (block.timestamp >= cfg.windowStart + window) {
            cfg.windowStart = uint64(block.timestamp);
            cfg.seizedInWindow = units.toUint128();
        } else {
            cfg.seizedInWindow += units.toUint128();
        }
    }

    /// @dev Replaces a position's balance in the valuation, keeping every sum liquidation reads (positionValue,
    ///      collateralValue, maintenanceReq) exactly as the valuation would compute it. initialReq is not kept:
    ///      nothing after a segment reads it (the liquidator's own check values its account afresh).
    function _revalue(
        MarginStorage.Valuation memory v,
        MarginStorage.Position memory pos,
        uint256 newBalance
    ) private pure {
        uint256 newValue = MarginMath.valueOf(newBalance, pos.price, pos.scale);
        uint256 newCollateral = MarginMath.mulDown(newValue, FixedPoint.WAD - pos.haircut);
        uint256 newMaintenance = MarginMath.mulUp(newValue, pos.maintenance);
        v.positionValue = v.positionValue - pos.value + newValue;
        v.collateralValue = v.collateralValue - pos.collateral + newCollateral;
        v.maintenanceReq = v.maintenanceReq - pos.maintenanceAmount + newMaintenance;
        pos.balance = newBalance;
        pos.value = newValue;
        pos.collateral = newCollateral;
        pos.maintenanceAmount = newMaintenance;
    }

    /// @dev Settles a liquidate() call: the liquidator pays, the debt is repaid and, with no collateral left, the
    ///      loss waterfall is booked; the insurance share is accrued (or, when the waterfall draws on the fund, all
    ///      that is owed is paid to it first); the state is recorded; then the pool and the fund are called.
    function _settle(address account, MarginStorage.Valuation memory v, Settlement memory t) private {
        _debit(msg.sender, address(_cash), t.liquidatorPays);
        MarginStorage.Layout storage $ = MarginStorage.layout();

        bool waterfall = $.accounts[account].heldMask == 0 && v.debt > 0;
        if (waterfall) {
            // The account's own (unfrozen) cash is the first loss absorber.
            uint256 fromCash = v.cash < v.debt ? v.cash : v.debt;
            v.cash -= fromCash;
            v.debt -= fromCash;
            t.repaid += fromCash;
        }
        uint256 retire = v.debt == 0 ? v.scaled : MarginMath.scaledFor(t.repaid, v.index);
        uint256 pulled = retire == 0 ? 0 : MarginMath.debtOf(retire, v.index);
        // pulled ≤ t.repaid (floor then ceil at the same index); the rounding remainder stays the account's.
        v.cash += t.repaid - pulled;
        $.accounts[account].cash = (v.cash + v.frozenCash).toUint88();
        uint256 owed = $.params.insuranceOwedPlusOne - 1 + t.insurance;
        Loss memory loss;
        if (waterfall) loss = _bookLoss(account, v, t, v.scaled - retire, owed);
        else $.accounts[account].scaledDebt = uint88(v.scaled - retire);
        // The fund must hold what is owed to it before it pays a claim; otherwise the share waits for a sweep.
        uint256 toFund = loss.coveredScaled > 0 ? owed : 0;
        $.params.insuranceOwedPlusOne = (1 + owed - toFund).toUint88();
        if (toFund > 0) emit InsuranceSwept(toFund);
        _refresh(account, v);

        if (retire > 0) _pool.repay(retire);
        if (toFund > 0) {
            _holdCash(toFund);
            _insurance.receiveIncome(toFund, _SOURCE_LIQUIDATION);
        }
        if (loss.coveredScaled > 0) {
            _insurance.coverBadDebt(account, loss.fromInsurance, address(this));
            _pool.repay(loss.coveredScaled);
        }
        if (loss.writeOffScaled > 0) _pool.writeOff(loss.writeOffScaled);
    }

    /// @dev Loss waterfall once the account's collateral and cash are gone: the insurance fund (including every
    ///      penalty share owed to it, this call's too) pays what it can, the pool writes off the rest (its share
    ///      price falls; the pool emits by how much). Books and emits here; the transfers happen at the end of
    ///      _settle.
    function _bookLoss(
        address account,
        MarginStorage.Valuation memory v,
        Settlement memory t,
        uint256 scaled,
        uint256 insuranceOwed_
    ) private returns (Loss memory loss) {
        if (scaled > 0) {
            uint256 owed = MarginMath.debtOf(scaled, v.index);
            uint256 fund = _insurance.balance() + insuranceOwed_;
            loss.coveredScaled = fund >= owed ? scaled : MarginMath.scaledFor(fund, v.index);
            if (loss.coveredScaled > 0) loss.fromInsurance = MarginMath.debtOf(loss.coveredScaled, v.index);
            loss.writeOffScaled = scaled - loss.coveredScaled;
        }
        _account(account).scaledDebt = 0;
        v.debt = 0;
        // The pool books floor(scaled · index / RAY) as the write-off.
        uint256 writtenOff = Math.mulDiv(loss.writeOffScaled, v.index, FixedPoint.RAY);
        emit DefaultSettled(account, t.repaid, loss.fromInsurance, writtenOff);
    }
}
