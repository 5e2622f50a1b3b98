// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
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
contract MarginEngine is IMarginEngine, AccessManaged, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /// @notice Most securities the engine lists (bits of an account's held-asset mask).
    uint256 public constant MAX_ASSETS = 16;
    /// @notice Tier risk ratios are set in steps of 1e-9 (this many units of an 18-decimal ratio).
    uint256 public constant TIER_RISK_STEP = 1e9;
    /// @dev Largest power of ten below 2**128: the bound an asset's value scale had as a uint128.
    uint256 private constant _MAX_SCALE_EXP = 38;
    /// @notice Source tag of the insurance fund for the penalty share.
    bytes32 private constant _SOURCE_LIQUIDATION = "liquidation-penalty";

    /// @dev Everything an account has but its securities, in one slot: cash (96) | scaledDebt (96) |
    ///      callDeadline (40) | state (8) | heldMask (16). Deposit, borrow, repay and liquidation read and write
    ///      cash, debt and state together, and an account's first borrow finds the slot already non-zero.
    ///      Bounds: cash and scaled debt below 2**96 base units (7.9e22 whole units of a 6-decimal cash token; more
    ///      reverts, nothing is truncated), deadlines below 2**40 seconds (year 36812).
    struct Account {
        uint96 cash;
        uint96 scaledDebt;
        uint40 callDeadline;
        AccountState state;
        uint16 heldMask;
    }

    /// @dev Storage form of AssetConfig. Slot 0 holds everything a valuation reads: listed | liquidityTier | id |
    ///      scaleExp | haircut | liquidationPenalty | windowStart. Slot 1: windowCap | seizedInWindow. The scale is
    ///      kept as its power of ten (scale = 10**scaleExp ≤ 10**38) so that it fits slot 0.
    struct AssetRecord {
        bool listed;
        uint8 liquidityTier;
        uint8 id;
        uint8 scaleExp;
        uint64 haircut;
        uint64 liquidationPenalty;
        uint64 windowStart;
        uint128 windowCap;
        uint128 seizedInWindow;
    }

    /// @dev Storage form of TierRisk: the five ratios in one slot (a valuation reads one cold slot per tier, not two),
    ///      each in units of 1e-9 (TIER_RISK_STEP base units of the 18-decimal ratio): uint48 holds any uint64 ratio
    ///      that is a multiple of the step, and setTierRisk refuses the others, so every ratio reads back exactly.
    struct TierRecord {
        uint48 baseMaintenance;
        uint48 volatilityMultiplier;
        uint48 floor;
        uint48 cap;
        uint48 initialBuffer;
    }

    /// @dev Storage form of Params, with the insurance fund's running share beside the durations. Slot 0: the four
    ///      ratios (every classification reads them). Slot 1: the three durations | dustValue (72 bits; setParams
    ///      refuses more) | 1 + the penalty shares owed to the insurance fund (88 bits). A liquidation reads the
    ///      durations and the dust value and adds the fund's share in the same word. The share is kept plus one so
    ///      that the word never returns to zero for its sake, and the bound is the pool's own (2**88 − 1 base units;
    ///      more reverts).
    struct ParamsRecord {
        uint64 warningBuffer;
        uint64 hardFloorFactor;
        uint64 targetBuffer;
        uint64 liquidatorShare;
        uint32 gracePeriod;
        uint32 oracleGrace;
        uint32 liquidationWindow;
        uint72 dustValue;
        uint88 insuranceOwedPlusOne;
    }

    /// @dev One held security, valued at the router's current price.
    struct Position {
        address asset;
        uint256 balance;
        uint256 price;
        uint256 value;
        /// what the position adds to collateralValue, value · (1 − haircut), and to maintenanceReq
        uint256 collateral;
        uint256 maintenanceAmount;
        uint256 maintenance;
        uint256 initial;
        uint256 haircut;
        uint256 penalty;
        uint256 scale;
        uint256 safeSince;
        uint8 tier;
    }

    /// @dev An account valued in memory; liquidation updates it segment by segment without re-reading prices.
    struct Valuation {
        uint256 cash;
        uint256 debt;
        uint256 scaled;
        uint256 index;
        uint256 positionValue;
        uint256 collateralValue;
        uint256 maintenanceReq;
        uint256 initialReq;
        /// the recorded margin-call deadline (0: none)
        uint256 callDeadline;
        bool allSafe;
        address unsafeAsset;
        IOracleRouter.PriceStatus unsafeStatus;
        Position[] positions;
    }

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

    mapping(address account => Account) private _accounts;
    /// @dev Security balances; an account's cash balance is in its Account slot.
    mapping(address account => mapping(address asset => uint256)) private _balances;
    mapping(address asset => AssetRecord) private _assets;
    /// @dev Listed assets by id (a mapping, not an array: a valuation reads one cold slot per held asset, without the
    ///      array's length slot; ids come from held masks, whose bits are only ever set for listed ids).
    mapping(uint256 id => address) private _assetById;
    uint256 private _assetCount;
    mapping(uint8 tier => TierRecord) private _tiers;
    ParamsRecord private _params;

    /// @param cash the cash token (borrowed and lent in)
    /// @param pool the CapitalPool lending `cash`
    /// @param insurance the InsuranceFund
    /// @param oracle the OracleRouter (the only price source)
    /// @param kyc the KycRegistry (who may own an account, at what leverage)
    /// @param authority the AccessManager
    /// @param initialParams engine-wide risk parameters
    constructor(
        IERC20 cash,
        ICapitalPool pool,
        IInsuranceFund insurance,
        IOracleRouter oracle,
        IKycRegistry kyc,
        address authority,
        Params memory initialParams
    ) AccessManaged(authority) {
        _cash = cash;
        _pool = pool;
        _insurance = insurance;
        _oracle = oracle;
        _kyc = kyc;
        _params.insuranceOwedPlusOne = 1;
        _setParams(initialParams);
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
        if (_accounts[msg.sender].state != AccountState.Healthy) _refresh(msg.sender, _valuate(msg.sender, 0));
        IERC20(asset).safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc IMarginEngine
    function withdraw(address asset, uint256 amount) external nonReentrant {
        if (amount == 0) revert MarginZeroAmount();
        _debit(msg.sender, asset, amount);
        emit CollateralWithdrawn(msg.sender, asset, amount);
        if (_accounts[msg.sender].scaledDebt > 0) {
            Valuation memory v = _valuate(msg.sender, 0);
            _requireInitialMargin(msg.sender, v, _kyc.maxLeverageOf(msg.sender));
            _refresh(msg.sender, v);
        }
        if (asset == address(_cash)) _holdCash(amount);
        IERC20(asset).safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc IMarginEngine
    function borrow(uint256 amount) external nonReentrant {
        if (amount == 0) revert MarginZeroAmount();
        // Zero for an unverified (revoked, expired) identity.
        uint256 maxLeverage = _kyc.maxLeverageOf(msg.sender);
        if (maxLeverage == 0) revert MarginNotVerified(msg.sender);
        (uint256 scaled, uint256 index) = _pool.borrow(amount);
        Account storage a = _accounts[msg.sender];
        a.scaledDebt = (a.scaledDebt + scaled).toUint96();
        a.cash = (a.cash + amount).toUint96();
        Valuation memory v = _valuate(msg.sender, index);
        _requireInitialMargin(msg.sender, v, maxLeverage);
        emit Borrowed(msg.sender, amount, scaled, v.debt);
        _refresh(msg.sender, v);
    }

    /// @inheritdoc IMarginEngine
    function repay(uint256 amount) external nonReentrant {
        _repay(amount, false);
    }

    /// @inheritdoc IMarginEngine
    function repayFromWallet(uint256 amount) external nonReentrant {
        _repay(amount, true);
    }

    // ───────────────────────────── anyone ─────────────────────────────

    /// @inheritdoc IMarginEngine
    function poke(address account) external nonReentrant returns (AccountState) {
        return _refresh(account, _valuate(account, 0));
    }

    /// @inheritdoc IMarginEngine
    function liquidate(address account, uint256 maxSegments) external nonReentrant returns (uint256 segments) {
        if (account == msg.sender) revert MarginSelfLiquidation(account);
        if (!_kyc.isVerified(msg.sender)) revert MarginNotVerified(msg.sender);
        // Accrue now (the index the valuation needs; an account without debt is refused just below): the pool's
        // repay then finds its accrual done.
        Valuation memory v = _valuate(account, _pool.accrue());
        if (!v.allSafe) revert MarginPriceUnsafe(v.unsafeAsset, v.unsafeStatus);
        AccountState s = _classify(v, uint64(v.callDeadline));
        if (s != AccountState.Liquidatable && s != AccountState.Defaulted) revert MarginNotLiquidatable(account, s);
        ParamsRecord memory p = _params;
        _requireOracleGrace(v, p.oracleGrace);

        Settlement memory t;
        bool full = s == AccountState.Defaulted;
        while (segments < maxSegments) {
            // Short of a full liquidation, stop at the target: equity ≥ maintenance + targetBuffer · positions.
            uint256 target;
            int256 eq;
            if (!full) {
                if (v.debt == 0) break;
                target = v.maintenanceReq + MarginMath.mulUp(v.positionValue, p.targetBuffer);
                eq = _equity(v);
                if (eq >= SafeCast.toInt256(target)) break;
            }
            (bool found, uint256 i) = _pickSegment(v, p.liquidationWindow);
            if (!found) {
                if (segments == 0 && _accounts[account].heldMask != 0) revert MarginSeizureCapReached(account);
                break;
            }
            _segment(account, v, v.positions[i], p, full, target, eq, t);
            ++segments;
        }
        _settle(account, v, t);
    }

    /// @inheritdoc IMarginEngine
    function sweepInsurance() external nonReentrant returns (uint256 amount) {
        amount = _params.insuranceOwedPlusOne - 1;
        if (amount == 0) return 0;
        _params.insuranceOwedPlusOne = 1;
        emit InsuranceSwept(amount);
        _holdCash(amount);
        _insurance.receiveIncome(amount, _SOURCE_LIQUIDATION);
    }

    // ───────────────────────────── SettlementHub ─────────────────────────────

    /// @inheritdoc IMarginEngine
    function transferBetweenAccounts(address from, address to, address asset, uint256 amount) external restricted {
        if (amount == 0) revert MarginZeroAmount();
        if (!_kyc.isVerified(to)) revert MarginNotVerified(to);
        _debit(from, asset, amount);
        _credit(to, asset, amount);
        emit AccountTransfer(from, to, asset, amount);
    }

    /// @inheritdoc IMarginEngine
    function settleTrade(
        address buyer,
        address seller,
        address asset,
        uint256 units,
        uint256 cashAmount
    ) external restricted {
        if (units == 0 || cashAmount == 0) revert MarginZeroAmount();
        address cash = address(_cash);
        if (asset == cash) revert MarginAssetNotListed(asset);
        if (!_kyc.isVerified(buyer)) revert MarginNotVerified(buyer);
        if (!_kyc.isVerified(seller)) revert MarginNotVerified(seller);
        _debit(seller, asset, units);
        _credit(buyer, asset, units);
        _debit(buyer, cash, cashAmount);
        _credit(seller, cash, cashAmount);
        emit TradeLegsSettled(buyer, seller, asset, units, cashAmount);
    }

    /// @inheritdoc IMarginEngine
    function checkInitialMargin(address account) external view returns (bool) {
        if (_accounts[account].scaledDebt == 0) return true;
        Valuation memory v = _valuate(account, 0);
        if (!v.allSafe) return false;
        int256 eq = _equity(v);
        return eq >= SafeCast.toInt256(v.initialReq) && _withinLeverage(v, eq, _kyc.maxLeverageOf(account));
    }

    // ───────────────────────────── risk officer ─────────────────────────────

    /// @inheritdoc IMarginEngine
    function configureAsset(
        address asset,
        uint8 liquidityTier,
        uint64 haircut,
        uint64 liquidationPenalty,
        uint128 windowCap
    ) external restricted {
        if (
            asset == address(0) ||
            asset == address(_cash) ||
            liquidityTier == 0 ||
            haircut >= FixedPoint.WAD ||
            liquidationPenalty >= FixedPoint.WAD ||
            windowCap == 0
        ) revert MarginInvalidAssetConfig(asset);
        AssetRecord storage cfg = _assets[asset];
        if (!cfg.listed) {
            uint256 n = _assetCount;
            if (n >= MAX_ASSETS) revert MarginTooManyAssets(n);
            uint256 assetDecimals = IERC20Metadata(asset).decimals();
            uint256 cashDecimals = IERC20Metadata(address(_cash)).decimals();
            // scale = 10**(assetDecimals + 18 − cashDecimals) must be a whole number that fits 128 bits.
            if (assetDecimals + 18 < cashDecimals || assetDecimals + 18 - cashDecimals > _MAX_SCALE_EXP) {
                revert MarginInvalidAssetConfig(asset);
            }
            cfg.listed = true;
            cfg.id = uint8(n);
            cfg.scaleExp = uint8(assetDecimals + 18 - cashDecimals);
            _assetById[n] = asset;
            _assetCount = n + 1;
        }
        cfg.liquidityTier = liquidityTier;
        cfg.haircut = haircut;
        cfg.liquidationPenalty = liquidationPenalty;
        cfg.windowCap = windowCap;
        // A non-zero start keeps the window slot initialised, so the first seizure pays a cheap storage update.
        cfg.windowStart = uint64(block.timestamp);
        cfg.seizedInWindow = 0;
        emit AssetConfigured(asset, liquidityTier, haircut, liquidationPenalty, windowCap);
    }

    /// @inheritdoc IMarginEngine
    function setTierRisk(uint8 tier, TierRisk calldata risk) external restricted {
        if (
            tier == 0 ||
            risk.floor > risk.cap ||
            uint256(risk.cap) + risk.initialBuffer > FixedPoint.WAD ||
            risk.baseMaintenance > risk.cap ||
            risk.baseMaintenance % TIER_RISK_STEP != 0 ||
            risk.volatilityMultiplier % TIER_RISK_STEP != 0 ||
            risk.floor % TIER_RISK_STEP != 0 ||
            risk.cap % TIER_RISK_STEP != 0 ||
            risk.initialBuffer % TIER_RISK_STEP != 0
        ) revert MarginInvalidTierRisk(tier);
        // Each field is a uint64 multiple of the step: the quotient is below 2**64 / 1e9 < 2**48.
        _tiers[tier] = TierRecord(
            uint48(risk.baseMaintenance / TIER_RISK_STEP),
            uint48(risk.volatilityMultiplier / TIER_RISK_STEP),
            uint48(risk.floor / TIER_RISK_STEP),
            uint48(risk.cap / TIER_RISK_STEP),
            uint48(risk.initialBuffer / TIER_RISK_STEP)
        );
        emit TierRiskSet(tier, risk);
    }

    /// @inheritdoc IMarginEngine
    function setParams(Params calldata newParams) external restricted {
        _setParams(newParams);
    }

    // ───────────────────────────── views ─────────────────────────────

    /// @inheritdoc IMarginEngine
    function accountView(address account) external view returns (AccountView memory r) {
        Valuation memory v = _valuate(account, 0);
        ParamsRecord storage p = _params;
        r.cash = v.cash;
        r.debt = v.debt;
        r.positionValue = v.positionValue;
        r.collateralValue = v.collateralValue;
        r.equity = _equity(v);
        r.marginRatio = MarginMath.marginRatio(r.equity, v.positionValue);
        r.maintenanceReq = v.maintenanceReq;
        r.initialReq = v.initialReq;
        r.warningLine = v.maintenanceReq + MarginMath.mulUp(v.positionValue, p.warningBuffer);
        r.hardLine = MarginMath.mulDown(v.maintenanceReq, p.hardFloorFactor);
        r.callDeadline = _accounts[account].callDeadline;
        r.state = _classify(v, r.callDeadline);
        r.liquidationReturn = MarginMath.liquidationReturn(v.cash, v.debt, v.collateralValue, v.maintenanceReq);
        r.pricesSafe = v.allSafe;
        if (v.positions.length == 1 && v.debt > v.cash) {
            Position memory pos = v.positions[0];
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

    /// @inheritdoc IMarginEngine
    function accountState(address account) external view returns (AccountState) {
        return _classify(_valuate(account, 0), _accounts[account].callDeadline);
    }

    /// @inheritdoc IMarginEngine
    function balanceOf(address account, address asset) external view returns (uint256) {
        if (asset == address(_cash)) return _accounts[account].cash;
        return _balances[account][asset];
    }

    /// @inheritdoc IMarginEngine
    function debtOf(address account) external view returns (uint256 debt, uint256 scaled) {
        scaled = _accounts[account].scaledDebt;
        if (scaled > 0) debt = MarginMath.debtOf(scaled, _pool.borrowIndex());
    }

    /// @inheritdoc IMarginEngine
    function assetMargins(
        address asset
    ) external view returns (uint256 maintenance, uint256 initial, uint256 volatility) {
        AssetRecord storage cfg = _assets[asset];
        if (!cfg.listed) revert MarginAssetNotListed(asset);
        volatility = _oracle.volatility(asset);
        (maintenance, initial) = _margins(cfg.liquidityTier, volatility);
    }

    /// @inheritdoc IMarginEngine
    function insuranceOwed() external view returns (uint256) {
        return _params.insuranceOwedPlusOne - 1;
    }

    /// @inheritdoc IMarginEngine
    function assetConfig(address asset) external view returns (AssetConfig memory c) {
        AssetRecord memory r = _assets[asset];
        c.listed = r.listed;
        c.liquidityTier = r.liquidityTier;
        c.id = r.id;
        c.haircut = r.haircut;
        c.liquidationPenalty = r.liquidationPenalty;
        if (r.listed) c.scale = uint128(uint256(10) ** r.scaleExp);
        c.windowCap = r.windowCap;
        c.windowStart = r.windowStart;
        c.seizedInWindow = r.seizedInWindow;
    }

    /// @inheritdoc IMarginEngine
    function tierRisk(uint8 tier) external view returns (TierRisk memory r) {
        TierRecord memory t = _tiers[tier];
        r.baseMaintenance = uint64(t.baseMaintenance * TIER_RISK_STEP);
        r.volatilityMultiplier = uint64(t.volatilityMultiplier * TIER_RISK_STEP);
        r.floor = uint64(t.floor * TIER_RISK_STEP);
        r.cap = uint64(t.cap * TIER_RISK_STEP);
        r.initialBuffer = uint64(t.initialBuffer * TIER_RISK_STEP);
    }

    /// @inheritdoc IMarginEngine
    function params() external view returns (Params memory) {
        return _paramsNow();
    }

    /// @inheritdoc IMarginEngine
    function listedAssets() external view returns (address[] memory) {
        uint256 n = _assetCount;
        address[] memory list = new address[](n);
        for (uint256 id; id < n; ++id) list[id] = _assetById[id];
        return list;
    }

    /// @inheritdoc IMarginEngine
    function seizableInWindow(address asset) external view returns (uint256) {
        return _windowRemaining(_assets[asset], _params.liquidationWindow);
    }

    /// @inheritdoc IMarginEngine
    function contracts()
        external
        view
        returns (address cash, address pool, address insurance, address oracle, address kyc)
    {
        return (address(_cash), address(_pool), address(_insurance), address(_oracle), address(_kyc));
    }

    /// @notice The account's recorded state and margin-call deadline (what the last transition wrote).
    function recordedState(address account) external view returns (AccountState state, uint64 callDeadline) {
        Account memory a = _accounts[account];
        return (a.state, a.callDeadline);
    }

    // ───────────────────────────── balances ─────────────────────────────

    /// @dev Repays min(amount, debt) of the caller's debt from its margin cash or, `fromWallet`, from its wallet.
    function _repay(uint256 amount, bool fromWallet) private {
        if (amount == 0) revert MarginZeroAmount();
        Account storage a = _accounts[msg.sender];
        uint256 scaled = a.scaledDebt;
        if (scaled == 0) revert MarginNoDebt(msg.sender);
        // Accrues now: the pool's repay below then finds its accrual done.
        uint256 index = _pool.accrue();
        uint256 debt = MarginMath.debtOf(scaled, index);
        uint256 pay = amount < debt ? amount : debt;
        uint256 retire = pay == debt ? scaled : MarginMath.scaledFor(pay, index);
        if (retire == 0) revert MarginZeroAmount();
        uint256 pulled = MarginMath.debtOf(retire, index);
        if (!fromWallet) _debit(msg.sender, address(_cash), pulled);
        // retire ≤ scaled: it is either scaled itself or floor(pay·RAY/index) with pay < debt.
        unchecked {
            a.scaledDebt = uint96(scaled - retire);
        }
        emit Repaid(msg.sender, pulled, retire, MarginMath.debtOf(scaled - retire, index));
        if (a.state != AccountState.Healthy) _refresh(msg.sender, _valuate(msg.sender, index));
        if (fromWallet) _cash.safeTransferFrom(msg.sender, address(this), pulled);
        _pool.repay(retire);
    }

    /// @dev Makes sure the engine itself holds `amount` cash before paying it out, taking the shortfall from its
    ///      float in the pool (lent cash the pool keeps until it leaves the margin system). The engine's cash balance
    ///      plus that float always equals its accounts' cash plus the insurance share owed, so the float covers it.
    function _holdCash(uint256 amount) private {
        uint256 held = _cash.balanceOf(address(this));
        if (held < amount) _pool.release(amount - held, address(this));
    }

    function _credit(address account, address asset, uint256 amount) private {
        Account storage a = _accounts[account];
        if (asset == address(_cash)) {
            a.cash = (a.cash + amount).toUint96();
            return;
        }
        AssetRecord storage cfg = _assets[asset];
        if (!cfg.listed) revert MarginAssetNotListed(asset);
        uint16 bit = uint16(1 << cfg.id);
        if (a.heldMask & bit == 0) a.heldMask |= bit;
        _balances[account][asset] += amount;
    }

    function _debit(address account, address asset, uint256 amount) private {
        Account storage a = _accounts[account];
        if (asset == address(_cash)) {
            uint256 cash = a.cash;
            if (cash < amount) revert MarginInsufficientBalance(account, asset, cash, amount);
            // amount ≤ cash < 2**96 was checked just above.
            a.cash = uint96(cash - amount);
            return;
        }
        uint256 held = _balances[account][asset];
        if (held < amount) revert MarginInsufficientBalance(account, asset, held, amount);
        // held ≥ amount was checked just above.
        unchecked {
            _balances[account][asset] = held - amount;
        }
        if (held == amount) a.heldMask &= ~uint16(1 << _assets[asset].id);
    }

    // ───────────────────────────── valuation and state ─────────────────────────────

    /// @dev `index`: the pool's borrow index as of now when the caller already has it (0: ask the pool).
    function _valuate(address account, uint256 index) private view returns (Valuation memory v) {
        Account memory a = _accounts[account];
        v.cash = a.cash;
        v.scaled = a.scaledDebt;
        v.callDeadline = a.callDeadline;
        if (v.scaled > 0) {
            v.index = index == 0 ? _pool.borrowIndex() : index;
            v.debt = MarginMath.debtOf(v.scaled, v.index);
        }
        v.allSafe = true;
        uint256 mask = a.heldMask;
        uint256 n = _popcount(mask);
        v.positions = new Position[](n);
        if (n == 0) return v;
        address[] memory assets = new address[](n);
        uint256 k;
        for (uint256 id; mask != 0; ++id) {
            if (mask & 1 == 1) assets[k++] = _assetById[id];
            mask >>= 1;
        }
        // One router call for every held asset: price, status, safeSince and volatility from one evaluation each.
        IOracleRouter.Quote[] memory quotes = _oracle.quotes(assets);
        for (uint256 i; i < n; ++i) {
            Position memory pos = _position(account, assets[i], quotes[i], v);
            v.positions[i] = pos;
            v.positionValue += pos.value;
            pos.collateral = MarginMath.mulDown(pos.value, FixedPoint.WAD - pos.haircut);
            pos.maintenanceAmount = MarginMath.mulUp(pos.value, pos.maintenance);
            v.collateralValue += pos.collateral;
            v.maintenanceReq += pos.maintenanceAmount;
            v.initialReq += MarginMath.mulUp(pos.value, pos.initial);
        }
    }

    function _position(
        address account,
        address asset,
        IOracleRouter.Quote memory q,
        Valuation memory v
    ) private view returns (Position memory pos) {
        AssetRecord storage cfg = _assets[asset];
        pos.asset = asset;
        pos.balance = _balances[account][asset];
        pos.tier = cfg.liquidityTier;
        pos.haircut = cfg.haircut;
        pos.penalty = cfg.liquidationPenalty;
        pos.scale = uint256(10) ** cfg.scaleExp;
        pos.price = q.price;
        pos.safeSince = q.safeSince;
        if (q.status != IOracleRouter.PriceStatus.Safe && v.allSafe) {
            v.allSafe = false;
            v.unsafeAsset = asset;
            v.unsafeStatus = q.status;
        }
        pos.value = MarginMath.valueOf(pos.balance, pos.price, pos.scale);
        (pos.maintenance, pos.initial) = _margins(pos.tier, q.volatility);
    }

    function _margins(uint8 tier, uint256 volatility) private view returns (uint256, uint256) {
        TierRecord memory t = _tiers[tier];
        return
            MarginMath.margins(
                t.baseMaintenance * TIER_RISK_STEP,
                t.volatilityMultiplier * TIER_RISK_STEP,
                t.floor * TIER_RISK_STEP,
                t.cap * TIER_RISK_STEP,
                t.initialBuffer * TIER_RISK_STEP,
                volatility
            );
    }

    function _equity(Valuation memory v) private pure returns (int256) {
        return MarginMath.equity(v.cash, v.collateralValue, v.debt);
    }

    /// @dev The state the valuation puts the account in, given its recorded margin-call deadline.
    function _classify(Valuation memory v, uint64 deadline) private view returns (AccountState) {
        if (v.debt == 0) return AccountState.Healthy;
        if (v.debt > v.cash + v.positionValue) return AccountState.Defaulted;
        int256 eq = _equity(v);
        // Only slot 0 of the params (the ratios) is needed: read through storage, not a copy of both slots.
        ParamsRecord storage p = _params;
        if (eq < SafeCast.toInt256(MarginMath.mulDown(v.maintenanceReq, p.hardFloorFactor))) {
            return AccountState.Liquidatable;
        }
        if (eq < SafeCast.toInt256(v.maintenanceReq)) {
            return deadline != 0 && block.timestamp >= deadline ? AccountState.Liquidatable : AccountState.MarginCall;
        }
        if (eq < SafeCast.toInt256(v.maintenanceReq + MarginMath.mulUp(v.positionValue, p.warningBuffer))) {
            return AccountState.Warning;
        }
        return AccountState.Healthy;
    }

    /// @dev Records the state: starts a margin call (deadline) when below maintenance, cures it when back above,
    ///      and emits every transition. Records nothing while a held price is not Safe, so that a bad price never
    ///      starts the clock.
    function _refresh(address account, Valuation memory v) private returns (AccountState s) {
        Account storage a = _accounts[account];
        AccountState before = a.state;
        if (!v.allSafe) return before;
        int256 eq = _equity(v);
        uint40 deadline = a.callDeadline;
        bool below = v.debt > 0 && eq < SafeCast.toInt256(v.maintenanceReq);
        if (below && deadline == 0) {
            deadline = uint40(block.timestamp) + _params.gracePeriod;
            a.callDeadline = deadline;
            emit MarginCalled(account, deadline, eq, v.maintenanceReq);
        } else if (!below && deadline != 0) {
            deadline = 0;
            a.callDeadline = 0;
            emit MarginCallCured(account);
        }
        s = _classify(v, deadline);
        if (s != before) {
            a.state = s;
            emit AccountStateChanged(account, before, s, eq, v.maintenanceReq);
        }
    }

    function _requireInitialMargin(address account, Valuation memory v, uint256 maxLeverage) private pure {
        if (!v.allSafe) revert MarginPriceUnsafe(v.unsafeAsset, v.unsafeStatus);
        int256 eq = _equity(v);
        if (eq < SafeCast.toInt256(v.initialReq)) revert MarginInitialMarginBreached(account, eq, v.initialReq);
        if (!_withinLeverage(v, eq, maxLeverage)) {
            revert MarginLeverageExceeded(account, v.cash + v.positionValue, eq, maxLeverage);
        }
    }

    /// @dev Gross exposure (cash + positions) ≤ the owner's tier leverage · equity.
    function _withinLeverage(Valuation memory v, int256 eq, uint256 maxLeverage) private pure returns (bool) {
        if (eq <= 0) return false;
        return (v.cash + v.positionValue) * FixedPoint.WAD <= maxLeverage * uint256(eq);
    }

    /// @dev Uses the router's safeSince from the valuation's quotes (same block, same evaluation as the prices).
    function _requireOracleGrace(Valuation memory v, uint256 grace) private view {
        for (uint256 i; i < v.positions.length; ++i) {
            uint256 since = v.positions[i].safeSince;
            if (since == 0 || block.timestamp < since + grace) {
                revert MarginOracleGrace(v.positions[i].asset, since + grace);
            }
        }
    }

    // ───────────────────────────── liquidation ─────────────────────────────

    /// @dev The least liquid held position (highest tier; lowest id on a tie). When its window cap is used up the
    ///      liquidation stops there (found = false): more liquid assets are not sold out of order, and the next
    ///      window continues.
    function _pickSegment(Valuation memory v, uint256 window) private view returns (bool found, uint256 best) {
        uint8 bestTier;
        for (uint256 i; i < v.positions.length; ++i) {
            Position memory pos = v.positions[i];
            if (pos.balance == 0 || pos.tier <= bestTier) continue;
            (best, bestTier) = (i, pos.tier);
        }
        found = bestTier > 0 && _windowRemaining(_assets[v.positions[best].asset], window) > 0;
    }

    function _windowRemaining(AssetRecord storage cfg, uint256 window) private view returns (uint256) {
        if (block.timestamp >= cfg.windowStart + window) return cfg.windowCap;
        return cfg.windowCap - cfg.seizedInWindow;
    }

    /// @dev Units to seize from `pos`: just enough for `target` (the equity the liquidation restores; `eq` is the
    ///      equity now; both computed by the caller, unused when `full`) rounded up to whole base units, all of it when
    ///      the target cannot be reached or the account is defaulted, never more than repays the whole debt, the
    ///      whole position when the rest would be dust, and at most the window's remaining cap.
    function _unitsToSeize(
        Valuation memory v,
        Position memory pos,
        ParamsRecord memory p,
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
        uint256 cap = _windowRemaining(_assets[pos.asset], p.liquidationWindow);
        if (units > cap) units = cap;
    }

    /// @dev One segment: moves the units to the liquidator's account, books the proceeds against the debt (any
    ///      excess to the account's cash), records the window and updates the valuation in memory.
    function _segment(
        address account,
        Valuation memory v,
        Position memory pos,
        ParamsRecord memory p,
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

        _debit(account, pos.asset, units);
        _credit(msg.sender, pos.asset, units);
        _recordSeizure(_assets[pos.asset], units, p.liquidationWindow);
        t.liquidatorPays += value - bonus;
        t.insurance += penalty - bonus;
        t.repaid += toDebt;
        v.debt -= toDebt;
        v.cash += proceeds - toDebt;
        _revalue(v, pos, pos.balance - units);
        emit Liquidated(account, msg.sender, pos.asset, units, pos.price, value, toDebt, bonus, penalty - bonus);
    }

    function _recordSeizure(AssetRecord storage cfg, uint256 units, uint256 window) private {
        if (block.timestamp >= cfg.windowStart + window) {
            cfg.windowStart = uint64(block.timestamp);
            cfg.seizedInWindow = units.toUint128();
        } else {
            cfg.seizedInWindow += units.toUint128();
        }
    }

    /// @dev Replaces a position's balance in the valuation, keeping every sum liquidation reads (positionValue,
    ///      collateralValue, maintenanceReq) exactly as _valuate would compute it. initialReq is not kept: nothing
    ///      after a segment reads it (the liquidator's own check values its account afresh).
    function _revalue(Valuation memory v, Position memory pos, uint256 newBalance) private pure {
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
    function _settle(address account, Valuation memory v, Settlement memory t) private {
        _debit(msg.sender, address(_cash), t.liquidatorPays);

        bool waterfall = _accounts[account].heldMask == 0 && v.debt > 0;
        if (waterfall) {
            // The account's own cash is the first loss absorber.
            uint256 fromCash = v.cash < v.debt ? v.cash : v.debt;
            v.cash -= fromCash;
            v.debt -= fromCash;
            t.repaid += fromCash;
        }
        uint256 retire = v.debt == 0 ? v.scaled : MarginMath.scaledFor(t.repaid, v.index);
        uint256 pulled = retire == 0 ? 0 : MarginMath.debtOf(retire, v.index);
        // pulled ≤ t.repaid (floor then ceil at the same index); the rounding remainder stays the account's.
        v.cash += t.repaid - pulled;
        _accounts[account].cash = v.cash.toUint96();
        uint256 owed = _params.insuranceOwedPlusOne - 1 + t.insurance;
        Loss memory loss;
        if (waterfall) loss = _bookLoss(account, v, t, v.scaled - retire, owed);
        else _accounts[account].scaledDebt = uint96(v.scaled - retire);
        // The fund must hold what is owed to it before it pays a claim; otherwise the share waits for a sweep.
        uint256 toFund = loss.coveredScaled > 0 ? owed : 0;
        _params.insuranceOwedPlusOne = (1 + owed - toFund).toUint88();
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
        if (_accounts[msg.sender].scaledDebt > 0) {
            _requireInitialMargin(msg.sender, _valuate(msg.sender, v.index), _kyc.maxLeverageOf(msg.sender));
        }
    }

    /// @dev Loss waterfall once the account's collateral and cash are gone: the insurance fund (including every
    ///      penalty share owed to it, this call's too) pays what it can, the pool writes off the rest (its share
    ///      price falls; the pool emits by how much). Books and emits here; the transfers happen at the end of
    ///      _settle.
    function _bookLoss(
        address account,
        Valuation memory v,
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
        _accounts[account].scaledDebt = 0;
        v.debt = 0;
        // The pool books floor(scaled · index / RAY) as the write-off.
        uint256 writtenOff = Math.mulDiv(loss.writeOffScaled, v.index, FixedPoint.RAY);
        emit DefaultSettled(account, t.repaid, loss.fromInsurance, writtenOff);
    }

    // ───────────────────────────── params ─────────────────────────────

    function _setParams(Params memory p) private {
        if (
            p.warningBuffer > FixedPoint.WAD ||
            p.hardFloorFactor > FixedPoint.WAD ||
            p.targetBuffer > FixedPoint.WAD ||
            p.liquidatorShare > FixedPoint.WAD ||
            p.liquidationWindow == 0 ||
            p.dustValue > type(uint72).max
        ) revert MarginInvalidParams();
        ParamsRecord storage r = _params;
        r.warningBuffer = p.warningBuffer;
        r.hardFloorFactor = p.hardFloorFactor;
        r.targetBuffer = p.targetBuffer;
        r.liquidatorShare = p.liquidatorShare;
        r.gracePeriod = p.gracePeriod;
        r.oracleGrace = p.oracleGrace;
        r.liquidationWindow = p.liquidationWindow;
        // dustValue ≤ 2**72 − 1 was checked above; the insurance share owed is kept as it is.
        r.dustValue = uint72(p.dustValue);
        emit ParamsSet(p);
    }

    function _paramsNow() private view returns (Params memory p) {
        ParamsRecord memory r = _params;
        p.warningBuffer = r.warningBuffer;
        p.hardFloorFactor = r.hardFloorFactor;
        p.targetBuffer = r.targetBuffer;
        p.liquidatorShare = r.liquidatorShare;
        p.gracePeriod = r.gracePeriod;
        p.oracleGrace = r.oracleGrace;
        p.liquidationWindow = r.liquidationWindow;
        p.dustValue = r.dustValue;
    }

    function _popcount(uint256 x) private pure returns (uint256 n) {
        for (; x != 0; x &= x - 1) ++n;
    }
}
