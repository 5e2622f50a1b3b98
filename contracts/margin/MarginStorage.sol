// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {IMarginEngine} from "./IMarginEngine.sol";
import {IOracleRouter} from "../oracle/IOracleRouter.sol";

/// @title MarginStorage
/// @notice The MarginEngine's state, in one namespaced struct (ERC-7201), so that the engine and its linked
///         libraries (MarginAdmin, MarginViews) read and write the same storage. Also the in-memory forms a
///         valuation builds.
/// @dev The engine keeps the hot paths (deposit, borrow, repay, withdraw, poke, liquidate, trade legs) in its own
///      code; the libraries hold the risk officer's setters and the views, which is how the engine stays below the
///      EIP-170 code size limit. Every struct's packing is chosen for what a valuation reads together.
library MarginStorage {
    /// @dev Cash-token bit of an account's frozen mask (bits 0–14 are the listed securities' ids).
    uint16 internal constant CASH_FROZEN = uint16(1) << 15;

    /// @dev Everything an account has but its securities and its margin call, in one slot: cash (88) |
    ///      scaledDebt (88) | state (8) | heldMask (16) | frozenMask (16) | ownerTag (24) | fixedUntilDay (16).
    ///      Deposit, borrow, repay, liquidation and the trade legs read and write cash, debt, state and the masks
    ///      together, and every valuation reads the margin mode with them. Bounds: cash and scaled debt below
    ///      2**88 base units (3.1e20 CNY at 6 decimals; more reverts, nothing is truncated).
    ///      ownerTag is the owner's KYC identity tag as of its last borrow (KycRegistry.identityTag): a liquidation
    ///      compares it with the liquidator's, so that nobody liquidates its own account from a second address.
    ///      frozenMask mirrors the tokens' own freeze (CollateralToken.setFrozen notifies the engine; anyone may
    ///      re-sync): bit `id` for a security, CASH_FROZEN for the cash token. A frozen balance counts for nothing
    ///      and moves only by the legal seizure path.
    ///      fixedUntilDay: the account's fixed margin term ends at the start of this UTC day (days since 1970);
    ///      before it every tier margin is taken at the tier's fixedVolatility, from it on (and at 0) at the
    ///      router's volatility.
    struct Account {
        uint88 cash;
        uint88 scaledDebt;
        IMarginEngine.AccountState state;
        uint16 heldMask;
        uint16 frozenMask;
        uint24 ownerTag;
        uint16 fixedUntilDay;
    }

    /// @dev The longest fixed margin term an account may choose, in days (a financing agreement's year, leap day
    ///      included).
    uint256 internal constant MAX_FIXED_TERM_DAYS = 366;

    /// @dev fixedVolatility is stored in steps of 1e14 (0.01 % a day).
    uint256 internal constant FIXED_VOLATILITY_STEP = 1e14;

    /// @dev An account's margin call, apart from the account slot: only an account below maintenance reads it.
    ///      deadline (40) | seenAt (40): when an evaluation last found the account below maintenance. The call
    ///      belongs to one episode: it lapses when no evaluation saw the account below maintenance for a whole
    ///      grace period (the chain cannot know it stayed below), and the next one below starts a new call.
    struct Call {
        uint40 deadline;
        uint40 seenAt;
    }

    /// @dev Storage form of AssetConfig. Slot 0 holds everything a valuation reads: listed | liquidityTier | id |
    ///      scaleExp | haircut | liquidationPenalty | windowStart | borrowPaused. Slot 1: windowCap | seizedInWindow.
    ///      The scale is kept as its power of ten (scale = 10**scaleExp ≤ 10**38) so that it fits slot 0.
    struct AssetRecord {
        bool listed;
        uint8 liquidityTier;
        uint8 id;
        uint8 scaleExp;
        uint64 haircut;
        uint64 liquidationPenalty;
        uint64 windowStart;
        /// new risk (borrowing, withdrawals with debt, an indebted buyer) refused for accounts holding it
        bool borrowPaused;
        /// an option series of the portfolio-risk satellite (IPortfolioRisk.isOptionSeries when listed, or when the
        /// satellite is set): an account holding one is offered to the satellite for portfolio margin
        bool option;
        uint128 windowCap;
        uint128 seizedInWindow;
    }

    /// @dev Storage form of TierRisk: the five ratios in one slot, each in units of 1e-9 (TIER_RISK_STEP base units
    ///      of the 18-decimal ratio): uint48 holds any uint64 ratio that is a multiple of the step, and setTierRisk
    ///      refuses the others, so every ratio reads back exactly.
    ///      fixedVolatility, in steps of FIXED_VOLATILITY_STEP, fills the slot's last 16 bits.
    struct TierRecord {
        uint48 liquidityAddOn;
        uint48 volatilityMultiplier;
        uint48 floor;
        uint48 cap;
        uint48 initialBuffer;
        uint16 fixedVolatility;
    }

    /// @dev Storage form of Params, with the insurance fund's running share beside the durations. Slot 0: the four
    ///      ratios (every classification reads them). Slot 1: the three durations | dustValue (72 bits; setParams
    ///      refuses more) | 1 + the penalty shares owed to the insurance fund (88 bits, the pool's own bound). The
    ///      share is kept plus one so that the word never returns to zero for its sake.
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

    /// @dev The engine's immutables that its linked libraries need (a library cannot read them).
    struct Contracts {
        address cash;
        address oracle;
        address pool;
        address kyc;
        address insurance;
    }

    /// @custom:storage-location erc7201:marginbridge.storage.MarginEngine
    struct Layout {
        mapping(address account => Account) accounts;
        /// Security balances; an account's cash balance is in its Account slot.
        mapping(address account => mapping(address asset => uint256)) balances;
        mapping(address asset => AssetRecord) assets;
        /// Listed assets by id (ids come from held masks, whose bits are only ever set for listed ids).
        mapping(uint256 id => address) assetById;
        uint256 assetCount;
        mapping(uint8 tier => TierRecord) tiers;
        ParamsRecord params;
        mapping(address account => Call) calls;
        /// The portfolio-margin satellite (IPortfolioRisk; address(0): every account under the rule-based margin).
        /// Read only by valuations of accounts holding an option series.
        address portfolioRisk;
    }

    /// @dev ERC-7201: keccak256(abi.encode(uint256(keccak256("marginbridge.storage.MarginEngine")) - 1))
    ///      & ~bytes32(uint256(0xff))
    bytes32 private constant _SLOT = 0xfa08e6acd1ffc6999afb2e264a7de7bcb94ec645c1406e7e17253602ca4b6e00;

    /// @dev One held security, valued for margin: at the router's price when Safe, at the session's last price when
    ///      Closed, at zero when the price is otherwise unsafe (Stale, Deviating, CircuitBroken, Unset) or the
    ///      balance is frozen.
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
        /// the router's safeSince (0 unless Safe and not frozen)
        uint256 safeSince;
        IOracleRouter.PriceStatus status;
        uint8 tier;
        /// liquidation order: the highest rank is sold first (the tier; for a portfolio-margined account the
        /// satellite's rank, see IPortfolioRisk)
        uint8 rank;
        /// an option series (AssetRecord.option)
        bool option;
    }

    /// @dev An account valued in memory; liquidation updates it segment by segment without re-reading prices.
    struct Valuation {
        /// cash that counts (0 when the account's cash is frozen)
        uint256 cash;
        /// frozen cash, kept apart so that a write-back of `cash` keeps it
        uint256 frozenCash;
        uint256 debt;
        uint256 scaled;
        uint256 index;
        uint256 positionValue;
        uint256 collateralValue;
        uint256 maintenanceReq;
        uint256 initialReq;
        /// every held price Safe (what new risk needs)
        bool allSafe;
        /// some held position counts zero (unsafe price or frozen): the account's collateral is not all known
        bool unpriced;
        address unsafeAsset;
        IOracleRouter.PriceStatus unsafeStatus;
        /// a held (unfrozen) asset on which new risk is paused (address(0): none)
        address pausedAsset;
        /// an option series is held: the portfolio-risk satellite may re-margin the account
        bool optionHeld;
        Position[] positions;
    }

    function layout() internal pure returns (Layout storage $) {
        // solhint-disable-next-line no-inline-assembly
        assembly {
            $.slot := _SLOT
        }
    }
}
