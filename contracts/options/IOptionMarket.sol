// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

/// @title IOptionMarket
/// @notice Listed European options on the engine's securities (issue 26): the risk officer lists a series, a writer
///         locks the series' full collateral inside the MarginEngine and receives its contracts in its margin account,
///         the contracts trade and count as collateral like any listed security, and after expiry anyone fixes the
///         settlement price from the underlying feed's rounds and settles holders and writers inside the engine.
/// @dev Collateral: a put locks strike × contract size in cash (its largest payoff); a call locks contract size
///      shares of the underlying (covered). Settlement: a put pays (K − S)⁺ × size in cash; a call pays the
///      underlying's units worth (S − K)⁺ × size at the settlement price S, floored (a covered call's payoff in its
///      own collateral — cash-settled calls need the writer's portfolio margin in the engine, not built yet). S is
///      the time-weighted average of the underlying's primary feed over [expiry, expiry + fixingWindow].
interface IOptionMarket {
    /// @notice One series. Prices in wad CNY per share; collateral and payoffs per contract in base units of the
    ///         locked asset (cash for puts, the underlying for calls).
    struct Series {
        address underlying;
        address feed;
        bool isCall;
        uint64 expiry;
        uint32 fixingWindow;
        uint32 contractSize;
        uint256 strike;
        uint256 rate;
        /// base units of the locked asset per contract
        uint256 lockPerContract;
        /// contracts written and not unwritten (= option units in existence)
        uint256 openInterest;
        /// the settlement price (wad), 0 until fixed
        uint256 settlementPrice;
        /// base units of the locked asset each contract pays its holder (set at the fix)
        uint256 payPerContract;
        bool fixed_;
    }

    /// @notice Progress of a series' fixing: the time-weighted sum so far.
    struct Fixing {
        /// the round standing at `cursor` (0: not started)
        uint80 round;
        uint64 cursor;
        /// its price, wad
        uint256 price;
        /// Σ price · seconds from expiry to `cursor`
        uint256 accumulated;
    }

    /// @notice What the risk officer lists. `volatilityFeed`: AggregatorV3 of the underlying's annual implied
    ///         volatility (any decimals ≤ 18); `rate`: the continuously compounded annual rate the model uses (wad,
    ///         ≤ 100%); `strike` wad CNY per share; `contractSize` shares per contract; `fixingWindow` seconds.
    struct Terms {
        address underlying;
        bool isCall;
        uint256 strike;
        uint64 expiry;
        uint32 contractSize;
        uint32 fixingWindow;
        address volatilityFeed;
        uint256 rate;
    }

    /// @notice A series was listed: its token (the series' address), its price feed and its terms.
    event SeriesListed(address indexed series, address indexed underlying, address feed, Terms terms);
    event Written(address indexed series, address indexed writer, uint256 contracts, uint256 locked);
    event Unwritten(address indexed series, address indexed writer, uint256 contracts, uint256 released);
    event FixingAdvanced(address indexed series, uint80 round, uint64 cursor);
    event Fixed(address indexed series, uint256 settlementPrice, uint256 payPerContract);
    event Exercised(address indexed series, address indexed holder, uint256 contracts, uint256 paid);
    event ExerciseSkipped(address indexed series, address indexed holder, bytes reason);
    event Released(address indexed series, address indexed writer, uint256 contracts, uint256 returned);
    event ReleaseSkipped(address indexed series, address indexed writer, bytes reason);

    error OptionUnknownSeries(address series);
    error OptionInvalidSeries();
    error OptionUnderlyingNotListed(address underlying);
    error OptionZeroAmount();
    error OptionExpired(address series, uint64 expiry);
    error OptionNotExpired(address series, uint64 windowEnd);
    error OptionAlreadyFixed(address series);
    error OptionNotFixed(address series);
    error OptionWrongFixingRound(uint80 round);
    error OptionBadFixingPrice(uint80 round, int256 answer);
    error OptionNotWritten(address series, address writer, uint256 written, uint256 asked);
    error OptionMarginRefused(address account);
    error OptionOnlySelf();

    /// @notice Lists a series (risk officer). Creates its token (0 decimals: one unit is one contract; held only in
    ///         the engine) and its price feed (Black-Scholes from the underlying's rounds and the volatility feed).
    ///         The officer then configures the token in the router (primary = the feed) and the engine (tier,
    ///         haircut, penalty, cap) before anyone can write it.
    function listSeries(Terms calldata t, string calldata name, string calldata symbol) external returns (address);

    /// @notice Writes `contracts` before expiry: locks their collateral from the caller's margin account and credits
    ///         the contracts to it; an indebted writer must meet initial margin without the collateral and again with
    ///         the contracts (OptionMarginRefused).
    function write(address series, uint256 contracts) external;

    /// @notice Closes written contracts before expiry: the caller hands back contracts it holds in its margin account
    ///         and its collateral returns.
    function unwrite(address series, uint256 contracts) external;

    /// @notice Advances the fixing by at most `maxRounds` rounds once the fixing window has ended (anyone).
    ///         `startRound`: on the first call, the underlying feed's round standing at expiry (updated at or before
    ///         it, the next one after it); ignored later. Fixes the series when the window is covered.
    function fix(address series, uint80 startRound, uint256 maxRounds) external;

    /// @notice After the fix, settles each holder's contracts (anyone): the contracts return to the market and the
    ///         payoff is credited in the holder's margin account. A holder whose settlement the engine refuses (a
    ///         frozen balance, margin) is skipped with ExerciseSkipped and may be settled later.
    function exercise(address series, address[] calldata holders) external;

    /// @notice After the fix, returns each writer's collateral less what its contracts pay (anyone).
    function release(address series, address[] calldata writers) external;

    function series(address series) external view returns (Series memory);

    function fixing(address series) external view returns (Fixing memory);

    function written(address series, address writer) external view returns (uint256);

    function allSeries() external view returns (address[] memory);

    /// @notice The value of one contract after the fix, wad CNY (what the feed answers from then on).
    function fixedValue(address series) external view returns (bool isFixed, uint256 value);
}
