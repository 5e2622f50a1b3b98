// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

/// @title ICapitalPool
/// @notice The lending book of the capital providers (出资方), in two share classes over the cash token: a senior
///         class and a junior (first-loss) class, each sold through its own ERC-4626 / ERC-7540 vault
///         (TrancheVault, bound once by the admin). Only the bound borrower (the MarginEngine, bound once by the
///         admin) borrows, repays and writes off bad debt. Interest accrues per second through a borrow index from an
///         annual rate (fixed, or kinked in utilisation); a reserve factor of it is owed to the insurance fund.
/// @dev Units: amounts in cash-token base units; rates and ratios 18 decimals; the borrow index 27 decimals (RAY).
///      The book: totalAssets = cash + outstanding debt − reserves owed, where outstanding debt is already net of
///      bad debt written off and cash excludes what is set aside for claimable redemptions.
///      The waterfall (docs/providers.md): the senior class is owed a claim that grows at its target rate; its
///      assets are min(claim, totalAssets); the junior class holds the rest. A loss therefore falls on the junior
///      class first and on the senior class only once the junior class is worth nothing; income goes to the senior
///      class up to its target rate and the rest to the junior class (which pays the senior target out of its own
///      capital when the book earns less).
///      Exits go through a first-in first-out redemption queue per class (served in order of due time across
///      the two), with a notice period per class, a liquidity buffer never lent and a pro-rata gate above a
///      utilisation threshold.
interface ICapitalPool {
    /// @notice Annual borrow rate model, 18 decimals: rate = base + slope1·U/kink below the kink, and
    ///         base + slope1 + slope2·(U − kink)/(1 − kink) above it. A fixed rate is slope1 = slope2 = 0.
    struct RateModel {
        uint64 base;
        uint64 slope1;
        uint64 slope2;
        uint64 kink;
    }

    /// @notice The tranche rules, 18 decimals, each a multiple of 1e9 (they are stored in 1e-9 steps).
    /// @param seniorRate the senior class's target annual rate (its claim grows at it; ≤ 100%)
    /// @param minJuniorRatio new borrowing stops unless junior assets ≥ this × the debt outstanding after the loan
    /// @param seniorBuffer share of the senior class's assets never lent (≤ 50%)
    /// @param juniorBuffer share of the junior class's assets never lent (≤ 50%)
    struct TrancheParams {
        uint64 seniorRate;
        uint64 minJuniorRatio;
        uint64 seniorBuffer;
        uint64 juniorBuffer;
    }

    /// @notice The redemption rules.
    /// @param seniorNotice seconds between a senior request and the time it may be served (0: at once)
    /// @param juniorNotice the same for the junior class
    /// @param gateUtilisation above this utilisation (18 decimals) the gate applies: a request is served at most
    ///        `gateFraction` of its size per window
    /// @param gateFraction 18 decimals, in (0, 1]
    /// @param gateWindow seconds per gate window (windows are `block.timestamp / gateWindow`)
    struct RedemptionParams {
        uint40 seniorNotice;
        uint40 juniorNotice;
        uint64 gateUtilisation;
        uint64 gateFraction;
        uint40 gateWindow;
    }

    /// @notice One redemption request of the queue of a class (ticket = its place in that queue, from 1).
    /// @param controller who claims the assets (ERC-7540 controller)
    /// @param dueAt the request may be served from this time (request time + the class's notice period, never
    ///        before an earlier request of the class)
    /// @param window the gate window `servedInWindow` counts in
    /// @param remaining shares still pending (the shares requested are in its RedeemQueued event)
    /// @param servedInWindow shares served under the gate in `window`
    /// @param earmark cash still set aside for the request (its value at request time, rounded up, released
    ///        pro rata as it is served); borrowing cannot use it
    struct Request {
        address controller;
        uint40 dueAt;
        uint40 window;
        uint128 remaining;
        uint256 servedInWindow;
        uint128 earmark;
    }

    /// @notice The rate model is out of bounds (kink > 1, or the highest possible rate above MAX_RATE).
    error PoolInvalidRateModel(uint256 base, uint256 slope1, uint256 slope2, uint256 kink);
    /// @notice The reserve factor is above 100%.
    error PoolInvalidReserveFactor(uint256 reserveFactor);
    /// @notice Borrowing more than the pool's available cash.
    error PoolInsufficientCash(uint256 requested, uint256 available);
    /// @notice Borrowing is stopped while a written-off deficit is unresolved.
    error PoolDeficitUnresolved(uint256 deficit);
    /// @notice Repaying or writing off more scaled debt than is outstanding.
    error PoolDebtExceeded(uint256 scaled, uint256 totalScaled);
    /// @notice Zero amounts are refused.
    error PoolZeroAmount();
    /// @notice Covering more deficit than is recorded, or acknowledging none.
    error PoolNoSuchDeficit(uint256 amount, uint256 deficit);
    /// @notice The borrower asked for more of its float than the pool holds for it.
    error PoolFloatExceeded(uint256 requested, uint256 floatHeld);
    /// @notice `caller` is not the bound borrower (the MarginEngine).
    error PoolNotBorrower(address caller);
    /// @notice The borrower is bound once; `borrower` already is.
    error PoolBorrowerAlreadyBound(address borrower);
    /// @notice The zero address cannot be the borrower.
    error PoolInvalidBorrower(address borrower);
    /// @notice Borrowing `requested` would lend into the liquidity buffer: at most `lendable` may be lent now.
    error PoolBufferReached(uint256 requested, uint256 lendable);
    /// @notice Borrowing would leave junior assets below the bound: `juniorAssets` < `required`.
    error PoolJuniorBelowBound(uint256 juniorAssets, uint256 required);
    /// @notice `caller` is not the vault bound to tranche `tranche`.
    error PoolNotTranche(uint8 tranche, address caller);
    /// @notice The tranche vaults are bound once; they already are.
    error PoolTranchesAlreadyBound(address senior, address junior);
    /// @notice A tranche vault cannot be the zero address, and the two must differ.
    error PoolInvalidTranches(address senior, address junior);
    /// @notice The tranche rules are out of bounds (rate > 100%, a buffer > 50%, a ratio not a multiple of 1e9).
    error PoolInvalidTrancheParams(
        uint256 seniorRate,
        uint256 minJuniorRatio,
        uint256 seniorBuffer,
        uint256 juniorBuffer
    );
    /// @notice The redemption rules are out of bounds (notice > 365 days, gate utilisation > 1, fraction not in
    ///         (0, 1], window zero or above 365 days).
    error PoolInvalidRedemptionParams(
        uint256 seniorNotice,
        uint256 juniorNotice,
        uint256 gateUtilisation,
        uint256 gateFraction,
        uint256 gateWindow
    );
    /// @notice A claim of `shares` (for `assets`) exceeds the controller's claimable `claimableShares`
    ///         (`claimableAssets`).
    error PoolClaimExceeded(uint256 shares, uint256 assets, uint256 claimableShares, uint256 claimableAssets);

    /// @notice Cash was lent to the borrower, kept in the pool as its float; `scaled` was added to the scaled debt at
    ///         `index`.
    event Borrowed(address indexed borrower, uint256 assets, uint256 scaled, uint256 index);
    /// @notice Debt was repaid: `scaled` removed, `assets` taken from the borrower's float first, the rest pulled from
    ///         the borrower.
    event Repaid(address indexed borrower, uint256 assets, uint256 scaled, uint256 index);
    /// @notice The borrower took `assets` of its float out of the pool, to `to`.
    event FloatReleased(address indexed borrower, address indexed to, uint256 assets);
    /// @notice Bad debt was written off: capital providers lose `assets` (the book fell by `juniorLoss` +
    ///         `seniorLoss`, the junior class's part first; the senior class loses only once the junior class is worth
    ///         nothing).
    event BadDebtWrittenOff(
        address indexed borrower,
        uint256 assets,
        uint256 scaled,
        uint256 juniorLoss,
        uint256 seniorLoss,
        uint256 deficitAfter
    );
    /// @notice Someone paid `assets` towards the recorded deficit; `toSenior` of it restored the senior class's
    ///         written-off loss first, the rest went to the junior class.
    event DeficitCovered(address indexed payer, uint256 assets, uint256 toSenior, uint256 deficitAfter);
    /// @notice The risk officer accepted the remaining deficit as a loss; borrowing may resume.
    event DeficitAcknowledged(uint256 deficit);
    /// @notice The capital providers' share of a financing agreement's profit (`assets`, paid by `from`, the
    ///         AgreementSettlement) entered the book: `toSenior` of it made up the senior class's accrued target,
    ///         `toJunior` went to the junior class.
    event ProfitShareReceived(address indexed from, uint256 assets, uint256 toSenior, uint256 toJunior);
    /// @notice Reserves owed were paid to the insurance fund.
    event ReservesSwept(address indexed insuranceFund, uint256 assets);
    /// @notice The annual rate model changed (risk officer, behind its delay).
    event RateModelSet(uint256 base, uint256 slope1, uint256 slope2, uint256 kink);
    /// @notice The reserve factor changed (risk officer, behind its delay).
    event ReserveFactorSet(uint256 reserveFactor);
    /// @notice The admin bound the pool's only borrower (for good).
    event BorrowerBound(address indexed borrower);
    /// @notice The admin bound the two tranche vaults (for good).
    event TranchesBound(address indexed senior, address indexed junior);
    /// @notice The tranche rules changed (risk officer, behind its delay).
    event TrancheParamsSet(uint256 seniorRate, uint256 minJuniorRatio, uint256 seniorBuffer, uint256 juniorBuffer);
    /// @notice The redemption rules changed (risk officer, behind its delay).
    event RedemptionParamsSet(
        uint256 seniorNotice,
        uint256 juniorNotice,
        uint256 gateUtilisation,
        uint256 gateFraction,
        uint256 gateWindow
    );
    /// @notice Movement between the classes since the last checkpoint (interest and the senior target): the senior
    ///         class's assets changed by `seniorChange` and the junior class's by `juniorChange`, to `seniorAssets`
    ///         and `juniorAssets`. When the book earned less than the senior target, `juniorChange` is negative: the
    ///         junior class paid it. Emitted before every movement of cash into or out of a class, every write-off
    ///         and every cover.
    event TranchesAccrued(uint256 seniorAssets, uint256 juniorAssets, int256 seniorChange, int256 juniorChange);
    /// @notice `assets` of cash entered tranche `tranche` for `shares` new shares (the vault's Deposit event names
    ///         the provider).
    event TrancheDeposited(uint8 indexed tranche, uint256 assets, uint256 shares);
    /// @notice A redemption request joined tranche `tranche`'s queue as `ticket`; `earmark` of cash is set aside
    ///         from lending for it; it may be served from `dueAt`.
    event RedeemQueued(
        uint8 indexed tranche,
        uint256 indexed ticket,
        address indexed controller,
        uint256 shares,
        uint256 earmark,
        uint256 dueAt
    );
    /// @notice `shares` of request `ticket` were served for `assets` (now claimable by `controller`); `remaining`
    ///         shares still wait; `gated` when the pro-rata gate limited it.
    event RedeemServed(
        uint8 indexed tranche,
        uint256 indexed ticket,
        address indexed controller,
        uint256 shares,
        uint256 assets,
        uint256 remaining,
        bool gated
    );
    /// @notice `controller` claimed `assets` for `shares` of its claimable redemptions, paid to `receiver`.
    event RedeemClaimed(
        uint8 indexed tranche,
        address indexed controller,
        address indexed receiver,
        uint256 shares,
        uint256 assets
    );

    /// @notice Binds the only address that may borrow, repay and write off (the MarginEngine). Admin only (the
    ///         AccessManager), once: afterwards the three borrower calls check `msg.sender` against it directly
    ///         instead of asking the AccessManager (≈ 9,000 gas less per call).
    function bindBorrower(address borrower) external;

    /// @notice The bound borrower (address(0) before `bindBorrower`).
    function borrower() external view returns (address);

    /// @notice Binds the senior and the junior tranche vaults (admin only, once). Only they move cash into and out of
    ///         the classes.
    function bindTranches(address senior, address junior) external;

    /// @notice The vault of tranche `tranche` (0 senior, 1 junior).
    function tranche(uint8 tranche_) external view returns (address);

    /// @notice Lends `assets` to the bound borrower (only it may call). The cash does not move: it stays in the pool as
    ///         the borrower's float, out of the pool's own cash (`availableCash` and `totalAssets` never count it),
    ///         until the borrower releases it or repays with it. Reverts while a deficit is unresolved
    ///         (PoolDeficitUnresolved), beyond the cash not earmarked for queued redemptions (PoolInsufficientCash),
    ///         into the liquidity buffer (PoolBufferReached), or when junior assets would fall below
    ///         `minJuniorRatio` × the debt after the loan (PoolJuniorBelowBound).
    /// @return scaled the scaled debt added: ceil(assets · RAY / index), rounded against the borrower
    /// @return index the borrow index it was lent at (as of now, 27 decimals), so that the borrower need not ask
    function borrow(uint256 assets) external returns (uint256 scaled, uint256 index);

    /// @notice Repays `scaled` debt (the bound borrower only): ceil(scaled · index / RAY) cash, taken from the
    ///         borrower's float first and pulled from the caller for the rest.
    /// @return assets the cash repaid
    function repay(uint256 scaled) external returns (uint256 assets);

    /// @notice Pays `assets` of the borrower's float to `to` (the bound borrower only), when cash leaves the margin
    ///         system. Never more than the float: the pool's own cash cannot leave this way.
    function release(uint256 assets, address to) external;

    /// @notice Lent cash the pool still holds for the borrower (its float): the pool's token balance is its own
    ///         cash plus this (plus anything sent to it directly, which it ignores).
    function floatHeld() external view returns (uint256);

    /// @notice Writes off `scaled` debt that neither collateral nor the insurance fund could cover (the bound
    ///         borrower only). Records the deficit; borrowing stops until it is covered or acknowledged.
    /// @return assets the loss booked, floor(scaled · index / RAY)
    function writeOff(uint256 scaled) external returns (uint256 assets);

    /// @notice Anyone pays cash towards the recorded deficit: it restores the senior class's written-off loss
    ///         first, then the junior class's.
    function coverDeficit(uint256 assets) external;

    /// @notice The risk officer accepts the remaining deficit as the capital providers' loss (behind its delay).
    function acknowledgeDeficit() external;

    /// @notice Books the capital providers' share of an ended financing agreement's profit: pulls `assets` of cash
    ///         from the caller (needs allowance) into the pool's cash, so the book and the share price of the classes
    ///         rise by `assets` (less one base unit of rounding per class at most). Restricted: only the
    ///         AgreementSettlement (role AGREEMENT_SETTLER) pays it, as part of an agreement's end waterfall.
    ///         Split as income: the senior class is made up to its claim grown at its target rate (when the book
    ///         had fallen below it), the rest belongs to the junior class. Refuses zero (PoolZeroAmount).
    /// @dev A written-off deficit is not covered by it (coverDeficit does that, and borrowing stays stopped until
    ///      the deficit is covered or acknowledged); with no shares in either class the cash goes to the junior
    ///      class's book for its first depositors, as any income would.
    function receiveProfitShare(uint256 assets) external;

    /// @notice Pays the reserves owed, as far as cash allows, to the insurance fund. Anyone may call.
    function sweepReserves() external returns (uint256 paid);

    /// @notice Brings the index up to now. Anyone may call.
    /// @return index the borrow index as of now (27 decimals), what `borrowIndex()` would return
    function accrue() external returns (uint256 index);

    /// @notice Sets the annual rate model (risk officer, behind its delay). Accrues first at the old rate.
    function setRateModel(RateModel calldata model) external;

    /// @notice Sets the share of interest owed to the insurance fund, 18 decimals (risk officer, delayed).
    function setReserveFactor(uint256 reserveFactor) external;

    /// @notice Sets the tranche rules (risk officer, delayed). Checkpoints the classes at the old senior rate first.
    function setTrancheParams(TrancheParams calldata params) external;

    /// @notice Sets the redemption rules (risk officer, delayed). A shorter notice never makes a request due before
    ///         an earlier one of its class.
    function setRedemptionParams(RedemptionParams calldata params) external;

    // ───────────────────────────── the classes (called by their vaults) ─────────────────────────────

    /// @notice Books `assets` of cash (which the vault moves from the provider to the pool in the same transaction)
    ///         into tranche `tranche_` for `shares` new shares (its vault only). Checkpoints the classes first.
    function trancheDeposit(uint8 tranche_, uint256 assets, uint256 shares) external;

    /// @notice Queues a redemption of `shares` (already locked in the vault) for `controller` (its vault only) and
    ///         sets `earmark` of cash aside from lending. The request is served at once as far as the rules allow
    ///         when it is the next one due.
    /// @return ticket its place in the class's queue (from 1)
    /// @return served shares of it served at once (the vault burns them)
    function trancheEnqueue(
        uint8 tranche_,
        address controller,
        uint256 shares,
        uint256 earmark
    ) external returns (uint256 ticket, uint256 served);

    /// @notice Pays `assets` of `controller`'s claimable redemptions, for `shares` claimable shares, to `receiver`
    ///         (its vault only, which computed them: assets rounded down, shares up).
    function trancheClaim(
        uint8 tranche_,
        address controller,
        address receiver,
        uint256 shares,
        uint256 assets
    ) external;

    /// @notice Serves due redemption requests, at most `maxSteps` steps (a step serves one request as far as it may
    ///         be served now). Anyone may call. Order: the earliest due first across both classes (the senior class
    ///         first on equal times), first-in first-out within a class. A request is served as far as the pool's
    ///         cash (less reserves owed) allows, for assets at the class's price now (rounded down); serving stops at
    ///         the first request the cash cannot serve in full. Above `gateUtilisation` a request is served at most
    ///         `gateFraction` of its size per gate window (the next requests then get theirs); junior requests
    ///         never take junior assets below `minJuniorRatio` × debt.
    /// @return steps requests served (in full or in part)
    function serveQueue(uint256 maxSteps) external returns (uint256 steps);

    /// @notice Writes the classes' accrued split (TranchesAccrued) without moving cash. Anyone may call.
    function checkpointTranches() external;

    /// @notice The borrow index as of now (27 decimals, starts at 1e27), including interest not yet written.
    function borrowIndex() external view returns (uint256);

    /// @notice Outstanding debt as of now, floor(totalScaledDebt · index / RAY).
    function totalDebt() external view returns (uint256);

    /// @notice The cash token.
    function asset() external view returns (address);

    /// @notice The book: cash + outstanding debt − reserves owed, as of now (interest included). Equals
    ///         trancheAssets(0) + trancheAssets(1).
    function totalAssets() external view returns (uint256);

    /// @notice Assets of tranche `tranche_` as of now: the senior class min(its claim, the book), the junior class
    ///         the rest. What its vault's `totalAssets()` returns.
    function trancheAssets(uint8 tranche_) external view returns (uint256);

    /// @notice Shares of tranche `tranche_` that own its assets (its vault's totalSupply, pending requests'
    ///         locked shares included).
    function trancheShares(uint8 tranche_) external view returns (uint256);

    /// @notice The current tranche rules.
    function trancheParams() external view returns (TrancheParams memory);

    /// @notice The current redemption rules.
    function redemptionParams() external view returns (RedemptionParams memory);

    /// @notice The liquidity buffer now: seniorBuffer × senior assets + juniorBuffer × junior assets, rounded up.
    function liquidityBuffer() external view returns (uint256);

    /// @notice What may be lent now: available cash − earmarked − liquidity buffer (zero when negative).
    function lendableCash() external view returns (uint256);

    /// @notice Junior assets new borrowing needs now: minJuniorRatio × outstanding debt, rounded up.
    function juniorRequired() external view returns (uint256);

    /// @notice Cash set aside from lending for queued requests (their value when requested, rounded up).
    function earmarked() external view returns (uint256);

    /// @notice Cash held for served requests until their controllers claim it (never counted as the book's cash).
    function claimableCash() external view returns (uint256);

    /// @notice Cash that may still be paid to the queue before utilisation passes `gateUtilisation` (type(uint256).max
    ///         when the gate is off); zero while the gate applies.
    function ungatedRoom() external view returns (uint256);

    /// @notice The utilisation the rate model sees: utilisation / (1 − buffer share of the book), at most 1, so that
    ///         the model reaches 100% where borrowing stops. The buffer share is the one of the last checkpoint.
    function rateUtilisation() external view returns (uint256);

    /// @notice Tranche `tranche_`'s queue: requests `head`..`tail` − 1 may still be pending (tickets head + 1 ..
    ///         tail); `cursor` is where a gated serve resumes in `cursorWindow`; `lastDue` the latest due time.
    function queueOf(
        uint8 tranche_
    ) external view returns (uint256 head, uint256 tail, uint256 cursor, uint256 cursorWindow, uint256 lastDue);

    /// @notice Request `ticket` of tranche `tranche_` (all zero for an unknown ticket).
    function requestOf(uint8 tranche_, uint256 ticket) external view returns (Request memory);

    /// @notice `controller`'s redemptions in tranche `tranche_`: shares pending, and shares and assets claimable.
    function redemptionsOf(
        uint8 tranche_,
        address controller
    ) external view returns (uint256 pendingShares, uint256 claimableShares, uint256 claimableAssets);

    /// @notice Sum of scaled debt; equals the sum of every account's scaled debt in the MarginEngine.
    function totalScaledDebt() external view returns (uint256);

    /// @notice Cash that may leave now (to the redemption queue; to borrowers within `lendableCash`): cash held −
    ///         reserves owed. Cash held is what the pool counted in (deposits, repayments, covered deficits) minus
    ///         what it paid out or set aside for claimable redemptions, never the token balance: a direct transfer to
    ///         the pool is not cash.
    function availableCash() external view returns (uint256);

    /// @notice Cash the classes may still take in: 2**88 − 1 − cash held (the pool books cash in 88 bits).
    function depositRoom() external view returns (uint256);

    /// @notice debt / (cash + debt), 18 decimals (cash: the book's cash, without claimable redemptions).
    function utilisation() external view returns (uint256);

    /// @notice Current annual borrow rate, 18 decimals (0.08e18 = 8% a year).
    function borrowRate() external view returns (uint256);

    /// @notice Current rate per natural day = annual / 365, 18 decimals (8% → 0.000219178…e18).
    function ratePerDay() external view returns (uint256);

    /// @notice The annual rate model (18 decimals).
    function rateModel() external view returns (RateModel memory);

    /// @notice The share of interest owed to the insurance fund (18 decimals).
    function reserveFactor() external view returns (uint256);

    /// @notice Interest owed to the insurance fund and not yet swept (cash base units).
    function reservesOwed() external view returns (uint256);

    /// @notice Written-off loss not yet covered or acknowledged; new borrowing stops while it is above zero.
    function deficit() external view returns (uint256);

    /// @notice The senior class's part of the deficit (what a cover restores to it first).
    function seniorDeficit() external view returns (uint256);

    /// @notice Every loss ever written off (cash base units).
    function totalWrittenOff() external view returns (uint256);

    /// @notice The insurance fund the reserve factor is paid to.
    function insuranceFund() external view returns (address);
}
