// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {IOracleRouter} from "../oracle/IOracleRouter.sol";

/// @title IAgreementSettlement
/// @notice The end of a financing agreement, executed on-chain: the platform's fees during it, the close-out of the
///         client's positions once it ended, and the final waterfall that pays the platform's and the capital
///         providers' shares out of the client's margin account and closes the agreement in the AgreementRegistry
///         in the same transaction. The registry's `close` is reachable only through `settleEnd` (the AccessManager
///         maps it to AGREEMENT_SETTLER, held only by this contract): no agreement closes without its waterfall.
/// @dev The end path (docs/legal-settlement.md):
///        1. the binding ends: its term expires, or AgreementBinding.terminate (the client, or the operator on a
///           default) freezes new borrowing at once;
///        2. the client sells and repays during `closeOutPeriod()`; after it, any verified buyer other than the
///           client may `forceClose` what is left, at the oracle price less min(agreed penalty, haircut);
///        3. once the account holds no listed security and owes nothing, the operator's `settleEnd` moves the
///           platform's share to the platform account and the providers' share into the CapitalPool, records the
///           settlement and closes the agreement with the final settlement hash.
///      Trust and limits (the MarginEngine has no code room for more):
///        - nothing but the client (repay) or a liquidation repays a client's debt: settleEnd waits for it;
///        - the operator is trusted for the fee and share amounts; the final settlement hash it anchors commits to
///          the computation behind them, and every amount is bounded by the client's own cash (an indebted account
///          never goes below initial margin through a fee);
///        - the cash moved is the client's margin cash, so a frozen cash balance (a legal hold) stops the waterfall
///          until it is lifted or seized, and a client whose KYC lapsed cannot be force-closed (the engine refuses
///          trades with an unverified party) until it is verified again.
///      Amounts are cash-token base units; ratios 18 decimals.
interface IAgreementSettlement {
    /// @notice What settleEnd recorded. Slot 0: providersShare | platformShare; slot 1: feesCharged | settledAt;
    ///         slot 2: finalHash.
    struct Settlement {
        uint128 providersShare;
        uint128 platformShare;
        uint128 feesCharged;
        uint64 settledAt;
        bytes32 finalHash;
    }

    /// @notice This fee reference was already charged (each off-chain fee line is charged once).
    error FeeAlreadyCharged(bytes32 ref);
    /// @notice A fee needs a non-zero reference.
    error FeeEmptyReference();
    /// @notice An amount or a number of units is zero.
    error SettlementZeroAmount();
    /// @notice The agreement is already closed in the registry.
    error SettlementAgreementClosed(bytes32 agreementId, uint64 closedAt);
    /// @notice The agreement is not the one bound to its client's account (`boundId` is).
    error SettlementNotBound(bytes32 agreementId, address account, bytes32 boundId);
    /// @notice The account's binding to the agreement has not ended yet (it ends at `expiresAt`).
    error SettlementAgreementActive(bytes32 agreementId, uint64 expiresAt);
    /// @notice Forced close-out opens at `openAt` (the binding's end plus the close-out period).
    error SettlementCloseOutPending(bytes32 agreementId, uint256 openAt);
    /// @notice The buyer is the client, or another address of the client's identity.
    error SettlementSelfPurchase(bytes32 agreementId, address buyer);
    /// @notice The buyer is not KYC-verified.
    error SettlementBuyerNotVerified(address buyer);
    /// @notice The asset is not a listed security of the engine.
    error SettlementAssetNotListed(address asset);
    /// @notice The asset's price is not Safe.
    error SettlementPriceUnsafe(address asset, IOracleRouter.PriceStatus status);
    /// @notice The price became Safe too recently (the engine's oracle grace, as for a liquidation): wait until
    ///         `readyAt`.
    error SettlementOracleGrace(address asset, uint256 readyAt);
    /// @notice A party of a forced close-out would end below initial margin.
    error SettlementInitialMarginBreached(address account);
    /// @notice The account still owes `debt`: the client repays (or a liquidation does) before the end waterfall.
    error SettlementDebtOutstanding(bytes32 agreementId, address account, uint256 debt);
    /// @notice The account still holds `units` of a listed security.
    error SettlementPositionOpen(bytes32 agreementId, address account, address asset, uint256 units);
    /// @notice An agreement never bound to an account has no account to take shares from.
    error SettlementSharesWithoutAccount(bytes32 agreementId, uint256 providersShare, uint256 platformShare);
    /// @notice The close-out period must be between MIN_CLOSE_OUT_PERIOD and MAX_CLOSE_OUT_PERIOD.
    error SettlementInvalidCloseOutPeriod(uint256 period);
    /// @notice A constructor argument is zero or inconsistent (the pool or the registry is not the engine's or the
    ///         binding's).
    error SettlementInvalidSetup();

    /// @notice `amount` of cash moved from the client's margin account to the platform account as fee `ref`.
    event FeeCharged(bytes32 indexed agreementId, address indexed account, bytes32 indexed ref, uint256 amount);
    /// @notice `buyer` bought `units` of `asset` from the ended agreement's account for `cashPaid`.
    event PositionForceClosed(
        bytes32 indexed agreementId,
        address indexed account,
        address indexed buyer,
        address asset,
        uint256 units,
        uint256 cashPaid
    );
    /// @notice The agreement's end waterfall ran and the agreement closed with `finalHash` (`account` is zero for an
    ///         agreement never bound to an account).
    event AgreementSettled(
        bytes32 indexed agreementId,
        address indexed account,
        uint256 providersShare,
        uint256 platformShare,
        uint256 feesCharged,
        bytes32 finalHash
    );
    /// @notice The close-out period changed (risk officer, behind its delay).
    event CloseOutPeriodSet(uint256 period);

    /// @notice Charges a platform fee of the agreement (operator): moves `amount` of cash from the client's margin
    ///         account to the platform account inside the engine. The agreement must be anchored, not closed and
    ///         bound to its client's account; `ref` (the off-chain fee line's id) is charged once (FeeAlreadyCharged).
    ///         The engine refuses to take an indebted account below initial margin, or more cash than it holds.
    /// @dev Trust: the operator chooses the amount (the fee schedule is in the anchored terms; the final settlement
    ///      hash commits to the fees charged).
    function chargeFee(bytes32 agreementId, uint256 amount, bytes32 ref) external;

    /// @notice After the close-out period, buys `units` of `asset` from the ended agreement's account (anyone
    ///         KYC-verified but the client's identity; the caller pays from its own margin cash and receives the
    ///         units in its margin account). The binding for this agreement must have ended at least
    ///         `closeOutPeriod()` ago and the agreement must not be closed. The price is the oracle router's, Safe and
    ///         past the engine's oracle grace; the cash paid is ceil(ceil(units · price / scale) · (1 − discount)),
    ///         rounded in the client's favour, with discount = min(the agreed penalty, the asset's haircut): never
    ///         below what the units counted for in the client's equity, so the sale never lowers it. An indebted
    ///         buyer must meet initial margin afterwards.
    /// @return cashPaid the cash moved from the buyer to the client
    function forceClose(bytes32 agreementId, address asset, uint256 units) external returns (uint256 cashPaid);

    /// @notice The end waterfall (operator): for an agreement bound to its client's account, once the binding ended,
    ///         the account owes nothing and holds no listed security, moves `platformShare` to the platform account
    ///         and `providersShare` into the CapitalPool (the providers' share price rises by it), records the
    ///         settlement and closes the agreement in the registry with `finalHash`, all in one transaction (a second
    ///         call reverts SettlementAgreementClosed). An agreement never bound to an account closes with zero
    ///         shares only.
    /// @dev Trust: the operator chooses both shares (bounded by the client's cash); `finalHash` is the keccak256 of
    ///      the canonical final-settlement JSON that computed them.
    function settleEnd(bytes32 agreementId, uint256 providersShare, uint256 platformShare, bytes32 finalHash) external;

    /// @notice Sets the seconds between a binding's end and the first forced close-out (risk officer, delayed).
    function setCloseOutPeriod(uint64 period) external;

    /// @notice The cash forceClose would pay now for `units` of `asset` of the agreement's account, and the discount
    ///         (18 decimals) applied. Reverts as forceClose would for an unlisted asset or a price not Safe; it does
    ///         not check the close-out period or the buyer.
    function quoteForceClose(
        bytes32 agreementId,
        address asset,
        uint256 units
    ) external view returns (uint256 cashPaid, uint256 discount);

    /// @notice Total fees charged under the agreement.
    function feesOf(bytes32 agreementId) external view returns (uint256);

    /// @notice Whether fee reference `ref` was charged.
    function feeCharged(bytes32 ref) external view returns (bool);

    /// @notice The recorded settlement (all zero until settleEnd).
    function settlementOf(bytes32 agreementId) external view returns (Settlement memory);

    /// @notice The margin account receiving the platform's fees and share.
    function platformAccount() external view returns (address);

    /// @notice Seconds between a binding's end and the first forced close-out.
    function closeOutPeriod() external view returns (uint64);

    function engine() external view returns (address);

    function registry() external view returns (address);

    function binding() external view returns (address);

    function pool() external view returns (address);
}
