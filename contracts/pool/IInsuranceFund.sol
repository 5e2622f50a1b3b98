// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

/// @title IInsuranceFund
/// @notice The first loss absorber after an account's own collateral. Receives the capital pool's reserve factor
///         of interest and the insurance share of liquidation penalties (anyone may also donate); pays bad debt
///         to its claimant (the MarginEngine) before the capital pool takes any loss.
/// @dev Holds only the cash token. Balance and full history are public: running totals per income source plus
///      one event per receipt and per claim.
interface IInsuranceFund {
    /// @notice A zero amount was given.
    error InsuranceZeroAmount();
    /// @notice The payee of a claim is the zero address.
    error InsuranceInvalidPayee(address payee);

    /// @notice Cash was received from `from`, tagged with its `source` (see SOURCE_* constants).
    event IncomeReceived(address indexed from, bytes32 indexed source, uint256 amount, uint256 balanceAfter);
    /// @notice A bad-debt claim for `account` asked for `requested` and was paid `paid` (≤ requested, ≤ balance).
    event BadDebtCovered(
        address indexed claimant,
        address indexed account,
        address payee,
        uint256 requested,
        uint256 paid,
        uint256 balanceAfter
    );

    /// @notice Pulls `amount` cash from the caller (needs allowance) and books it under `source`.
    /// @param amount cash-token base units
    /// @param source a tag such as SOURCE_RESERVE_FACTOR, SOURCE_LIQUIDATION or SOURCE_DONATION
    function receiveIncome(uint256 amount, bytes32 source) external;

    /// @notice Pays up to `amount` of bad debt of `account` to `payee` (INSURANCE_CLAIMANT role: the MarginEngine).
    ///         Never reverts for lack of funds: it pays what it holds and returns how much.
    /// @return paid cash-token base units actually transferred (min(amount, balance))
    function coverBadDebt(address account, uint256 amount, address payee) external returns (uint256 paid);

    /// @notice The cash token this fund holds.
    function asset() external view returns (address);

    /// @notice Cash held now (base units).
    function balance() external view returns (uint256);

    /// @notice Everything ever received under `source` (base units).
    function totalReceived(bytes32 source) external view returns (uint256);

    /// @notice Everything ever paid out for bad debt, and the number of claims paid.
    function totalCovered() external view returns (uint256 amount, uint256 claims);
}
