// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {IERC4626} from "@openzeppelin/contracts/interfaces/IERC4626.sol";

/// @title ICapitalPool
/// @notice ERC-4626 vault over the cash token for capital providers (出资方). Only the bound borrower (the
///         MarginEngine, bound once by the admin) borrows, repays and writes off bad debt. Interest accrues per
///         second through a borrow index from an annual rate (fixed, or kinked in utilisation); a reserve factor of
///         it is owed to the insurance fund.
/// @dev Units: amounts in cash-token base units; rates and ratios 18 decimals; the borrow index 27 decimals (RAY).
///      totalAssets = cash + outstanding debt − reserves owed to the insurance fund, where outstanding debt is
///      already net of bad debt written off (a write-off removes the debt, so totalAssets falls by exactly it).
///      Withdrawals beyond available cash (cash − reserves owed) revert with ERC4626ExceededMaxWithdraw /
///      ERC4626ExceededMaxRedeem: there is no queue; maxWithdraw/maxRedeem tell how much can go now.
interface ICapitalPool is IERC4626 {
    /// @notice Annual borrow rate model, 18 decimals: rate = base + slope1·U/kink below the kink, and
    ///         base + slope1 + slope2·(U − kink)/(1 − kink) above it. A fixed rate is slope1 = slope2 = 0.
    struct RateModel {
        uint64 base;
        uint64 slope1;
        uint64 slope2;
        uint64 kink;
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

    /// @notice Cash was lent to the borrower, kept in the pool as its float; `scaled` was added to the scaled debt at
    ///         `index`.
    event Borrowed(address indexed borrower, uint256 assets, uint256 scaled, uint256 index);
    /// @notice Debt was repaid: `scaled` removed, `assets` taken from the borrower's float first, the rest pulled from
    ///         the borrower.
    event Repaid(address indexed borrower, uint256 assets, uint256 scaled, uint256 index);
    /// @notice The borrower took `assets` of its float out of the pool, to `to`.
    event FloatReleased(address indexed borrower, address indexed to, uint256 assets);
    /// @notice Bad debt was written off: capital providers lose `assets`; the price of one whole share fell from
    ///         `sharePriceBefore` to `sharePriceAfter` (cash base units per 10**decimals() shares).
    event BadDebtWrittenOff(
        address indexed borrower,
        uint256 assets,
        uint256 scaled,
        uint256 sharePriceBefore,
        uint256 sharePriceAfter,
        uint256 deficitAfter
    );
    /// @notice Someone paid `assets` towards the recorded deficit.
    event DeficitCovered(address indexed payer, uint256 assets, uint256 deficitAfter);
    /// @notice The risk officer accepted the remaining deficit as a loss; borrowing may resume.
    event DeficitAcknowledged(uint256 deficit);
    /// @notice Reserves owed were paid to the insurance fund.
    event ReservesSwept(address indexed insuranceFund, uint256 assets);
    event RateModelSet(uint256 base, uint256 slope1, uint256 slope2, uint256 kink);
    event ReserveFactorSet(uint256 reserveFactor);
    /// @notice The admin bound the pool's only borrower (for good).
    event BorrowerBound(address indexed borrower);

    /// @notice Binds the only address that may borrow, repay and write off (the MarginEngine). Admin only (the
    ///         AccessManager), once: afterwards the three borrower calls check `msg.sender` against it directly
    ///         instead of asking the AccessManager (≈ 9,000 gas less per call).
    function bindBorrower(address borrower) external;

    /// @notice The bound borrower (address(0) before `bindBorrower`).
    function borrower() external view returns (address);

    /// @notice Lends `assets` to the bound borrower (only it may call). The cash does not move: it stays in the pool as
    ///         the borrower's float, out of the pool's own cash (`availableCash`, `totalAssets` and `maxWithdraw`
    ///         never count it), until the borrower releases it or repays with it. Reverts while a deficit is
    ///         unresolved.
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

    /// @notice Anyone pays cash towards the recorded deficit (share price rises back by it).
    function coverDeficit(uint256 assets) external;

    /// @notice The risk officer accepts the remaining deficit as the capital providers' loss (behind its delay).
    function acknowledgeDeficit() external;

    /// @notice Pays the reserves owed, as far as cash allows, to the insurance fund. Anyone may call.
    function sweepReserves() external returns (uint256 paid);

    /// @notice Brings the index up to now. Anyone may call.
    /// @return index the borrow index as of now (27 decimals), what `borrowIndex()` would return
    function accrue() external returns (uint256 index);

    /// @notice Sets the annual rate model (risk officer, behind its delay). Accrues first at the old rate.
    function setRateModel(RateModel calldata model) external;

    /// @notice Sets the share of interest owed to the insurance fund, 18 decimals (risk officer, delayed).
    function setReserveFactor(uint256 reserveFactor) external;

    /// @notice The borrow index as of now (27 decimals, starts at 1e27), including interest not yet written.
    function borrowIndex() external view returns (uint256);

    /// @notice Outstanding debt as of now, floor(totalScaledDebt · index / RAY).
    function totalDebt() external view returns (uint256);

    /// @notice Sum of scaled debt; equals the sum of every account's scaled debt in the MarginEngine.
    function totalScaledDebt() external view returns (uint256);

    /// @notice Cash that may leave now (borrowed or withdrawn): cash held − reserves owed. Cash held is what the
    ///         pool counted in (deposits, repayments, covered deficits) minus what it paid out, never the token
    ///         balance: a direct transfer to the pool is not cash.
    function availableCash() external view returns (uint256);

    /// @notice debt / (cash + debt), 18 decimals.
    function utilisation() external view returns (uint256);

    /// @notice Current annual borrow rate, 18 decimals (0.08e18 = 8% a year).
    function borrowRate() external view returns (uint256);

    /// @notice Current rate per natural day = annual / 365, 18 decimals (8% → 0.000219178…e18).
    function ratePerDay() external view returns (uint256);

    function rateModel() external view returns (RateModel memory);

    function reserveFactor() external view returns (uint256);

    /// @notice Interest owed to the insurance fund and not yet swept (cash base units).
    function reservesOwed() external view returns (uint256);

    /// @notice Written-off loss not yet covered or acknowledged; new borrowing stops while it is above zero.
    function deficit() external view returns (uint256);

    /// @notice Every loss ever written off (cash base units).
    function totalWrittenOff() external view returns (uint256);

    function insuranceFund() external view returns (address);
}
