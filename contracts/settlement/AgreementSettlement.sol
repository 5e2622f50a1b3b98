// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {FixedPoint} from "../shared/FixedPoint.sol";
import {IKycRegistry} from "../identity/IKycRegistry.sol";
import {IMarginEngine} from "../margin/IMarginEngine.sol";
import {IOracleRouter} from "../oracle/IOracleRouter.sol";
import {ICapitalPool} from "../pool/ICapitalPool.sol";
import {IAgreementBinding} from "./IAgreementBinding.sol";
import {IAgreementRegistry} from "./IAgreementRegistry.sol";
import {IAgreementSettlement} from "./IAgreementSettlement.sol";

/// @title AgreementSettlement
/// @notice See IAgreementSettlement. Holds SETTLER on the engine's transferBetweenAccounts and settleTrade, and
///         AGREEMENT_SETTLER on the registry's close and the pool's receiveProfitShare; it is a KYC-verified margin
///         account of its own (the providers' share passes through it on its way to the pool, within one call).
/// @dev `chargeFee` and `settleEnd` are OPERATOR, `setCloseOutPeriod` RISK_OFFICER (behind its delay), `forceClose`
///      and the views public. The MarginEngine, the registry, the binding and the pool are trusted system contracts.
///      Order in each function: validate → write this contract's records and emit → move balances through the
///      engine (which checks margin on the new state) → external calls to the pool and the registry last.
contract AgreementSettlement is IAgreementSettlement, AccessManaged, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /// @notice Bounds of the close-out period: long enough for a client to sell in an open session, short enough
    ///         that an ended agreement's risk does not linger.
    uint64 public constant MIN_CLOSE_OUT_PERIOD = 1 hours;
    uint64 public constant MAX_CLOSE_OUT_PERIOD = 90 days;

    /// @dev settleTrade's answer (IMarginEngine): which party must meet initial margin afterwards.
    uint256 private constant _CHECK_BUYER = 1;
    uint256 private constant _CHECK_SELLER = 2;

    IMarginEngine private immutable _engine;
    IAgreementRegistry private immutable _registry;
    IAgreementBinding private immutable _binding;
    ICapitalPool private immutable _pool;
    IERC20 private immutable _cash;
    IOracleRouter private immutable _oracle;
    IKycRegistry private immutable _kyc;
    address private immutable _platform;

    uint64 private _closeOutPeriod;
    mapping(bytes32 ref => bool) private _feeCharged;
    mapping(bytes32 agreementId => uint256) private _fees;
    mapping(bytes32 agreementId => Settlement) private _settlements;

    /// @param engine_ the MarginEngine holding the accounts
    /// @param registry_ the AgreementRegistry (the binding's)
    /// @param binding_ the AgreementBinding the engine consults
    /// @param pool_ the engine's CapitalPool
    /// @param platform_ the platform's margin account (fees and the platform's share)
    /// @param closeOutPeriod_ seconds between a binding's end and the first forced close-out
    /// @param authority the AccessManager
    constructor(
        IMarginEngine engine_,
        IAgreementRegistry registry_,
        IAgreementBinding binding_,
        ICapitalPool pool_,
        address platform_,
        uint64 closeOutPeriod_,
        address authority
    ) AccessManaged(authority) {
        (address cash, address enginePool, , address oracle, address kyc) = engine_.contracts();
        if (
            platform_ == address(0) ||
            address(pool_) != enginePool ||
            binding_.registry() != address(registry_) ||
            address(registry_) == address(0)
        ) revert SettlementInvalidSetup();
        _engine = engine_;
        _registry = registry_;
        _binding = binding_;
        _pool = pool_;
        _cash = IERC20(cash);
        _oracle = IOracleRouter(oracle);
        _kyc = IKycRegistry(kyc);
        _platform = platform_;
        _setCloseOutPeriod(closeOutPeriod_);
    }

    // ───────────────────────────── operator ─────────────────────────────

    /// @inheritdoc IAgreementSettlement
    function chargeFee(bytes32 agreementId, uint256 amount, bytes32 ref) external restricted nonReentrant {
        if (ref == bytes32(0)) revert FeeEmptyReference();
        if (_feeCharged[ref]) revert FeeAlreadyCharged(ref);
        if (amount == 0) revert SettlementZeroAmount();
        (address account, ) = _boundOpen(agreementId);
        _feeCharged[ref] = true;
        _fees[agreementId] += amount;
        emit FeeCharged(agreementId, account, ref, amount);
        // The engine refuses more than the account's cash, a frozen balance and an indebted account left below
        // initial margin.
        _engine.transferBetweenAccounts(account, _platform, address(_cash), amount);
    }

    /// @inheritdoc IAgreementSettlement
    function settleEnd(
        bytes32 agreementId,
        uint256 providersShare,
        uint256 platformShare,
        bytes32 finalHash
    ) external restricted nonReentrant {
        IAgreementRegistry.Anchor memory a = _registry.agreementOf(agreementId);
        if (a.closedAt != 0) revert SettlementAgreementClosed(agreementId, a.closedAt);
        address account;
        IAgreementBinding.Binding memory b = _binding.bindingOf(a.client);
        if (b.agreementId == agreementId) {
            account = a.client;
            _requireSettleable(agreementId, account, b.expiresAt);
        } else if (providersShare != 0 || platformShare != 0) {
            // Never bound (or superseded by a later agreement the client accepted, which carries its account on).
            revert SettlementSharesWithoutAccount(agreementId, providersShare, platformShare);
        }
        uint256 fees = _fees[agreementId];
        _settlements[agreementId] = Settlement({
            providersShare: providersShare.toUint128(),
            platformShare: platformShare.toUint128(),
            feesCharged: fees.toUint128(),
            settledAt: uint64(block.timestamp),
            finalHash: finalHash
        });
        emit AgreementSettled(agreementId, account, providersShare, platformShare, fees, finalHash);
        address cash = address(_cash);
        if (platformShare > 0) _engine.transferBetweenAccounts(account, _platform, cash, platformShare);
        if (providersShare > 0) {
            // Through this contract's own margin account: the engine pays cash out only to an account's owner.
            _engine.transferBetweenAccounts(account, address(this), cash, providersShare);
            _engine.withdraw(cash, providersShare);
            _cash.forceApprove(address(_pool), providersShare);
            _pool.receiveProfitShare(providersShare);
        }
        // Reverts on an empty hash (AgreementEmptySettlementHash), undoing the waterfall with it.
        _registry.close(agreementId, finalHash);
    }

    // ───────────────────────────── risk officer ─────────────────────────────

    /// @inheritdoc IAgreementSettlement
    function setCloseOutPeriod(uint64 period) external restricted {
        _setCloseOutPeriod(period);
    }

    // ───────────────────────────── anyone ─────────────────────────────

    /// @inheritdoc IAgreementSettlement
    function forceClose(
        bytes32 agreementId,
        address asset,
        uint256 units
    ) external nonReentrant returns (uint256 cashPaid) {
        if (units == 0) revert SettlementZeroAmount();
        (address account, IAgreementBinding.Binding memory b) = _boundOpen(agreementId);
        uint256 openAt = uint256(b.expiresAt) + _closeOutPeriod;
        if (block.timestamp < openAt) revert SettlementCloseOutPending(agreementId, openAt);
        _requireBuyer(agreementId, account, msg.sender);
        (cashPaid, ) = _quote(b.maxPenalty, asset, units, true);
        uint256 checks = _engine.settleTrade(msg.sender, account, asset, units, cashPaid);
        if (checks & _CHECK_BUYER != 0 && !_engine.checkInitialMargin(msg.sender))
            revert SettlementInitialMarginBreached(msg.sender);
        if (checks & _CHECK_SELLER != 0 && !_engine.checkInitialMargin(account))
            revert SettlementInitialMarginBreached(account);
        emit PositionForceClosed(agreementId, account, msg.sender, asset, units, cashPaid);
    }

    // ───────────────────────────── views ─────────────────────────────

    /// @inheritdoc IAgreementSettlement
    function quoteForceClose(
        bytes32 agreementId,
        address asset,
        uint256 units
    ) external view returns (uint256 cashPaid, uint256 discount) {
        (, IAgreementBinding.Binding memory b) = _boundOpen(agreementId);
        return _quote(b.maxPenalty, asset, units, false);
    }

    /// @inheritdoc IAgreementSettlement
    function feesOf(bytes32 agreementId) external view returns (uint256) {
        return _fees[agreementId];
    }

    /// @inheritdoc IAgreementSettlement
    function feeCharged(bytes32 ref) external view returns (bool) {
        return _feeCharged[ref];
    }

    /// @inheritdoc IAgreementSettlement
    function settlementOf(bytes32 agreementId) external view returns (Settlement memory) {
        return _settlements[agreementId];
    }

    /// @inheritdoc IAgreementSettlement
    function platformAccount() external view returns (address) {
        return _platform;
    }

    /// @inheritdoc IAgreementSettlement
    function closeOutPeriod() external view returns (uint64) {
        return _closeOutPeriod;
    }

    /// @inheritdoc IAgreementSettlement
    function engine() external view returns (address) {
        return address(_engine);
    }

    /// @inheritdoc IAgreementSettlement
    function registry() external view returns (address) {
        return address(_registry);
    }

    /// @inheritdoc IAgreementSettlement
    function binding() external view returns (address) {
        return address(_binding);
    }

    /// @inheritdoc IAgreementSettlement
    function pool() external view returns (address) {
        return address(_pool);
    }

    // ───────────────────────────── internals ─────────────────────────────

    /// @dev The client's account and binding of an anchored agreement that is not closed and is the one bound to
    ///      that account (the registry reverts AgreementNotAnchored for an unknown id).
    function _boundOpen(
        bytes32 agreementId
    ) private view returns (address account, IAgreementBinding.Binding memory b) {
        IAgreementRegistry.Anchor memory a = _registry.agreementOf(agreementId);
        if (a.closedAt != 0) revert SettlementAgreementClosed(agreementId, a.closedAt);
        account = a.client;
        b = _binding.bindingOf(account);
        if (b.agreementId != agreementId) revert SettlementNotBound(agreementId, account, b.agreementId);
    }

    /// @dev The end waterfall's preconditions on a bound account: its binding ended, no debt, no listed security.
    function _requireSettleable(bytes32 agreementId, address account, uint64 expiresAt) private view {
        if (block.timestamp < expiresAt) revert SettlementAgreementActive(agreementId, expiresAt);
        (uint256 debt, ) = _engine.debtOf(account);
        if (debt != 0) revert SettlementDebtOutstanding(agreementId, account, debt);
        address[] memory assets = _engine.listedAssets();
        for (uint256 i; i < assets.length; ++i) {
            uint256 units = _engine.balanceOf(account, assets[i]);
            if (units != 0) revert SettlementPositionOpen(agreementId, account, assets[i], units);
        }
    }

    /// @dev A forced close-out's buyer: verified, and neither the client nor another address of its identity (who
    ///      would buy its own positions at the discount).
    function _requireBuyer(bytes32 agreementId, address account, address buyer) private view {
        if (buyer == account) revert SettlementSelfPurchase(agreementId, buyer);
        (bool verified, uint24 tag) = _kyc.verifiedTagOf(buyer);
        if (!verified) revert SettlementBuyerNotVerified(buyer);
        (, uint24 clientTag) = _kyc.verifiedTagOf(account);
        if (tag == clientTag) revert SettlementSelfPurchase(agreementId, buyer);
    }

    /// @dev The forced sale's cash: value = ceil(units · price / scale), as the engine values a sale, then
    ///      ceil(value · (1 − discount)): rounded up, in the client's favour, so that the cash is never below what
    ///      the units counted for in its equity (discount ≤ haircut). `strict`: also require the oracle grace.
    function _quote(
        uint256 maxPenalty,
        address asset,
        uint256 units,
        bool strict
    ) private view returns (uint256 cashPaid, uint256 discount) {
        if (units == 0) revert SettlementZeroAmount();
        IMarginEngine.AssetConfig memory cfg = _engine.assetConfig(asset);
        if (!cfg.listed) revert SettlementAssetNotListed(asset);
        (uint256 price, IOracleRouter.PriceStatus status, ) = _oracle.getPrice(asset);
        if (status != IOracleRouter.PriceStatus.Safe) revert SettlementPriceUnsafe(asset, status);
        if (strict) {
            uint256 readyAt = _oracle.safeSince(asset) + _engine.params().oracleGrace;
            if (block.timestamp < readyAt) revert SettlementOracleGrace(asset, readyAt);
        }
        discount = maxPenalty < cfg.haircut ? maxPenalty : cfg.haircut;
        uint256 value = Math.mulDiv(units, price, cfg.scale, Math.Rounding.Ceil);
        cashPaid = Math.mulDiv(value, FixedPoint.WAD - discount, FixedPoint.WAD, Math.Rounding.Ceil);
        if (cashPaid == 0) revert SettlementZeroAmount();
    }

    function _setCloseOutPeriod(uint64 period) private {
        if (period < MIN_CLOSE_OUT_PERIOD || period > MAX_CLOSE_OUT_PERIOD)
            revert SettlementInvalidCloseOutPeriod(period);
        _closeOutPeriod = period;
        emit CloseOutPeriodSet(period);
    }
}
