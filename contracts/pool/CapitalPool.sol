// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {FixedPoint} from "../shared/FixedPoint.sol";
import {ICapitalPool} from "./ICapitalPool.sol";
import {IInsuranceFund} from "./IInsuranceFund.sol";
import {ITrancheVault} from "./ITrancheVault.sol";
import {TrancheMath} from "./TrancheMath.sol";

/// @title CapitalPool
/// @notice See ICapitalPool. Trust: the bound borrower (MarginEngine) is trusted to borrow only against margin and to
///         write off only debt that collateral and the insurance fund could not cover; the two bound tranche vaults
///         are trusted to move exactly the cash they book. Lent cash stays here as the borrower's float until the
///         borrower releases it or repays with it: the pool's token balance is its own cash, that float and the
///         cash of served redemptions not yet claimed; only the float can be released, only claims take the last.
/// @dev The pool counts the cash it holds itself instead of reading the token's balance: a token sent to it directly
///      (a donation) moves neither a share price nor the utilisation. The classes' split is kept as the senior claim
///      and the junior assets at the last checkpoint (`_openBook` … `_closeBook` around every movement of a class);
///      between checkpoints the views compute it as of now, so a view and the next checkpoint always agree.
contract CapitalPool is ICapitalPool, AccessManaged, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using Math for uint256;
    using SafeCast for uint256;

    /// @notice Highest annual rate a model may reach: 1000%.
    uint256 public constant MAX_RATE = 10e18;
    /// @notice The vaults' virtual shares (ERC-4626 decimals offset 6), used by the pool's own conversions.
    uint256 public constant VIRTUAL_SHARES = TrancheMath.VIRTUAL_SHARES;

    uint8 private constant _SENIOR = 0;
    uint8 private constant _JUNIOR = 1;
    /// @dev `_split.emptyMask` bits: a class without shares (its assets belong to the other one).
    uint8 private constant _SENIOR_EMPTY = 1;
    uint8 private constant _JUNIOR_EMPTY = 2;
    uint256 private constant _UNIT = TrancheMath.UNIT;
    uint256 private constant _MAX_BUFFER = _UNIT / 2;
    uint256 private constant _MAX_NOTICE = 365 days;

    IERC20 private immutable _cash;
    IInsuranceFund private immutable _insurance;

    /// @dev slot: index (128, 1e27 at the start: room for a 3.4e11-fold growth, as Aave's 128-bit RAY indices) |
    ///      lastAccrual (40, year 36812) | the borrower's float (88): an accrual reads and writes the first two
    ///      together, and borrow and repay, which accrue first, write the float into the word the accrual wrote.
    struct Accrual {
        uint128 index;
        uint40 lastAccrual;
        uint88 floatHeld;
    }

    /// @dev slot: borrower (160) | reserveFactor (64, ≤ 1e18) | the buffer share of the book the rate model sees
    ///      (32, in 1e-9): every borrower call checks the first, an accrual with interest reads the other two.
    struct Binding {
        address borrower;
        uint64 reserveFactor;
        uint32 rateBuffer;
    }

    /// @dev slot: cash held (88) | totalScaled (88) | reservesOwed (80): an accrual reads all three (utilisation,
    ///      interest) and writes the last; borrow, repay, deposit and withdraw write cash and debt in the same word.
    ///      Bounds, in base units (SafeCast reverts above them, nothing is truncated): 2**88 − 1 (3.1e20 whole units of
    ///      a 6-decimal cash token) for cash and scaled debt, 2**80 − 1 (1.2e18 whole units) for reserves owed.
    struct Balances {
        uint88 cash;
        uint88 totalScaled;
        uint80 reservesOwed;
    }

    /// @dev slot: deficit (128) | the lending limits, in 1e-9 (3 × 32): borrow reads them in one word.
    struct Limits {
        uint128 deficit;
        uint32 seniorBuffer;
        uint32 juniorBuffer;
        uint32 minJunior;
    }

    /// @dev slot: the senior claim at the last checkpoint (96) | that checkpoint's time (40) | the senior target rate
    ///      (32, in 1e-9) | cash earmarked for queued requests (80) | classes without shares (8): borrow computes the
    ///      classes' assets and its limits from this word and the two above.
    struct Split {
        uint96 seniorClaim;
        uint40 checkpointAt;
        uint32 seniorRate;
        uint80 earmarked;
        uint8 emptyMask;
    }

    /// @dev slot: junior assets at the last checkpoint (128) | the senior class's part of the deficit (128).
    struct Marks {
        uint128 lastJunior;
        uint128 seniorDeficit;
    }

    /// @dev slot: cash of served, unclaimed redemptions (128) | every loss written off (128).
    struct Totals {
        uint128 claimable;
        uint128 writtenOff;
    }

    Accrual private _accrual;
    Binding private _binding;
    RateModel private _model;
    Balances private _balances;
    Limits private _limits;
    Split private _split;
    Marks private _marks;
    Totals private _totals;
    /// @dev slot: the redemption rules (248 bits).
    RedemptionParams private _redemption;
    /// @dev slot: shares of each class (2 × 128), mirrored from the vaults' mints and burns.
    uint128[2] private _shares;
    address[2] private _vaults;

    /// @dev One queue per class: requests head..tail − 1 may be pending; a gated serve resumes at `cursor` within
    ///      `cursorWindow`; `lastDue` keeps due times non-decreasing within the class.
    struct Queue {
        uint48 head;
        uint48 tail;
        uint48 cursor;
        uint40 cursorWindow;
        uint40 lastDue;
    }

    /// @dev Per request: controller | dueAt | gate window (written at request); remaining | earmark (written at
    ///      request and at every service); shares served gated in `window` (written only by a gated service).
    struct Slot {
        address controller;
        uint40 dueAt;
        uint40 window;
        uint128 remaining;
        uint128 earmark;
        uint256 servedInWindow;
    }

    /// @dev Per class and controller: pending shares | claimable shares; claimable assets.
    struct Position {
        uint128 pending;
        uint128 claimableShares;
        uint256 claimableAssets;
    }

    Queue[2] private _queues;
    mapping(uint256 position => Slot)[2] private _requests;
    mapping(address controller => Position)[2] private _positions;

    /// @dev The book as of now: cash, reserves owed, debt, total = cash + debt − owed, and its split.
    struct Book {
        uint256 cash;
        uint256 owed;
        uint256 debt;
        uint256 total;
        uint256 senior;
        uint256 junior;
        uint8 empty;
    }

    /// @dev One piece of a request being served.
    struct Piece {
        uint8 tranche;
        bool gated;
        uint256 ticket;
        uint256 remaining;
        uint256 inWindow;
        uint256 shares;
        uint256 assets;
    }

    /// @dev What limited a request's service: the cash, the room before the gate, the junior bound.
    enum Limit {
        Cash,
        Room,
        Junior
    }

    /// @dev What one serve works with, in memory.
    struct Serving {
        RedemptionParams p;
        uint256 window;
        uint256 juniorRequired;
        uint128[2] supply;
        uint256[2] served;
        bool juniorBlocked;
        bool roomSpent;
        uint256 steps;
        uint256 earmarkReleased;
        uint256 claimed;
    }

    /// @param cash the cash token lent out
    /// @param insurance the insurance fund receiving the reserve factor
    /// @param authority the AccessManager
    /// @param model initial annual rate model
    /// @param reserveFactor_ initial reserve factor (18 decimals)
    /// @param tranches initial tranche rules
    /// @param redemption initial redemption rules
    constructor(
        IERC20 cash,
        IInsuranceFund insurance,
        address authority,
        RateModel memory model,
        uint256 reserveFactor_,
        TrancheParams memory tranches,
        RedemptionParams memory redemption
    ) AccessManaged(authority) {
        _cash = cash;
        _insurance = insurance;
        _accrual = Accrual({index: uint128(FixedPoint.RAY), lastAccrual: uint40(block.timestamp), floatHeld: 0});
        _split.checkpointAt = uint40(block.timestamp);
        _split.emptyMask = _SENIOR_EMPTY | _JUNIOR_EMPTY;
        _setRateModel(model);
        _setReserveFactor(reserveFactor_);
        _setTrancheParams(tranches);
        _setRedemptionParams(redemption);
    }

    /// @dev The borrower calls are the hot path of every margin action: a direct check against the address bound
    ///      once by the admin replaces the AccessManager round trip.
    modifier onlyBorrower() {
        if (msg.sender != _binding.borrower) revert PoolNotBorrower(msg.sender);
        _;
    }

    /// @dev Only the vault bound to the class moves cash into and out of it.
    modifier onlyTranche(uint8 tranche_) {
        if (tranche_ > _JUNIOR || msg.sender != _vaults[tranche_]) revert PoolNotTranche(tranche_, msg.sender);
        _;
    }

    // ───────────────────────────── admin ─────────────────────────────

    /// @inheritdoc ICapitalPool
    function bindBorrower(address borrower_) external restricted {
        if (borrower_ == address(0)) revert PoolInvalidBorrower(borrower_);
        address bound = _binding.borrower;
        if (bound != address(0)) revert PoolBorrowerAlreadyBound(bound);
        _binding.borrower = borrower_;
        emit BorrowerBound(borrower_);
    }

    /// @inheritdoc ICapitalPool
    function bindTranches(address senior, address junior) external restricted {
        if (senior == address(0) || junior == address(0) || senior == junior)
            revert PoolInvalidTranches(senior, junior);
        if (_vaults[_SENIOR] != address(0)) revert PoolTranchesAlreadyBound(_vaults[_SENIOR], _vaults[_JUNIOR]);
        _vaults[_SENIOR] = senior;
        _vaults[_JUNIOR] = junior;
        emit TranchesBound(senior, junior);
    }

    // ───────────────────────────── borrower (MarginEngine) ─────────────────────────────

    /// @inheritdoc ICapitalPool
    function borrow(uint256 assets) external onlyBorrower nonReentrant returns (uint256 scaled, uint256 index) {
        if (assets == 0) revert PoolZeroAmount();
        index = _accrue();
        uint256 d = _limits.deficit;
        if (d > 0) revert PoolDeficitUnresolved(d);
        uint256 cash = _balances.cash;
        _checkLending(assets, index, cash);
        scaled = assets.mulDiv(FixedPoint.RAY, index, Math.Rounding.Ceil);
        // assets ≤ lendable ≤ cash was checked by _checkLending; the float is lent cash, below 2**88 as cash is.
        _balances.cash = uint88(cash - assets);
        _balances.totalScaled = (_balances.totalScaled + scaled).toUint88();
        _accrual.floatHeld = (_accrual.floatHeld + assets).toUint88();
        emit Borrowed(msg.sender, assets, scaled, index);
    }

    /// @inheritdoc ICapitalPool
    function repay(uint256 scaled) external onlyBorrower nonReentrant returns (uint256 assets) {
        if (scaled == 0) revert PoolZeroAmount();
        uint256 index = _accrue();
        uint256 total = _balances.totalScaled;
        if (scaled > total) revert PoolDebtExceeded(scaled, total);
        assets = scaled.mulDiv(index, FixedPoint.RAY, Math.Rounding.Ceil);
        uint256 float_ = _accrual.floatHeld;
        uint256 fromFloat = assets < float_ ? assets : float_;
        _balances.cash = (_balances.cash + assets).toUint88();
        // scaled ≤ total < 2**88 was checked just above; fromFloat ≤ float.
        _balances.totalScaled = uint88(total - scaled);
        if (fromFloat > 0) _accrual.floatHeld = uint88(float_ - fromFloat);
        emit Repaid(msg.sender, assets, scaled, index);
        if (assets > fromFloat) _cash.safeTransferFrom(msg.sender, address(this), assets - fromFloat);
    }

    /// @inheritdoc ICapitalPool
    function release(uint256 assets, address to) external onlyBorrower nonReentrant {
        uint256 float_ = _accrual.floatHeld;
        if (assets == 0) revert PoolZeroAmount();
        if (assets > float_) revert PoolFloatExceeded(assets, float_);
        // assets ≤ float was checked just above.
        _accrual.floatHeld = uint88(float_ - assets);
        emit FloatReleased(msg.sender, to, assets);
        _cash.safeTransfer(to, assets);
    }

    /// @inheritdoc ICapitalPool
    function writeOff(uint256 scaled) external onlyBorrower nonReentrant returns (uint256 assets) {
        if (scaled == 0) revert PoolZeroAmount();
        Book memory b = _openBook();
        uint256 total = _balances.totalScaled;
        if (scaled > total) revert PoolDebtExceeded(scaled, total);
        uint256 index = _accrual.index;
        assets = scaled.mulDiv(index, FixedPoint.RAY);
        // scaled ≤ total < 2**88 was checked just above.
        _balances.totalScaled = uint88(total - scaled);
        uint256 debtAfter = (total - scaled).mulDiv(index, FixedPoint.RAY);
        uint256 gross = b.cash + debtAfter;
        uint256 bookAfter = gross > b.owed ? gross - b.owed : 0;
        // The debt only fell, so the book did not rise; the junior class takes the loss first.
        uint256 loss = b.total - bookAfter;
        uint256 juniorLoss = loss < b.junior ? loss : b.junior;
        uint256 seniorLoss = loss - juniorLoss;
        b.debt = debtAfter;
        b.total = bookAfter;
        b.junior -= juniorLoss;
        b.senior -= seniorLoss;
        uint256 deficitAfter = _limits.deficit + assets;
        _limits.deficit = deficitAfter.toUint128();
        _totals.writtenOff = (_totals.writtenOff + assets).toUint128();
        if (seniorLoss > 0) _marks.seniorDeficit = (_marks.seniorDeficit + seniorLoss).toUint128();
        _closeBook(b);
        emit BadDebtWrittenOff(msg.sender, assets, scaled, juniorLoss, seniorLoss, deficitAfter);
    }

    // ───────────────────────────── the classes (their vaults) ─────────────────────────────

    /// @inheritdoc ICapitalPool
    function trancheDeposit(
        uint8 tranche_,
        uint256 assets,
        uint256 shares
    ) external onlyTranche(tranche_) nonReentrant {
        if (assets == 0 || shares == 0) revert PoolZeroAmount();
        Book memory b = _openBook();
        b.cash += assets;
        b.total += assets;
        if (tranche_ == _SENIOR) b.senior += assets;
        else b.junior += assets;
        b.empty &= ~(tranche_ == _SENIOR ? _SENIOR_EMPTY : _JUNIOR_EMPTY);
        _shares[tranche_] = (_shares[tranche_] + shares).toUint128();
        _closeBook(b);
        emit TrancheDeposited(tranche_, assets, shares);
    }

    /// @inheritdoc ICapitalPool
    function trancheEnqueue(
        uint8 tranche_,
        address controller,
        uint256 shares,
        uint256 earmark
    ) external onlyTranche(tranche_) nonReentrant returns (uint256 ticket, uint256 served) {
        if (shares == 0) revert PoolZeroAmount();
        Queue memory q = _queues[tranche_];
        uint256 due = block.timestamp + (tranche_ == _SENIOR ? _redemption.seniorNotice : _redemption.juniorNotice);
        if (due < q.lastDue) due = q.lastDue;
        uint256 position = q.tail;
        ticket = position + 1;
        _requests[tranche_][position] = Slot({
            controller: controller,
            dueAt: due.toUint40(),
            window: 0,
            remaining: shares.toUint128(),
            earmark: earmark.toUint128(),
            servedInWindow: 0
        });
        q.tail = ticket.toUint48();
        q.lastDue = uint40(due);
        _queues[tranche_] = q;
        _split.earmarked = (_split.earmarked + earmark).toUint80();
        Position storage pos = _positions[tranche_][controller];
        pos.pending = (pos.pending + shares).toUint128();
        emit RedeemQueued(tranche_, ticket, controller, shares, earmark, due);
        // Served at once, as far as the rules allow, when it is the next request due: never ahead of another. A
        // request in its notice period moves no cash: no checkpoint.
        if (due <= block.timestamp) {
            Book memory b = _openBook();
            served = _serve(b, 2, tranche_, position).served[tranche_];
            _closeBook(b);
        }
    }

    /// @inheritdoc ICapitalPool
    function trancheClaim(
        uint8 tranche_,
        address controller,
        address receiver,
        uint256 shares,
        uint256 assets
    ) external onlyTranche(tranche_) nonReentrant {
        Position storage pos = _positions[tranche_][controller];
        uint256 cs = pos.claimableShares;
        uint256 ca = pos.claimableAssets;
        if (shares > cs || assets > ca) revert PoolClaimExceeded(shares, assets, cs, ca);
        // Both were checked just above.
        pos.claimableShares = uint128(cs - shares);
        pos.claimableAssets = ca - assets;
        // assets ≤ the controller's claimable ≤ the total (checked above).
        _totals.claimable = uint128(_totals.claimable - assets);
        emit RedeemClaimed(tranche_, controller, receiver, shares, assets);
        if (assets > 0) _cash.safeTransfer(receiver, assets);
    }

    // ───────────────────────────── anyone ─────────────────────────────

    /// @inheritdoc ICapitalPool
    function serveQueue(uint256 maxSteps) external nonReentrant returns (uint256 steps) {
        Book memory b = _openBook();
        Serving memory s = _serve(b, maxSteps, type(uint8).max, 0);
        _closeBook(b);
        steps = s.steps;
        // The served shares' value left the classes: their vaults burn them (the shares were locked there).
        if (s.served[_SENIOR] > 0) ITrancheVault(_vaults[_SENIOR]).burnServed(s.served[_SENIOR]);
        if (s.served[_JUNIOR] > 0) ITrancheVault(_vaults[_JUNIOR]).burnServed(s.served[_JUNIOR]);
    }

    /// @inheritdoc ICapitalPool
    function checkpointTranches() external nonReentrant {
        _closeBook(_openBook());
    }

    /// @inheritdoc ICapitalPool
    function coverDeficit(uint256 assets) external nonReentrant {
        uint256 d = _limits.deficit;
        if (assets == 0 || assets > d) revert PoolNoSuchDeficit(assets, d);
        Book memory b = _openBook();
        uint256 sd = _marks.seniorDeficit;
        uint256 toSenior = assets < sd ? assets : sd;
        // toSenior ≤ sd and assets ≤ d < 2**128 were checked above.
        _marks.seniorDeficit = uint128(sd - toSenior);
        _limits.deficit = uint128(d - assets);
        b.cash += assets;
        b.total += assets;
        b.senior += toSenior;
        b.junior += assets - toSenior;
        _closeBook(b);
        emit DeficitCovered(msg.sender, assets, toSenior, d - assets);
        _cash.safeTransferFrom(msg.sender, address(this), assets);
    }

    /// @inheritdoc ICapitalPool
    /// @dev The senior class's assets are min(its claim grown at the target rate, the book) and the junior class holds
    ///      the rest: income above the senior target is the junior class's, as interest is. A profit share is income,
    ///      so it first makes up the senior class's accrued target when the book had fallen below it (only then is
    ///      the senior class short of its claim: the junior class is worth nothing) and the rest goes to the junior
    ///      class. Adding it only to the junior class would leave a senior class short of its target while the junior
    ///      class took income; adding it pro rata would give the senior class more than its target rate promises.
    ///      Checks-effects-interactions as coverDeficit: the book is written, then the cash pulled.
    function receiveProfitShare(uint256 assets) external restricted nonReentrant {
        if (assets == 0) revert PoolZeroAmount();
        Book memory b = _openBook();
        uint256 toSenior;
        if (b.empty == 0) {
            uint256 claim = TrancheMath.grow(
                _split.seniorClaim,
                _split.seniorRate,
                block.timestamp - _split.checkpointAt
            );
            uint256 short = TrancheMath.sub0(claim, b.senior);
            toSenior = assets < short ? assets : short;
        }
        b.cash += assets;
        b.total += assets;
        b.senior += toSenior;
        b.junior += assets - toSenior;
        _closeBook(b);
        emit ProfitShareReceived(msg.sender, assets, toSenior, assets - toSenior);
        _cash.safeTransferFrom(msg.sender, address(this), assets);
    }

    /// @inheritdoc ICapitalPool
    function sweepReserves() external nonReentrant returns (uint256 paid) {
        _accrue();
        uint256 cash = _balances.cash;
        uint256 owed = _balances.reservesOwed;
        paid = owed < cash ? owed : cash;
        if (paid == 0) return 0;
        // paid ≤ owed < 2**80 and paid ≤ cash < 2**88; the book (cash − owed) does not move.
        _balances.reservesOwed = uint80(owed - paid);
        _balances.cash = uint88(cash - paid);
        emit ReservesSwept(address(_insurance), paid);
        _cash.forceApprove(address(_insurance), paid);
        _insurance.receiveIncome(paid, "reserve-factor");
    }

    /// @inheritdoc ICapitalPool
    function accrue() external returns (uint256 index) {
        return _accrue();
    }

    // ───────────────────────────── risk officer ─────────────────────────────

    /// @inheritdoc ICapitalPool
    function acknowledgeDeficit() external restricted {
        uint256 d = _limits.deficit;
        if (d == 0) revert PoolNoSuchDeficit(0, 0);
        _limits.deficit = 0;
        _marks.seniorDeficit = 0;
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

    /// @inheritdoc ICapitalPool
    function setTrancheParams(TrancheParams calldata params) external restricted {
        Book memory b = _openBook();
        _setTrancheParams(params);
        _closeBook(b);
    }

    /// @inheritdoc ICapitalPool
    function setRedemptionParams(RedemptionParams calldata params) external restricted {
        _setRedemptionParams(params);
    }

    // ───────────────────────────── views ─────────────────────────────

    /// @inheritdoc ICapitalPool
    function asset() external view returns (address) {
        return address(_cash);
    }

    /// @inheritdoc ICapitalPool
    function totalAssets() external view returns (uint256) {
        return _bookNow().total;
    }

    /// @inheritdoc ICapitalPool
    function trancheAssets(uint8 tranche_) external view returns (uint256) {
        Book memory b = _bookNow();
        return tranche_ == _SENIOR ? b.senior : b.junior;
    }

    /// @inheritdoc ICapitalPool
    function trancheShares(uint8 tranche_) external view returns (uint256) {
        return _shares[tranche_];
    }

    /// @inheritdoc ICapitalPool
    function tranche(uint8 tranche_) external view returns (address) {
        return _vaults[tranche_];
    }

    /// @inheritdoc ICapitalPool
    function trancheParams() external view returns (TrancheParams memory) {
        return
            TrancheParams({
                seniorRate: uint64(uint256(_split.seniorRate) * TrancheMath.STEP),
                minJuniorRatio: uint64(uint256(_limits.minJunior) * TrancheMath.STEP),
                seniorBuffer: uint64(uint256(_limits.seniorBuffer) * TrancheMath.STEP),
                juniorBuffer: uint64(uint256(_limits.juniorBuffer) * TrancheMath.STEP)
            });
    }

    /// @inheritdoc ICapitalPool
    function redemptionParams() external view returns (RedemptionParams memory) {
        return _redemption;
    }

    /// @inheritdoc ICapitalPool
    function liquidityBuffer() external view returns (uint256) {
        Book memory b = _bookNow();
        return _bufferOf(b.senior, b.junior);
    }

    /// @inheritdoc ICapitalPool
    function lendableCash() external view returns (uint256) {
        Book memory b = _bookNow();
        uint256 free = TrancheMath.sub0(TrancheMath.sub0(b.cash, b.owed), _split.earmarked);
        return TrancheMath.sub0(free, _bufferOf(b.senior, b.junior));
    }

    /// @inheritdoc ICapitalPool
    function juniorRequired() external view returns (uint256) {
        return _bookNow().debt.mulDiv(_limits.minJunior, _UNIT, Math.Rounding.Ceil);
    }

    /// @inheritdoc ICapitalPool
    function earmarked() external view returns (uint256) {
        return _split.earmarked;
    }

    /// @inheritdoc ICapitalPool
    function claimableCash() external view returns (uint256) {
        return _totals.claimable;
    }

    /// @inheritdoc ICapitalPool
    function ungatedRoom() external view returns (uint256) {
        Book memory b = _bookNow();
        return TrancheMath.ungatedRoom(b.cash, b.debt, _redemption.gateUtilisation);
    }

    /// @inheritdoc ICapitalPool
    function rateUtilisation() external view returns (uint256) {
        return _rateUtilisation(utilisation());
    }

    /// @inheritdoc ICapitalPool
    function queueOf(
        uint8 tranche_
    ) external view returns (uint256 head, uint256 tail, uint256 cursor, uint256 cursorWindow, uint256 lastDue) {
        Queue memory q = _queues[tranche_];
        return (q.head, q.tail, q.cursor, q.cursorWindow, q.lastDue);
    }

    /// @inheritdoc ICapitalPool
    function requestOf(uint8 tranche_, uint256 ticket) external view returns (Request memory r) {
        if (ticket == 0) return r;
        Slot memory s = _requests[tranche_][ticket - 1];
        return
            Request({
                controller: s.controller,
                dueAt: s.dueAt,
                window: s.window,
                remaining: s.remaining,
                servedInWindow: s.servedInWindow,
                earmark: s.earmark
            });
    }

    /// @inheritdoc ICapitalPool
    function redemptionsOf(
        uint8 tranche_,
        address controller
    ) external view returns (uint256 pendingShares, uint256 claimableShares, uint256 claimableAssets) {
        Position memory p = _positions[tranche_][controller];
        return (p.pending, p.claimableShares, p.claimableAssets);
    }

    /// @inheritdoc ICapitalPool
    function depositRoom() external view returns (uint256) {
        return type(uint88).max - uint256(_balances.cash);
    }

    /// @inheritdoc ICapitalPool
    function borrowIndex() external view returns (uint256 index) {
        (index, ) = _accrued();
    }

    /// @inheritdoc ICapitalPool
    function totalDebt() external view returns (uint256) {
        (uint256 index, ) = _accrued();
        return uint256(_balances.totalScaled).mulDiv(index, FixedPoint.RAY);
    }

    /// @inheritdoc ICapitalPool
    function floatHeld() external view returns (uint256) {
        return _accrual.floatHeld;
    }

    /// @inheritdoc ICapitalPool
    function totalScaledDebt() external view returns (uint256) {
        return _balances.totalScaled;
    }

    /// @inheritdoc ICapitalPool
    function availableCash() external view returns (uint256) {
        (, uint256 owed) = _accrued();
        return TrancheMath.sub0(_balances.cash, owed);
    }

    /// @inheritdoc ICapitalPool
    function utilisation() public view returns (uint256) {
        (uint256 index, ) = _accrued();
        return TrancheMath.utilisation(_balances.cash, uint256(_balances.totalScaled).mulDiv(index, FixedPoint.RAY));
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
        return _binding.reserveFactor;
    }

    /// @inheritdoc ICapitalPool
    function reservesOwed() external view returns (uint256 owed) {
        (, owed) = _accrued();
    }

    /// @inheritdoc ICapitalPool
    function deficit() external view returns (uint256) {
        return _limits.deficit;
    }

    /// @inheritdoc ICapitalPool
    function seniorDeficit() external view returns (uint256) {
        return _marks.seniorDeficit;
    }

    /// @inheritdoc ICapitalPool
    function totalWrittenOff() external view returns (uint256) {
        return _totals.writtenOff;
    }

    /// @inheritdoc ICapitalPool
    function borrower() external view returns (address) {
        return _binding.borrower;
    }

    /// @inheritdoc ICapitalPool
    function insuranceFund() external view returns (address) {
        return address(_insurance);
    }

    // ───────────────────────────── internals: interest ─────────────────────────────

    /// @dev Writes the index and reserves up to now; returns the new index.
    function _accrue() private returns (uint256 index) {
        if (_accrual.lastAccrual == block.timestamp) return _accrual.index;
        uint256 owed;
        (index, owed) = _accrued();
        _accrual.index = index.toUint128();
        _balances.reservesOwed = owed.toUint80();
        _accrual.lastAccrual = uint40(block.timestamp);
    }

    /// @dev Index and reserves owed as of now, from the stored ones: the rate of the stored utilisation applies
    ///      for the whole elapsed interval (simple interest inside it, compounding at every accrual).
    function _accrued() private view returns (uint256 index, uint256 owed) {
        index = _accrual.index;
        owed = _balances.reservesOwed;
        uint256 elapsed = block.timestamp - _accrual.lastAccrual;
        uint256 scaled = _balances.totalScaled;
        if (elapsed == 0 || scaled == 0) return (index, owed);
        uint256 debtBefore = scaled.mulDiv(index, FixedPoint.RAY);
        uint256 rate = _rate(TrancheMath.utilisation(_balances.cash, debtBefore));
        index += index.mulDiv(rate * elapsed, FixedPoint.WAD * FixedPoint.YEAR);
        uint256 interest = scaled.mulDiv(index, FixedPoint.RAY) - debtBefore;
        owed += interest.mulDiv(uint256(_binding.reserveFactor), FixedPoint.WAD);
    }

    function _rate(uint256 u) private view returns (uint256) {
        u = _rateUtilisation(u);
        RateModel memory m = _model;
        if (u <= m.kink) {
            return m.kink == 0 ? m.base : m.base + uint256(m.slope1).mulDiv(u, m.kink);
        }
        return m.base + m.slope1 + uint256(m.slope2).mulDiv(u - m.kink, FixedPoint.WAD - m.kink);
    }

    /// @dev The rate model sees the buffer: utilisation over the share of the book that may be lent, capped at 1.
    function _rateUtilisation(uint256 u) private view returns (uint256) {
        uint256 buffer = _binding.rateBuffer;
        if (buffer == 0) return u;
        // u ≤ 1e18 and the buffer share ≤ 5e8 (of 1e9).
        u = TrancheMath.mulDown(u, _UNIT, _UNIT - buffer);
        return u < FixedPoint.WAD ? u : FixedPoint.WAD;
    }

    // ───────────────────────────── internals: the classes ─────────────────────────────

    /// @dev The book and its split as of now, from the accrued index and the last checkpoint.
    function _bookNow() private view returns (Book memory) {
        (uint256 index, uint256 owed) = _accrued();
        return _bookAt(index, owed);
    }

    function _bookAt(uint256 index, uint256 owed) private view returns (Book memory b) {
        b.cash = _balances.cash;
        b.owed = owed;
        // totalScaled < 2**88 and index < 2**128 (their storage widths).
        b.debt = TrancheMath.mulDown(_balances.totalScaled, index, FixedPoint.RAY);
        b.total = TrancheMath.sub0(b.cash + b.debt, owed);
        b.empty = _split.emptyMask;
        if (b.empty & _SENIOR_EMPTY != 0) {
            b.senior = 0;
        } else if (b.empty & _JUNIOR_EMPTY != 0) {
            b.senior = b.total;
        } else {
            uint256 claim = TrancheMath.grow(
                _split.seniorClaim,
                _split.seniorRate,
                block.timestamp - _split.checkpointAt
            );
            b.senior = claim < b.total ? claim : b.total;
        }
        b.junior = b.total - b.senior;
    }

    /// @dev Accrues and returns the book as of now; emits what the classes earned (or paid) since the checkpoint.
    function _openBook() private returns (Book memory b) {
        uint256 index = _accrue();
        b = _bookAt(index, _balances.reservesOwed);
        uint256 lastSenior = _split.seniorClaim;
        uint256 lastJunior = _marks.lastJunior;
        if (b.senior != lastSenior || b.junior != lastJunior) {
            emit TranchesAccrued(
                b.senior,
                b.junior,
                b.senior.toInt256() - lastSenior.toInt256(),
                b.junior.toInt256() - lastJunior.toInt256()
            );
        }
    }

    /// @dev Writes the book back: cash, the split (a class without shares holds nothing), the checkpoint time and
    ///      the buffer share the rate model sees.
    function _closeBook(Book memory b) private {
        if (b.empty & _SENIOR_EMPTY != 0) {
            b.junior = b.total;
            b.senior = 0;
        } else if (b.empty & _JUNIOR_EMPTY != 0) {
            b.senior = b.total;
            b.junior = 0;
        }
        _balances.cash = b.cash.toUint88();
        _split.seniorClaim = b.senior.toUint96();
        _split.checkpointAt = uint40(block.timestamp);
        _split.emptyMask = b.empty;
        _marks.lastJunior = b.junior.toUint128();
        uint256 buffer = b.total == 0 ? 0 : _bufferOf(b.senior, b.junior).mulDiv(_UNIT, b.total, Math.Rounding.Ceil);
        if (buffer > _MAX_BUFFER) buffer = _MAX_BUFFER;
        if (buffer != _binding.rateBuffer) _binding.rateBuffer = uint32(buffer);
    }

    function _bufferOf(uint256 senior, uint256 junior) private view returns (uint256) {
        Limits memory limits = _limits;
        // Both classes' assets are below the book (< 2**90), the ratios below 2**32.
        return
            TrancheMath.mulUp(senior, limits.seniorBuffer, _UNIT) +
            TrancheMath.mulUp(junior, limits.juniorBuffer, _UNIT);
    }

    /// @dev Borrow's limits on the state after accrual: cash not earmarked, then the buffer, then the junior bound.
    function _checkLending(uint256 assets, uint256 index, uint256 cash) private view {
        Book memory b = _bookAt(index, _balances.reservesOwed);
        uint256 free = TrancheMath.sub0(TrancheMath.sub0(cash, b.owed), _split.earmarked);
        if (assets > free) revert PoolInsufficientCash(assets, free);
        uint256 lendable = TrancheMath.sub0(free, _bufferOf(b.senior, b.junior));
        if (assets > lendable) revert PoolBufferReached(assets, lendable);
        // debt + assets ≤ the book plus what is lendable (< 2**90), the ratio < 2**32.
        uint256 required = TrancheMath.mulUp(b.debt + assets, _limits.minJunior, _UNIT);
        if (b.junior < required) revert PoolJuniorBelowBound(b.junior, required);
    }

    // ───────────────────────────── internals: the queue ─────────────────────────────

    /// @dev Serves up to `maxSteps` requests in order (see serveQueue) on the book `b` (updated in memory; the caller
    ///      closes it). With `soleTranche` ≤ 1 it serves nothing but request `solePosition` of that class, and only
    ///      while it is the next one.
    function _serve(
        Book memory b,
        uint256 maxSteps,
        uint8 soleTranche,
        uint256 solePosition
    ) private returns (Serving memory s) {
        s.p = _redemption;
        s.window = block.timestamp / s.p.gateWindow;
        s.juniorRequired = b.debt.mulDiv(_limits.minJunior, _UNIT, Math.Rounding.Ceil);
        // A junior request waiting for the junior bound holds up neither the senior class nor a request served at once.
        s.juniorBlocked = s.juniorRequired > 0 && b.junior <= s.juniorRequired;
        s.supply = _shares;
        Queue[2] memory q = _queues;
        while (s.steps < maxSteps) {
            if (b.cash <= b.owed) break;
            uint256 room = s.roomSpent ? 0 : TrancheMath.ungatedRoom(b.cash, b.debt, s.p.gateUtilisation);
            (bool found, uint8 t, uint256 at) = _next(q, s, room == 0);
            if (!found || (soleTranche <= _JUNIOR && (t != soleTranche || at != solePosition))) break;
            ++s.steps;
            if (!_serveOne(b, s, q[t], t, at, room)) break;
        }
        _queues[_SENIOR] = q[_SENIOR];
        _queues[_JUNIOR] = q[_JUNIOR];
        _shares = s.supply;
        _split.earmarked = uint80(_split.earmarked - s.earmarkReleased);
        _totals.claimable = (_totals.claimable + s.claimed).toUint128();
        if (s.supply[_SENIOR] == 0) b.empty |= _SENIOR_EMPTY;
        if (s.supply[_JUNIOR] == 0) b.empty |= _JUNIOR_EMPTY;
    }

    /// @dev The next request to serve: the earlier due of the two classes' candidates (the senior one on a tie).
    function _next(
        Queue[2] memory q,
        Serving memory s,
        bool gated
    ) private view returns (bool found, uint8 t, uint256 at) {
        (bool has0, uint256 at0, uint256 due0) = _candidate(q[_SENIOR], _SENIOR, gated, s.window);
        (bool has1, uint256 at1, uint256 due1) = s.juniorBlocked
            ? (false, 0, 0)
            : _candidate(q[_JUNIOR], _JUNIOR, gated, s.window);
        if (has0 && (!has1 || due0 <= due1)) return (true, _SENIOR, at0);
        if (has1) return (true, _JUNIOR, at1);
    }

    /// @dev The next request of a class that may be served now: from the head (skipping finished requests, which
    ///      moves the head), or when gated from where this window's gated serve stopped. None when not due yet.
    function _candidate(
        Queue memory q,
        uint8 t,
        bool gated,
        uint256 window
    ) private view returns (bool has, uint256 at, uint256 due) {
        bool fromCursor = gated && q.cursorWindow == window && q.cursor > q.head;
        at = fromCursor ? q.cursor : q.head;
        mapping(uint256 => Slot) storage requests = _requests[t];
        while (at < q.tail && requests[at].remaining == 0) {
            unchecked {
                // at < tail < 2**48.
                ++at;
            }
            if (!fromCursor) q.head = uint48(at);
        }
        if (at == q.tail) return (false, 0, 0);
        due = requests[at].dueAt;
        has = due <= block.timestamp;
    }

    /// @dev Serves request `at` of class `t` as far as the cash (less reserves owed), the ungated room or the gate,
    ///      and for a junior request the junior bound, allow. Returns false when serving must stop here: the cash ran
    ///      out inside the request, and nothing behind it may go first.
    function _serveOne(
        Book memory b,
        Serving memory s,
        Queue memory q,
        uint8 t,
        uint256 at,
        uint256 room
    ) private returns (bool) {
        Slot storage r = _requests[t][at];
        Piece memory c;
        c.tranche = t;
        c.ticket = at + 1;
        c.gated = room == 0;
        c.remaining = r.remaining;
        if (c.gated && r.window == s.window) c.inWindow = r.servedInWindow;
        uint256 want = c.gated ? _gateAllowance(c.remaining, c.inWindow, s.p.gateFraction) : c.remaining;
        if (want == 0) {
            (q.cursor, q.cursorWindow) = (uint48(at + 1), uint40(s.window));
            return true;
        }
        Limit limit = _fit(b, s, c, want, room);
        if (c.shares == 0) return _stopAt(s, limit);
        _applyServe(b, s, r, c);
        if (c.shares == c.remaining) {
            if (at == q.head) q.head = uint48(at + 1);
            return true;
        }
        if (c.shares == want) {
            // Gated, and this window's share of the request is served: the next requests get theirs.
            (q.cursor, q.cursorWindow) = (uint48(at + 1), uint40(s.window));
            return true;
        }
        return _stopAt(s, limit);
    }

    /// @dev At most gateFraction of what the request held when the gate first applied to it in this window, per
    ///      window, rounded down (a request of fewer shares than 1 / gateFraction waits for the gate to lift). What the
    ///      ungated room paid does not count.
    function _gateAllowance(uint256 remaining, uint256 inWindow, uint256 fraction) private pure returns (uint256) {
        uint256 allowed = TrancheMath.sub0((remaining + inWindow).mulDiv(fraction, FixedPoint.WAD), inWindow);
        return allowed < remaining ? allowed : remaining;
    }

    /// @dev Sets `c.shares`/`c.assets` to `want` shares, or fewer when their value (rounded down) exceeds what may
    ///      leave: the cash less reserves owed, the ungated room, and for the junior class the junior bound. Zero
    ///      shares when the limit leaves nothing. Returns the limit that applied.
    function _fit(
        Book memory b,
        Serving memory s,
        Piece memory c,
        uint256 want,
        uint256 room
    ) private pure returns (Limit limit) {
        uint256 cap = TrancheMath.sub0(b.cash, b.owed);
        if (!c.gated && room < cap) (cap, limit) = (room, Limit.Room);
        if (c.tranche == _JUNIOR) {
            uint256 juniorRoom = TrancheMath.sub0(b.junior, s.juniorRequired);
            if (juniorRoom < cap) (cap, limit) = (juniorRoom, Limit.Junior);
        }
        uint256 classAssets = c.tranche == _SENIOR ? b.senior : b.junior;
        uint256 supply = s.supply[c.tranche];
        c.shares = want;
        c.assets = TrancheMath.toAssets(want, classAssets, supply);
        if (c.assets > cap) {
            c.shares = TrancheMath.toShares(cap, classAssets, supply);
            c.assets = TrancheMath.toAssets(c.shares, classAssets, supply);
            if (c.assets == 0) c.shares = 0;
        }
    }

    /// @dev What ran out inside a request: the junior bound stops the junior class only; the ungated room turns the
    ///      rest of this serve into the gated regime; the cash stops serving.
    function _stopAt(Serving memory s, Limit limit) private pure returns (bool) {
        if (limit == Limit.Junior) s.juniorBlocked = true;
        else if (limit == Limit.Room) s.roomSpent = true;
        return limit != Limit.Cash;
    }

    /// @dev Moves the served piece out of its class: the request, the book, the controller's claimable position.
    function _applyServe(Book memory b, Serving memory s, Slot storage r, Piece memory c) private {
        uint256 earmark = r.earmark;
        uint256 freed = c.shares == c.remaining ? earmark : earmark.mulDiv(c.shares, c.remaining);
        // shares ≤ remaining; assets ≤ the class's assets and ≤ the cash (_fit); freed ≤ earmark.
        (r.remaining, r.earmark) = (uint128(c.remaining - c.shares), uint128(earmark - freed));
        if (c.gated) (r.servedInWindow, r.window) = (c.inWindow + c.shares, uint40(s.window));
        b.cash -= c.assets;
        b.total -= c.assets;
        if (c.tranche == _SENIOR) b.senior -= c.assets;
        else b.junior -= c.assets;
        s.supply[c.tranche] = uint128(s.supply[c.tranche] - c.shares);
        s.served[c.tranche] += c.shares;
        s.earmarkReleased += freed;
        s.claimed += c.assets;
        address controller = r.controller;
        Position storage pos = _positions[c.tranche][controller];
        pos.pending = uint128(pos.pending - c.shares);
        pos.claimableShares = (pos.claimableShares + c.shares).toUint128();
        pos.claimableAssets += c.assets;
        emit RedeemServed(c.tranche, c.ticket, controller, c.shares, c.assets, c.remaining - c.shares, c.gated);
    }

    // ───────────────────────────── internals: parameters ─────────────────────────────

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
        _binding.reserveFactor = uint64(rf);
        emit ReserveFactorSet(rf);
    }

    function _setTrancheParams(TrancheParams memory p) private {
        uint256 step = TrancheMath.STEP;
        if (
            p.seniorRate > FixedPoint.WAD ||
            p.minJuniorRatio > FixedPoint.WAD ||
            p.seniorBuffer > FixedPoint.WAD / 2 ||
            p.juniorBuffer > FixedPoint.WAD / 2 ||
            p.seniorRate % step != 0 ||
            p.minJuniorRatio % step != 0 ||
            p.seniorBuffer % step != 0 ||
            p.juniorBuffer % step != 0
        ) revert PoolInvalidTrancheParams(p.seniorRate, p.minJuniorRatio, p.seniorBuffer, p.juniorBuffer);
        // Each is ≤ 1e18 and a multiple of 1e9 (checked above): the quotient is ≤ 1e9 < 2**32.
        _split.seniorRate = uint32(p.seniorRate / step);
        _limits.minJunior = uint32(p.minJuniorRatio / step);
        _limits.seniorBuffer = uint32(p.seniorBuffer / step);
        _limits.juniorBuffer = uint32(p.juniorBuffer / step);
        emit TrancheParamsSet(p.seniorRate, p.minJuniorRatio, p.seniorBuffer, p.juniorBuffer);
    }

    function _setRedemptionParams(RedemptionParams memory p) private {
        if (
            p.seniorNotice > _MAX_NOTICE ||
            p.juniorNotice > _MAX_NOTICE ||
            p.gateUtilisation > FixedPoint.WAD ||
            p.gateFraction == 0 ||
            p.gateFraction > FixedPoint.WAD ||
            p.gateWindow == 0 ||
            p.gateWindow > _MAX_NOTICE
        ) {
            revert PoolInvalidRedemptionParams(
                p.seniorNotice,
                p.juniorNotice,
                p.gateUtilisation,
                p.gateFraction,
                p.gateWindow
            );
        }
        _redemption = p;
        emit RedemptionParamsSet(p.seniorNotice, p.juniorNotice, p.gateUtilisation, p.gateFraction, p.gateWindow);
    }
}
