// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {IOracleRouter} from "../oracle/IOracleRouter.sol";

/// @title IMarginEngine
/// @notice Margin accounts of verified identities: collateral and cash balances held inside the engine, debt
///         borrowed from the CapitalPool, oracle-marked margin with dynamic maintenance, margin calls with a
///         deadline, segmented partial liquidation (least liquid first) and the bad-debt waterfall
///         (account → InsuranceFund → CapitalPool).
/// @dev Units: amounts are base units of their token; values and debt are cash-token base units; ratios,
///      haircuts, margins and penalties are 18 decimals. One account per address. See docs/margin.md.
///      Definitions (all computed at the router's current prices):
///        positionValue = Σ balance_i · price_i            (securities only; cash carries no margin)
///        equity        = cash + Σ value_i·(1 − haircut_i) − debt
///        maintenanceReq = Σ value_i · mm_i, initialReq = Σ value_i · im_i,
///        mm_i = clamp(base_t + k_t · volatility_i, floor_t, cap_t), im_i = mm_i + buffer_t (t = asset's tier)
///        warning line = maintenanceReq + warningBuffer · positionValue
///        hard line    = maintenanceReq · hardFloorFactor
///        target       = maintenanceReq + targetBuffer · positionValue (what a liquidation restores)
interface IMarginEngine {
    enum AccountState {
        Healthy,
        Warning,
        MarginCall,
        Liquidatable,
        Defaulted
    }

    /// @notice Why liquidateMany passed over an account (LiquidationSkipped).
    enum LiquidationSkip {
        None,
        /// the liquidator is the owner, or an address of the owner's identity
        SameIdentity,
        /// the account is not (or no longer) Liquidatable or Defaulted
        NotLiquidatable,
        /// nothing it holds may be seized now (caps used up, prices unsafe or in their grace, balances frozen)
        NothingSeizable
    }

    /// @notice Per listed security, as `assetConfig` returns it. The engine stores it in two slots (the scale as its
    ///         power of ten beside the risk fields; the window cap with the units seized in the window).
    struct AssetConfig {
        bool listed;
        /// 1 = most liquid; liquidation sells the highest tier first.
        uint8 liquidityTier;
        /// bit index in an account's held-asset mask
        uint8 id;
        uint64 haircut;
        uint64 liquidationPenalty;
        /// 10**(assetDecimals + 18 − cashDecimals)
        uint128 scale;
        /// most base units that liquidations may seize per window
        uint128 windowCap;
        uint64 windowStart;
        uint128 seizedInWindow;
    }

    /// @notice Per liquidity tier: maintenance = clamp(liquidityAddOn + k · σ_daily, floor, cap), i.e. the larger of
    ///         the tier's base (`floor`) and a volatility margin z · σ_daily · √(liquidation horizon in days) (`k` =
    ///         z · √horizon, `σ_daily` the router's time-weighted daily volatility) plus the liquidity add-on, capped;
    ///         initial = maintenance + initialBuffer (all 18 decimals). The highest leverage a position in the asset
    ///         can carry is 1 / initial: it falls as volatility rises.
    ///         `fixedVolatility` is the σ_daily the same rule is applied at for an account in the fixed mode (see
    ///         setFixedTerm): its margins do not follow the market for its term; the volatility premium is that this
    ///         σ is set above the tier's usual one. A multiple of 1e14 (0.01 % a day), at most 6.5535 (stored in 16
    ///         bits).
    struct TierRisk {
        uint64 liquidityAddOn;
        uint64 volatilityMultiplier;
        uint64 floor;
        uint64 cap;
        uint64 initialBuffer;
        uint64 fixedVolatility;
    }

    /// @notice Engine-wide risk parameters. Stored as slot 0: the four ratios; slot 1: the three durations, dustValue
    ///         (at most 2**72 − 1 base units: setParams refuses more) and the insurance fund's share owed.
    ///         gracePeriod must be positive: a margin call lasts at least one, and lapses without an evaluation in one.
    struct Params {
        /// warning when equity < maintenanceReq + warningBuffer · positionValue
        uint64 warningBuffer;
        /// liquidatable at once when equity < maintenanceReq · hardFloorFactor
        uint64 hardFloorFactor;
        /// a liquidation restores equity ≥ maintenanceReq + targetBuffer · positionValue
        uint64 targetBuffer;
        /// share of the liquidation penalty kept by the liquidator; the rest goes to the insurance fund
        uint64 liquidatorShare;
        /// seconds a margin call gives to cure
        uint32 gracePeriod;
        /// seconds an asset's price must have been Safe before a liquidation seizes it
        uint32 oracleGrace;
        /// seconds of the per-asset seizure-cap window
        uint32 liquidationWindow;
        /// positions left worth less than this (cash base units) are seized whole, and sold after all others
        uint128 dustValue;
    }

    /// @notice The account summary every client, keeper and dashboard reads.
    struct AccountView {
        uint256 cash;
        /// debt with interest accrued to now
        uint256 debt;
        uint256 positionValue;
        /// Σ value·(1 − haircut)
        uint256 collateralValue;
        int256 equity;
        /// equity / positionValue (type(uint256).max with no position)
        uint256 marginRatio;
        uint256 maintenanceReq;
        uint256 initialReq;
        uint256 warningLine;
        uint256 hardLine;
        AccountState state;
        /// margin-call deadline (0 when none recorded)
        uint64 callDeadline;
        /// uniform return of all positions that brings the account to maintenance (see MarginMath)
        int256 liquidationReturn;
        /// for a one-security account: price (18 dec per whole token) at which it reaches maintenance; else 0
        uint256 liquidationPrice;
        /// false when a held asset's price is not Safe (new risk is refused; positions not Safe count as in
        /// docs/security.md: Closed at the session's last price, otherwise zero)
        bool pricesSafe;
        /// cash that is frozen (counted for nothing, movable only by legalSeize)
        uint256 frozenCash;
        /// frozen balances: bit `id` of a listed security, bit 15 the cash
        uint16 frozenMask;
    }

    error MarginNotVerified(address account);
    error MarginAssetNotListed(address asset);
    error MarginAssetAlreadyListed(address asset);
    error MarginTooManyAssets(uint256 listed);
    error MarginZeroAmount();
    error MarginInsufficientBalance(address account, address asset, uint256 balance, uint256 needed);
    /// @notice A risk-increasing action would leave equity below the initial-margin requirement.
    error MarginInitialMarginBreached(address account, int256 equity, uint256 initialReq);
    /// @notice A risk-increasing action would take gross exposure (cash + positions) above maxLeverage · equity.
    error MarginLeverageExceeded(address account, uint256 exposure, int256 equity, uint256 maxLeverage);
    /// @notice The asset's price status does not allow this action (see IOracleRouter.PriceStatus).
    error MarginPriceUnsafe(address asset, IOracleRouter.PriceStatus status);
    /// @notice Prices became Safe too recently for a liquidation: wait until `readyAt`.
    error MarginOracleGrace(address asset, uint256 readyAt);
    error MarginNotLiquidatable(address account, AccountState state);
    error MarginSelfLiquidation(address account);
    /// @notice Nothing held can be seized now: every position's cap is used up in this window (the next window
    ///         continues), or its price is unsafe, in its oracle grace or its balance frozen (reported by those).
    error MarginSeizureCapReached(address account);
    /// @notice New risk is paused on an asset the account holds (a guardian's or the risk officer's decision).
    error MarginBorrowingPaused(address asset);
    /// @notice The balance is frozen (its token froze the holder): it moves only by legalSeize.
    error MarginBalanceFrozen(address account, address asset);
    /// @notice legalSeize takes only a frozen balance.
    error MarginBalanceNotFrozen(address account, address asset);
    /// @notice legalSeize needs the order's reference.
    error MarginLegalReferenceMissing();
    error MarginNoDebt(address account);
    error MarginInvalidAssetConfig(address asset);
    error MarginInvalidTierRisk(uint8 tier);
    error MarginInvalidParams();
    /// @notice The margin mode changes only without debt (it cannot be switched to whichever is lower at the time).
    error MarginModeChangeWithDebt(address account);
    /// @notice A fixed term must end after today and at most MAX_FIXED_TERM_DAYS from today (UTC days since 1970).
    error MarginInvalidFixedTerm(uint256 untilDay);

    event CollateralDeposited(address indexed account, address indexed asset, uint256 amount);
    event CollateralWithdrawn(address indexed account, address indexed asset, uint256 amount);
    /// @notice Cash was borrowed from the pool into the account's cash balance.
    event Borrowed(address indexed account, uint256 amount, uint256 scaled, uint256 debtAfter);
    event Repaid(address indexed account, uint256 amount, uint256 scaled, uint256 debtAfter);
    /// @notice The recorded state changed (for the off-chain notifier). Equity and the maintenance requirement
    ///         are those of the transition.
    event AccountStateChanged(
        address indexed account,
        AccountState indexed from,
        AccountState indexed to,
        int256 equity,
        uint256 maintenanceReq
    );
    /// @notice A margin call started: cure (deposit or repay) before `deadline` or be liquidated.
    event MarginCalled(address indexed account, uint64 deadline, int256 equity, uint256 maintenanceReq);
    /// @notice The account is back above maintenance; its margin call is over.
    event MarginCallCured(address indexed account);
    /// @notice One liquidation segment: `units` of `asset` moved to the liquidator at oracle `price`.
    ///         The account was credited `value − penalty`; of the penalty, `liquidatorBonus` stayed with the
    ///         liquidator and `insuranceShare` is owed to the insurance fund (held by the engine until
    ///         `sweepInsurance`, or paid at once when the loss waterfall needs the fund).
    event Liquidated(
        address indexed account,
        address indexed liquidator,
        address indexed asset,
        uint256 units,
        uint256 price,
        uint256 value,
        uint256 debtRepaid,
        uint256 liquidatorBonus,
        uint256 insuranceShare
    );
    /// @notice liquidateMany passed over `account` (the batch went on).
    event LiquidationSkipped(address indexed account, address indexed liquidator, LiquidationSkip reason);
    /// @notice The loss waterfall ran for an account with no collateral left: its cash, then the insurance fund,
    ///         then a write-off against the capital pool.
    event DefaultSettled(address indexed account, uint256 fromAccount, uint256 fromInsurance, uint256 writtenOff);
    /// @notice The penalty shares owed to the insurance fund were paid to it (`amount`, source "liquidation-penalty").
    event InsuranceSwept(uint256 amount);
    /// @notice The engine's copy of a token's freeze changed for an account (from the token, or re-synced).
    event FreezeSynced(address indexed account, address indexed asset, bool frozen);
    /// @notice A frozen balance left the engine under a legal order (court, regulator) identified by `orderRef`.
    event LegalSeizure(
        address indexed account,
        address indexed asset,
        address indexed to,
        uint256 amount,
        bytes32 orderRef
    );
    /// @notice The SETTLER moved a balance between two accounts (DvP leg).
    event AccountTransfer(address indexed from, address indexed to, address indexed asset, uint256 amount);
    /// @notice The SETTLER exchanged `units` of `asset` (seller → buyer) against `cashAmount` (buyer → seller).
    event TradeLegsSettled(
        address indexed buyer,
        address indexed seller,
        address indexed asset,
        uint256 units,
        uint256 cashAmount
    );
    /// @notice The portfolio-margin satellite changed (IPortfolioRisk; address(0): none).
    event PortfolioRiskSet(address risk);
    event AssetConfigured(
        address indexed asset,
        uint8 liquidityTier,
        uint256 haircut,
        uint256 liquidationPenalty,
        uint256 windowCap
    );
    event TierRiskSet(uint8 indexed tier, TierRisk risk);
    /// @notice New risk was paused (or resumed) on an asset: accounts holding it may not borrow, withdraw with debt
    ///         or buy with debt; deposits, repayments, sales and liquidations go on.
    event BorrowingPaused(address indexed asset, bool paused);
    event ParamsSet(Params params);
    /// @notice The account chose its margin mode: fixed until the start of UTC day `fixedUntilDay` (days since
    ///         1970), or dynamic (0).
    event MarginModeSet(address indexed account, uint16 fixedUntilDay);

    // ── account holders ──

    /// @notice Deposits `amount` of `asset` (the cash token or a listed security) from the caller into the
    ///         caller's margin account. Needs allowance; the caller must be KYC-verified. Cures a margin call when
    ///         it restores maintenance.
    function deposit(address asset, uint256 amount) external;

    /// @notice Withdraws to the caller. With debt outstanding the account must still meet initial margin and its
    ///         tier's leverage at Safe prices afterwards.
    function withdraw(address asset, uint256 amount) external;

    /// @notice Borrows `amount` cash from the pool into the caller's cash balance. Blocked while the account is
    ///         below initial margin (and so in any margin call), while any held price is not Safe and while the
    ///         pool has an unresolved deficit. Leverage: cash + positions ≤ maxLeverageOf(owner) · equity.
    function borrow(uint256 amount) external;

    /// @notice Repays up to `amount` of debt from the caller's cash balance (capped at the debt). Always allowed.
    function repay(uint256 amount) external;

    /// @notice Chooses the caller's margin mode: fixed until the start of UTC day `untilDay` (days since 1970; the
    ///         tier margins at each tier's `fixedVolatility`, whatever the market's volatility), or dynamic with 0
    ///         (the margins follow the router's volatility). Only without debt (MarginModeChangeWithDebt); a term
    ///         ends after today and within MAX_FIXED_TERM_DAYS (MarginInvalidFixedTerm). At the end of the term the
    ///         account is dynamic again.
    function setFixedTerm(uint16 untilDay) external;

    /// @notice Repays up to `amount` of debt with cash pulled from the caller's wallet (needs allowance). Unlike
    ///         repay from margin cash, this raises equity, so it cures a margin call when it restores maintenance.
    function repayFromWallet(uint256 amount) external;

    // ── anyone ──

    /// @notice Re-evaluates and records the account's state (starting, continuing or curing a margin call),
    ///         emitting transitions. Positions whose price is not Safe count conservatively (docs/security.md), so
    ///         no price status stops the clock. A margin call lapses when no evaluation saw the account below
    ///         maintenance for a whole grace period; the next one below starts a new call with a full grace period.
    ///         Anyone may call (the keeper does, at least once per grace period for an account in a call).
    function poke(address account) external returns (AccountState);

    /// @notice Liquidates up to `maxSegments` segments of a Liquidatable or Defaulted account; the caller is the
    ///         liquidator (KYC-verified, not the owner nor another address of the owner's identity) and pays from
    ///         its own margin cash balance, receiving the seized units into its margin account at oracle price less
    ///         its share of the penalty. Each segment sells, among the positions that may be seized now (price Safe
    ///         for the oracle grace, not frozen, window cap left), the least liquid (highest tier, then lowest id;
    ///         dust last), only as much as brings the account to its target (all of it when the target cannot be
    ///         reached). When no collateral is left and debt remains, the loss waterfall runs.
    /// @return segments the number of segments executed
    function liquidate(address account, uint256 maxSegments) external returns (uint256 segments);

    /// @notice Liquidates several accounts in one transaction, each exactly as `liquidate` would (the same order,
    ///         target and per-window caps), at most `maxSegmentsEach` segments each. An account that may not be
    ///         liquidated now is passed over with LiquidationSkipped instead of undoing the others. The liquidator's
    ///         KYC, the pool's accrual and the liquidator's own margin check are done once for the batch.
    /// @return liquidated the number of accounts liquidated (at least one segment, or debt settled)
    function liquidateMany(address[] calldata accounts, uint256 maxSegmentsEach) external returns (uint256 liquidated);

    // ── SettlementHub (SETTLER role) ──

    /// @notice Moves `amount` of `asset` from one margin account to another (SETTLER role). Neither balance may be
    ///         frozen; an indebted sender must meet initial margin afterwards (a transfer gives nothing back).
    function transferBetweenAccounts(address from, address to, address asset, uint256 amount) external;

    /// @notice Both legs of one DvP trade in one call (SETTLER role): `units` of the listed security `asset` from
    ///         seller to buyer and `cashAmount` of cash from buyer to seller. Both owners must be KYC-verified and
    ///         no moved balance may be frozen.
    /// @return checks which parties must meet initial margin after the batch (bit 0: the buyer, bit 1: the
    ///         seller): an indebted buyer always; an indebted seller unless the sale kept its equity, i.e. the price
    ///         is Safe and cashAmount ≥ ceil(ceil(units · price / scale) · (1 − haircut)) (then its shortfall to
    ///         maintenance cannot grow either). The hub calls checkInitialMargin for each after all legs.
    function settleTrade(
        address buyer,
        address seller,
        address asset,
        uint256 units,
        uint256 cashAmount
    ) external returns (uint256 checks);

    /// @notice True when the account meets initial margin and its leverage cap with every held price Safe (or has
    ///         no debt). Frozen balances count for nothing.
    function checkInitialMargin(address account) external view returns (bool);

    // ── listed tokens, anyone ──

    /// @notice Called by a CollateralToken (the cash or a listed security) when it freezes or unfreezes a holder:
    ///         the engine freezes the holder's balance of that token inside the engine too. From any other caller
    ///         it changes nothing (and never reverts, so a freeze never fails because of the engine).
    function freezeChanged(address account, bool frozen) external;

    /// @notice Anyone: copies a listed token's freeze of `account` into the engine (for a freeze made before the
    ///         token was listed or before it notified the engine).
    function syncFrozen(address account, address asset) external;

    // ── legal officer ──

    /// @notice Takes `amount` of a frozen balance out of the engine to `to` under a legal order (LEGAL_OFFICER role).
    ///         Only frozen balances: they already count for nothing in the account's margin, so the seizure leaves
    ///         every margin figure, and the capital providers' cover, unchanged.
    /// @param orderRef the order's reference (non-zero), emitted in LegalSeizure for the audit trail
    function legalSeize(address account, address asset, uint256 amount, address to, bytes32 orderRef) external;

    /// @notice Anyone: pays every liquidation penalty share owed to the insurance fund (one `receiveIncome` for
    ///         all liquidations since the last sweep, instead of one token transfer per liquidation).
    ///         The loss waterfall sweeps by itself before it draws on the fund, so coverage never waits for this.
    /// @return amount the cash paid (0 when nothing is owed)
    function sweepInsurance() external returns (uint256 amount);

    /// @notice Penalty shares owed to the insurance fund and not yet swept (cash base units, held by the engine).
    function insuranceOwed() external view returns (uint256);

    // ── risk officer (behind the AccessManager's delay) ──

    /// @notice Lists or reconfigures a security (risk officer). The seizure window restarts only when the cap
    ///         changes (a haircut tightened in a crash does not hand liquidations a fresh window).
    function configureAsset(
        address asset,
        uint8 liquidityTier,
        uint64 haircut,
        uint64 liquidationPenalty,
        uint128 windowCap
    ) external;

    /// @notice Sets a liquidity tier's margins (risk officer). Refused (MarginInvalidTierRisk) for tier 0, floor above
    ///         cap, base above cap, cap + initialBuffer above 100%, or a ratio that is not a multiple of 1e-9
    ///         (1e9 in 18 decimals): ratios are stored in that step, and read back exactly.
    function setTierRisk(uint8 tier, TierRisk calldata risk) external;

    function setParams(Params calldata params) external;

    /// @notice Pauses or resumes new risk on a listed security (risk officer; a guardian pauses at once through the
    ///         RiskGuardian, resuming waits the risk officer's delay).
    function setBorrowingPaused(address asset, bool paused) external;

    /// @notice Whether new risk is paused on the asset.
    function borrowingPaused(address asset) external view returns (bool);

    /// @notice Sets the portfolio-margin satellite (risk officer; IPortfolioRisk, address(0) for none) and marks which
    ///         listed assets are its option series. Accounts that opted in with the satellite are margined by its
    ///         scenario grid on every valuation; every other account keeps the rule-based margin.
    function setPortfolioRisk(address risk) external;

    /// @notice The portfolio-margin satellite (address(0): none).
    function portfolioRisk() external view returns (address);

    // ── views ──

    function accountView(address account) external view returns (AccountView memory);

    function accountState(address account) external view returns (AccountState);

    /// @notice The account's recorded state and margin call: deadline and when an evaluation last saw it below
    ///         maintenance (the call lapses a grace period after that); and its fixed term's end (UTC day since
    ///         1970, 0: dynamic; a past day: dynamic again).
    function recordedState(
        address account
    ) external view returns (AccountState state, uint64 callDeadline, uint64 callSeenAt, uint16 fixedUntilDay);

    /// @notice Internal balance of `asset` (cash token included) of a margin account.
    function balanceOf(address account, address asset) external view returns (uint256);

    /// @notice Debt with interest to now (cash base units) and its scaled amount.
    function debtOf(address account) external view returns (uint256 debt, uint256 scaled);

    /// @notice The asset's current maintenance and initial margin (18 dec) and the volatility they were made from.
    function assetMargins(
        address asset
    ) external view returns (uint256 maintenance, uint256 initial, uint256 volatility);

    function assetConfig(address asset) external view returns (AssetConfig memory);

    function tierRisk(uint8 tier) external view returns (TierRisk memory);

    function params() external view returns (Params memory);

    /// @notice Every listed security, by id.
    function listedAssets() external view returns (address[] memory);

    /// @notice Units of `asset` liquidations may still seize in the current window.
    function seizableInWindow(address asset) external view returns (uint256);

    /// @notice Contracts the engine works with.
    function contracts()
        external
        view
        returns (address cash, address pool, address insurance, address oracle, address kyc);
}
