// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

/// @title IPortfolioRisk
/// @notice The MarginEngine's portfolio-margin satellite (issue 26). For an account that opted into portfolio margin,
///         the engine's valuation hands it the account's priced positions; the satellite groups each underlying with
///         the option series held on it, values every group over the SPAN-like scenario grid (PortfolioMargin), and
///         returns the margins the engine applies instead of the rule's: one maintenance and one initial rate per
///         group (the grid's requirement spread over the group's value), and a liquidation rank per position.
///         Positions outside a group keep the rule's margins. The engine never calls it for an account holding no
///         option series, so other accounts pay nothing for it.
interface IPortfolioRisk {
    /// @notice One priced position as the engine's valuation sees it.
    struct Holding {
        address asset;
        /// base units held
        uint256 balance;
        /// the router's price, 18-decimal cash per whole token (0: unpriced, counted at zero by the engine)
        uint256 price;
        /// cash base units, ⌊balance · price / scale⌋
        uint256 value;
        /// the rule's maintenance and initial ratios (18 decimals)
        uint256 maintenance;
        uint256 initial;
        /// an option series (the engine's AssetRecord.option)
        bool option;
    }

    /// @notice The margins the engine applies to one position.
    struct Margin {
        uint256 maintenance;
        uint256 initial;
        /// liquidation order: the highest rank is sold first; 1 = a hedge in its group's worst scenario
        uint8 rank;
    }

    /// @notice The grid's parameters beside each underlying's own maintenance ratio (the scan range).
    /// @param volatilityShift relative volatility move of the scan (< 1): 0.25e18 scans σ·0.75 and σ·1.25
    /// @param extremeMultiple the extreme move as a multiple of the scan range
    /// @param extremeFraction share of the extreme rows' loss counted (≤ 1; SPAN: 0.35e18)
    /// @param shortOptionMinimum charge per written underlying unit as a fraction of spot (≤ 1)
    /// @param lookAhead seconds the scenarios look ahead (SPAN: one day)
    struct Grid {
        uint64 volatilityShift;
        uint64 extremeMultiple;
        uint64 extremeFraction;
        uint64 shortOptionMinimum;
        uint32 lookAhead;
    }

    event PortfolioMarginSet(address indexed account, bool enrolled);
    event GridSet(Grid grid);

    /// @notice The account's KYC identity is not verified.
    error PortfolioNotVerified(address account);
    /// @notice After the switch the indebted account would not meet initial margin under the model it chose.
    error PortfolioInitialMarginBreached(address account);
    /// @notice The switch asked is the account's mode already.
    error PortfolioUnchanged(address account, bool enrolled);
    /// @notice A grid parameter out of its range.
    error PortfolioInvalidGrid();

    /// @notice Whether `asset` is an option series the satellite can value.
    function isOptionSeries(address asset) external view returns (bool);

    /// @notice The margins of an account's positions: `applied` false (and `margins` empty) when the account is not
    ///         portfolio-margined; otherwise one Margin per holding, in the holdings' order. Never reverts for the
    ///         state of a group: a group it cannot value (a position unpriced, the underlying's price unsafe, more
    ///         legs than the grid takes, a range the grid refuses) keeps the rule's margins.
    function margins(
        address account,
        Holding[] calldata holdings
    ) external view returns (bool applied, Margin[] memory margins_);

    /// @notice Opts the caller into (true) or out of (false) portfolio margin. Either switch is new risk: the caller
    ///         must be KYC-verified and, with debt, meet initial margin under the model it switches to.
    function setPortfolioMargin(bool enrolled) external;

    /// @notice Whether the account is portfolio-margined.
    function portfolioMargined(address account) external view returns (bool);

    /// @notice RISK_OFFICER: the grid's parameters.
    function setGrid(Grid calldata grid) external;

    function grid() external view returns (Grid memory);
}
