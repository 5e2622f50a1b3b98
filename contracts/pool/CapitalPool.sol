// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IERC4626} from "@openzeppelin/contracts/interfaces/IERC4626.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {FixedPoint} from "../shared/FixedPoint.sol";
import {ICapitalPool} from "./ICapitalPool.sol";
import {IInsuranceFund} from "./IInsuranceFund.sol";

/// @title CapitalPool
/// @notice See ICapitalPool. Trust: the bound borrower (MarginEngine) is trusted to borrow only against margin and to
///         write off only debt that collateral and the insurance fund could not cover. Lent cash stays here as the
///         borrower's float until the borrower releases it or repays with it: the pool's token balance is its own
///         cash plus that float, and only the float can be released.
/// @dev Share decimals = cash decimals + 6 (virtual-share offset against the first-depositor inflation attack). The
///      pool counts the cash it holds itself instead of reading the token's balance: a token sent to it directly
///      (a donation) moves neither the share price nor the utilisation.
contract CapitalPool is ICapitalPool, ERC4626, AccessManaged, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using Math for uint256;
    using SafeCast for uint256;

    /// @notice Highest annual rate a model may reach: 1000%.
    uint256 public constant MAX_RATE = 10e18;

    IInsuranceFund private immutable _insurance;

    // slot: index (128, 1e27 at the start: room for a 3.4e11-fold growth, as Aave's 128-bit RAY indices) |
    // lastAccrual (40, year 36812) | the borrower's float (88): an accrual reads and writes the first two together,
    // and borrow and repay, which accrue first, write the float into the word the accrual wrote.
    uint128 private _index = uint128(FixedPoint.RAY);
    uint40 private _lastAccrual;
    uint88 private _float;
    // slot: borrower (160) | reserveFactor (64, ≤ 1e18): every borrower call checks the first, an accrual with
    // interest reads the second. RateModel (4 × 64) takes the next slot.
    address private _borrower;
    uint64 private _reserveFactor;
    RateModel private _model;
    // slot: cash held (88) | totalScaled (88) | reservesOwed (80): an accrual reads all three (utilisation, interest)
    // and writes the last; borrow, repay, deposit and withdraw write cash and debt in the same word. Bounds, in
    // base units (SafeCast reverts above them, nothing is truncated): 2**88 − 1 (3.1e20 whole units of a 6-decimal
    // cash token) for cash and scaled debt, 2**80 − 1 (1.2e18 whole units) for reserves owed.
    uint88 private _cashHeld;
    uint88 private _totalScaled;
    uint80 private _reservesOwed;
    // slot: deficit, read by borrow.
    uint128 private _deficit;
    uint256 private _writtenOff;

    /// @param cash the cash token lent out
    /// @param insurance the insurance fund receiving the reserve factor
    /// @param authority the AccessManager
    /// @param model initial annual rate model
    /// @param reserveFactor_ initial reserve factor (18 decimals)
    constructor(
        IERC20Metadata cash,
        IInsuranceFund insurance,
        address authority,
        RateModel memory model,
        uint256 reserveFactor_
    )
        ERC20(string.concat("MarginBridge Pool ", cash.symbol()), string.concat("mbp", cash.symbol()))
        ERC4626(cash)
        AccessManaged(authority)
    {
        _insurance = insurance;
        _lastAccrual = uint40(block.timestamp);
        _setRateModel(model);
        _setReserveFactor(reserveFactor_);
    }

    /// @dev The borrower calls are the hot path of every margin action: a direct check against the address bound
    ///      once by the admin replaces the AccessManager round trip.
    modifier onlyBorrower() {
        if (msg.sender != _borrower) revert PoolNotBorrower(msg.sender);
        _;
    }

    // ───────────────────────────── admin ─────────────────────────────

    /// @inheritdoc ICapitalPool
    function bindBorrower(address borrower_) external restricted {
        if (borrower_ == address(0)) revert PoolInvalidBorrower(borrower_);
        address bound = _borrower;
        if (bound != address(0)) revert PoolBorrowerAlreadyBound(bound);
        _borrower = borrower_;
        emit BorrowerBound(borrower_);
    }

    // ───────────────────────────── borrower (MarginEngine) ─────────────────────────────

    /// @inheritdoc ICapitalPool
    function borrow(uint256 assets) external onlyBorrower nonReentrant returns (uint256 scaled, uint256 index) {
        if (assets == 0) revert PoolZeroAmount();
        index = _accrue();
        uint256 d = _deficit;
        if (d > 0) revert PoolDeficitUnresolved(d);
        uint256 cash = _cashHeld;
        uint256 owed = _reservesOwed;
        uint256 available = cash > owed ? cash - owed : 0;
        if (assets > available) revert PoolInsufficientCash(assets, available);
        scaled = assets.mulDiv(FixedPoint.RAY, index, Math.Rounding.Ceil);
        // assets ≤ available ≤ cash was checked just above; the float is lent cash, below 2**88 as cash is.
        _cashHeld = uint88(cash - assets);
        _totalScaled = (_totalScaled + scaled).toUint88();
        _float = (_float + assets).toUint88();
        emit Borrowed(msg.sender, assets, scaled, index);
    }

    /// @inheritdoc ICapitalPool
    function repay(uint256 scaled) external onlyBorrower nonReentrant returns (uint256 assets) {
        if (scaled == 0) revert PoolZeroAmount();
        uint256 index = _accrue();
        uint256 total = _totalScaled;
        if (scaled > total) revert PoolDebtExceeded(scaled, total);
        assets = scaled.mulDiv(index, FixedPoint.RAY, Math.Rounding.Ceil);
        uint256 float_ = _float;
        uint256 fromFloat = assets < float_ ? assets : float_;
        _cashHeld = (_cashHeld + assets).toUint88();
        // scaled ≤ total < 2**88 was checked just above; fromFloat ≤ float.
        _totalScaled = uint88(total - scaled);
        if (fromFloat > 0) _float = uint88(float_ - fromFloat);
        emit Repaid(msg.sender, assets, scaled, index);
        if (assets > fromFloat) IERC20(asset()).safeTransferFrom(msg.sender, address(this), assets - fromFloat);
    }

    /// @inheritdoc ICapitalPool
    function release(uint256 assets, address to) external onlyBorrower nonReentrant {
        uint256 float_ = _float;
        if (assets == 0) revert PoolZeroAmount();
        if (assets > float_) revert PoolFloatExceeded(assets, float_);
        // assets ≤ float was checked just above.
        _float = uint88(float_ - assets);
        emit FloatReleased(msg.sender, to, assets);
        IERC20(asset()).safeTransfer(to, assets);
    }

    /// @inheritdoc ICapitalPool
    function writeOff(uint256 scaled) external onlyBorrower nonReentrant returns (uint256 assets) {
        if (scaled == 0) revert PoolZeroAmount();
        uint256 index = _accrue();
        uint256 total = _totalScaled;
        if (scaled > total) revert PoolDebtExceeded(scaled, total);
        uint256 priceBefore = _sharePrice();
        assets = scaled.mulDiv(index, FixedPoint.RAY);
        // scaled ≤ total < 2**88 was checked just above.
        _totalScaled = uint88(total - scaled);
        _deficit = (_deficit + assets).toUint128();
        _writtenOff += assets;
        emit BadDebtWrittenOff(msg.sender, assets, scaled, priceBefore, _sharePrice(), _deficit);
    }

    // ───────────────────────────── anyone ─────────────────────────────

    /// @inheritdoc ICapitalPool
    function coverDeficit(uint256 assets) external nonReentrant {
        uint256 d = _deficit;
        if (assets == 0 || assets > d) revert PoolNoSuchDeficit(assets, d);
        _accrue();
        // assets ≤ d < 2**128 was checked above.
        _deficit = uint128(d - assets);
        _cashHeld = (_cashHeld + assets).toUint88();
        emit DeficitCovered(msg.sender, assets, d - assets);
        IERC20(asset()).safeTransferFrom(msg.sender, address(this), assets);
    }

    /// @inheritdoc ICapitalPool
    function sweepReserves() external nonReentrant returns (uint256 paid) {
        _accrue();
        uint256 cash = _cashHeld;
        uint256 owed = _reservesOwed;
        paid = owed < cash ? owed : cash;
        if (paid == 0) return 0;
        // paid ≤ owed < 2**80 and paid ≤ cash < 2**88.
        _reservesOwed = uint80(owed - paid);
        _cashHeld = uint88(cash - paid);
        emit ReservesSwept(address(_insurance), paid);
        IERC20(asset()).forceApprove(address(_insurance), paid);
        _insurance.receiveIncome(paid, "reserve-factor");
    }

    /// @inheritdoc ICapitalPool
    function accrue() external returns (uint256 index) {
        return _accrue();
    }

    // ───────────────────────────── risk officer ─────────────────────────────

    /// @inheritdoc ICapitalPool
    function acknowledgeDeficit() external restricted {
        uint256 d = _deficit;
        if (d == 0) revert PoolNoSuchDeficit(0, 0);
        _deficit = 0;
        emit DeficitAcknowledged(d);
    }

    /// @inheritdoc ICapitalPool
    function setRateModel(RateModel calldata model) external restricted {
        _accrue();
        _setRateModel(model);
    }

    /// @inheritdoc ICapitalPool
    function setReserveFactor(uint256 reserveFactor_) external restricted {
        _accrue();
        _setReserveFactor(reserveFactor_);
    }

    // ───────────────────────────── ERC-4626 ─────────────────────────────

    /// @notice cash + outstanding debt − reserves owed, as of now (interest included).
    function totalAssets() public view override(ERC4626, IERC4626) returns (uint256) {
        (uint256 index, uint256 owed) = _accrued();
        uint256 gross = uint256(_cashHeld) + uint256(_totalScaled).mulDiv(index, FixedPoint.RAY);
        return gross > owed ? gross - owed : 0;
    }

    /// @notice The cash the pool can still book (its cash is kept in 88 bits): 2**88 − 1 − cash held. A larger
    ///         deposit reverts with ERC4626ExceededMaxDeposit.
    function maxDeposit(address) public view override(ERC4626, IERC4626) returns (uint256) {
        return type(uint88).max - uint256(_cashHeld);
    }

    /// @notice The shares maxDeposit buys, rounded down (so that mint's assets, rounded up, stay within it).
    function maxMint(address receiver) public view override(ERC4626, IERC4626) returns (uint256) {
        return _convertToShares(maxDeposit(receiver), Math.Rounding.Floor);
    }

    /// @notice Limited by the owner's shares and by the cash available now.
    function maxWithdraw(address owner) public view override(ERC4626, IERC4626) returns (uint256) {
        uint256 own = super.maxWithdraw(owner);
        uint256 available = _availableCashNow();
        return own < available ? own : available;
    }

    /// @notice Limited by the owner's shares and by the cash available now.
    function maxRedeem(address owner) public view override(ERC4626, IERC4626) returns (uint256) {
        uint256 own = balanceOf(owner);
        uint256 byCash = _convertToShares(_availableCashNow(), Math.Rounding.Floor);
        return own < byCash ? own : byCash;
    }

    function deposit(uint256 assets, address receiver) public override(ERC4626, IERC4626) returns (uint256) {
        _accrue();
        return super.deposit(assets, receiver);
    }

    function mint(uint256 shares, address receiver) public override(ERC4626, IERC4626) returns (uint256) {
        _accrue();
        return super.mint(shares, receiver);
    }

    function withdraw(
        uint256 assets,
        address receiver,
        address owner
    ) public override(ERC4626, IERC4626) returns (uint256) {
        _accrue();
        return super.withdraw(assets, receiver, owner);
    }

    function redeem(
        uint256 shares,
        address receiver,
        address owner
    ) public override(ERC4626, IERC4626) returns (uint256) {
        _accrue();
        return super.redeem(shares, receiver, owner);
    }

    // ───────────────────────────── views ─────────────────────────────

    /// @inheritdoc ICapitalPool
    function borrowIndex() external view returns (uint256 index) {
        (index, ) = _accrued();
    }

    /// @inheritdoc ICapitalPool
    function totalDebt() external view returns (uint256) {
        (uint256 index, ) = _accrued();
        return uint256(_totalScaled).mulDiv(index, FixedPoint.RAY);
    }

    /// @inheritdoc ICapitalPool
    function floatHeld() external view returns (uint256) {
        return _float;
    }

    /// @inheritdoc ICapitalPool
    function totalScaledDebt() external view returns (uint256) {
        return _totalScaled;
    }

    /// @inheritdoc ICapitalPool
    function availableCash() external view returns (uint256) {
        return _availableCashNow();
    }

    /// @inheritdoc ICapitalPool
    function utilisation() public view returns (uint256) {
        (uint256 index, ) = _accrued();
        return _utilisation(_cashHeld, uint256(_totalScaled).mulDiv(index, FixedPoint.RAY));
    }

    /// @inheritdoc ICapitalPool
    function borrowRate() public view returns (uint256) {
        return _rate(utilisation());
    }

    /// @inheritdoc ICapitalPool
    function ratePerDay() external view returns (uint256) {
        return borrowRate() / FixedPoint.DAYS_PER_YEAR;
    }

    /// @inheritdoc ICapitalPool
    function rateModel() external view returns (RateModel memory) {
        return _model;
    }

    /// @inheritdoc ICapitalPool
    function reserveFactor() external view returns (uint256) {
        return _reserveFactor;
    }

    /// @inheritdoc ICapitalPool
    function reservesOwed() external view returns (uint256 owed) {
        (, owed) = _accrued();
    }

    /// @inheritdoc ICapitalPool
    function deficit() external view returns (uint256) {
        return _deficit;
    }

    /// @inheritdoc ICapitalPool
    function totalWrittenOff() external view returns (uint256) {
        return _writtenOff;
    }

    /// @inheritdoc ICapitalPool
    function borrower() external view returns (address) {
        return _borrower;
    }

    /// @inheritdoc ICapitalPool
    function insuranceFund() external view returns (address) {
        return address(_insurance);
    }

    // ───────────────────────────── internals ─────────────────────────────

    function _decimalsOffset() internal pure override returns (uint8) {
        return 6;
    }

    /// @dev Writes the index and reserves up to now; returns the new index.
    function _accrue() private returns (uint256 index) {
        if (_lastAccrual == block.timestamp) return _index;
        uint256 owed;
        (index, owed) = _accrued();
        _index = index.toUint128();
        _reservesOwed = owed.toUint80();
        _lastAccrual = uint40(block.timestamp);
    }

    /// @dev Index and reserves owed as of now, from the stored ones: the rate of the stored utilisation applies
    ///      for the whole elapsed interval (simple interest inside it, compounding at every accrual).
    function _accrued() private view returns (uint256 index, uint256 owed) {
        index = _index;
        owed = _reservesOwed;
        uint256 elapsed = block.timestamp - _lastAccrual;
        uint256 scaled = _totalScaled;
        if (elapsed == 0 || scaled == 0) return (index, owed);
        uint256 debtBefore = scaled.mulDiv(index, FixedPoint.RAY);
        uint256 rate = _rate(_utilisation(_cashHeld, debtBefore));
        index += index.mulDiv(rate * elapsed, FixedPoint.WAD * FixedPoint.YEAR);
        uint256 interest = scaled.mulDiv(index, FixedPoint.RAY) - debtBefore;
        owed += interest.mulDiv(uint256(_reserveFactor), FixedPoint.WAD);
    }

    function _rate(uint256 u) private view returns (uint256) {
        RateModel memory m = _model;
        if (u <= m.kink) {
            return m.kink == 0 ? m.base : m.base + uint256(m.slope1).mulDiv(u, m.kink);
        }
        return m.base + m.slope1 + uint256(m.slope2).mulDiv(u - m.kink, FixedPoint.WAD - m.kink);
    }

    function _utilisation(uint256 cash, uint256 debt) private pure returns (uint256) {
        if (debt == 0) return 0;
        return debt.mulDiv(FixedPoint.WAD, cash + debt);
    }

    function _availableCashNow() private view returns (uint256) {
        (, uint256 owed) = _accrued();
        uint256 cash = _cashHeld;
        return cash > owed ? cash - owed : 0;
    }

    /// @dev Deposits and mints: the cash counted is what the caller paid, never the token balance.
    function _transferIn(address from, uint256 assets) internal override {
        _cashHeld = (_cashHeld + assets).toUint88();
        super._transferIn(from, assets);
    }

    /// @dev Withdrawals and redemptions: maxWithdraw/maxRedeem already capped assets at the available cash.
    function _transferOut(address to, uint256 assets) internal override {
        _cashHeld = (_cashHeld - assets).toUint88();
        super._transferOut(to, assets);
    }

    /// @dev Cash base units per one whole share (10**decimals() shares), rounded down.
    function _sharePrice() private view returns (uint256) {
        return _convertToAssets(10 ** decimals(), Math.Rounding.Floor);
    }

    function _setRateModel(RateModel memory m) private {
        if (m.kink > FixedPoint.WAD || uint256(m.base) + m.slope1 + m.slope2 > MAX_RATE) {
            revert PoolInvalidRateModel(m.base, m.slope1, m.slope2, m.kink);
        }
        _model = m;
        emit RateModelSet(m.base, m.slope1, m.slope2, m.kink);
    }

    function _setReserveFactor(uint256 rf) private {
        if (rf > FixedPoint.WAD) revert PoolInvalidReserveFactor(rf);
        // rf ≤ 1e18 < 2**64 was checked just above.
        _reserveFactor = uint64(rf);
        emit ReserveFactorSet(rf);
    }
}
