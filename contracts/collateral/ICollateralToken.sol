// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title IFreezeListener
/// @notice What a CollateralToken calls when it freezes or unfreezes a holder (the MarginEngine implements it).
interface IFreezeListener {
    /// @notice `account` was frozen (`frozen`) or unfrozen by the calling token. Must not revert.
    function freezeChanged(address account, bool frozen) external;
}

/// @title ICollateralToken
/// @notice A permissioned ERC-20 (in the spirit of ERC-3643) representing an asset held by the custodian:
///         a cash token (tokenized bank deposits) or a security token (tokenized shares).
/// @dev Holders must be verified in the KycRegistry unless registered as system accounts (MarginEngine,
///      CapitalPool, InsuranceFund, SettlementHub). Every balance change goes through one `_update` hook that
///      enforces pause, freeze and eligibility.
interface ICollateralToken is IERC20 {
    /// @notice The account is neither verified in the KycRegistry nor a system account.
    error CollateralNotEligible(address account);
    /// @notice The account is frozen.
    error CollateralAccountFrozen(address account);
    /// @notice The custody deposit reference was already minted against.
    error CollateralDepositAlreadyMinted(bytes32 depositRef);
    /// @notice The payout reference was already used by a redemption.
    error CollateralPayoutRefUsed(bytes32 payoutRef);
    /// @notice Zero references and zero amounts are refused.
    error CollateralInvalidReference();
    error CollateralZeroAmount();
    error CollateralInvalidAccount(address account);
    /// @notice The freeze state asked for is already the current one.
    error CollateralFreezeUnchanged(address account, bool frozen);
    /// @notice A mint would take supply above the custodian's attested reserves (secure mint).
    error CollateralMintExceedsReserves(uint256 supplyAfter, uint256 attestedReserves);
    /// @notice The reserves feed answer is unusable (non-positive or older than the allowed staleness).
    error CollateralReservesUnavailable(int256 answer, uint256 updatedAt);
    /// @notice A forced transfer may not take from a system account (engine, pool, insurance fund, hub): their
    ///         internal ledgers would be left unbacked.
    error CollateralSystemAccountForced(address account);
    /// @notice A mint would take supply above 2**248 − 1 base units (a holder's balance shares its storage word with
    ///         the freeze and system flags).
    error CollateralSupplyOverflow(uint256 supplyAfter);

    /// @notice Tokens were minted against an off-chain custody deposit.
    event Minted(address indexed to, uint256 amount, bytes32 indexed depositRef);
    /// @notice Tokens were burned; the custodian pays out off-chain against `payoutRef`.
    event Redeemed(address indexed holder, uint256 amount, bytes32 indexed payoutRef);
    /// @notice An account was frozen or unfrozen.
    event FreezeSet(address indexed account, bool frozen);
    /// @notice A system account (exempt from KYC) was registered or removed.
    event SystemAccountSet(address indexed account, bool isSystem);
    /// @notice Tokens were moved without the holder's consent during liquidation.
    event ForcedTransfer(address indexed from, address indexed to, uint256 amount);
    /// @notice The contract told of every freeze change (the MarginEngine) was set (address(0): none).
    event FreezeListenerSet(address indexed listener);
    /// @notice The proof-of-reserve feed used for secure mint changed (address(0) disables the check).
    event ReserveFeedSet(address indexed feed, uint256 maxStaleness);

    /// @notice Mints `amount` to `to` against the custody deposit `depositRef` (custodian). Idempotent per
    ///         reference: the same reference twice reverts with CollateralDepositAlreadyMinted.
    /// @param amount token base units (this token's decimals)
    function mint(address to, uint256 amount, bytes32 depositRef) external;

    /// @notice Burns `amount` of the caller's tokens; the custodian pays out off-chain against `payoutRef`.
    function redeem(uint256 amount, bytes32 payoutRef) external;

    /// @notice Moves tokens regardless of the holder's consent or freeze (LIQUIDATOR role). Never from a system
    ///         account (CollateralSystemAccountForced): what the engine, pool and fund hold backs their ledgers;
    ///         a legal seizure of collateral inside the engine goes through MarginEngine.legalSeize. The receiver
    ///         must still be eligible and not frozen.
    function forcedTransfer(address from, address to, uint256 amount) external;

    /// @notice Sets the contract told of every freeze change (operator): the MarginEngine, which then freezes the
    ///         holder's balance of this token inside the engine in the same transaction.
    function setFreezeListener(address listener) external;

    /// @notice The contract told of every freeze change (address(0): none).
    function freezeListener() external view returns (address);

    /// @notice Freezes or unfreezes an account (operator): a frozen account can neither send nor receive.
    function setFrozen(address account, bool frozen) external;

    /// @notice Registers or removes a system account exempt from KYC (admin).
    function setSystemAccount(address account, bool isSystem) external;

    /// @notice Sets the custodian's proof-of-reserve feed used by secure mint (admin); address(0) disables it.
    /// @param maxStaleness seconds after which the feed's answer is refused
    function setReserveFeed(address feed, uint256 maxStaleness) external;

    /// @notice Stops every transfer, mint and redemption (operator). Forced transfers are not stopped.
    function pause() external;

    /// @notice Resumes after a pause (operator).
    function unpause() external;

    /// @notice True when the account may hold and receive the token right now.
    function isEligible(address account) external view returns (bool);

    function isFrozen(address account) external view returns (bool);

    function isSystemAccount(address account) external view returns (bool);

    function depositMinted(bytes32 depositRef) external view returns (bool);

    /// @notice The secure-mint feed and its allowed staleness (address(0) when disabled).
    function reserveFeed() external view returns (address feed, uint256 maxStaleness);
}
