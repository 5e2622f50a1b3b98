// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

/// @title Roles
/// @notice The role ids every MarginBridge contract is governed by, through one OpenZeppelin AccessManager.
/// @dev Role 0 is the AccessManager's own ADMIN_ROLE; the public role (type(uint64).max) is never granted a
///      restricted function. System roles (MARGIN_ENGINE and below) are held by contracts, never by people.
library Roles {
    /// @notice AccessManager's built-in admin: grants roles, sets target functions and delays.
    uint64 internal constant ADMIN = 0;
    /// @notice Writes and revokes identities in the KycRegistry.
    uint64 internal constant KYC_OFFICER = 1;
    /// @notice Mints against custody deposits, redeems against payouts, attests custody holdings.
    uint64 internal constant CUSTODIAN = 2;
    /// @notice Sets risk parameters (executed with the configured delay) and resets circuit breakers.
    uint64 internal constant RISK_OFFICER = 3;
    /// @notice Day-to-day operations: pause, freeze, submit settlement batches, register system accounts.
    uint64 internal constant OPERATOR = 4;
    /// @notice Publishes proof-of-reserves epochs.
    uint64 internal constant RESERVE_PUBLISHER = 5;
    /// @notice Signs oracle observations (checked by the price feeds).
    uint64 internal constant ORACLE_REPORTER = 6;
    /// @notice Executes legal orders on collateral inside the margin engine (MarginEngine.legalSeize of frozen
    ///         balances), each with its order reference.
    uint64 internal constant LEGAL_OFFICER = 7;
    /// @notice The risk officer's on-call deputy: tightens risk at once through the RiskGuardian (never loosens).
    uint64 internal constant GUARDIAN = 8;
    /// @notice System role: may force-transfer collateral during liquidation (the MarginEngine).
    uint64 internal constant LIQUIDATOR = 10;
    /// @notice System role: may borrow from and repay to the CapitalPool (the MarginEngine).
    uint64 internal constant BORROWER = 11;
    /// @notice System role: may move margin balances between accounts for DvP settlement (the SettlementHub).
    uint64 internal constant SETTLER = 12;
    /// @notice System role: may ask the InsuranceFund to cover bad debt (the MarginEngine).
    uint64 internal constant INSURANCE_CLAIMANT = 13;
    /// @notice System role: closes agreements in the AgreementRegistry and pays the capital providers' profit share
    ///         into the CapitalPool (the AgreementSettlement), so that no agreement closes without its waterfall.
    uint64 internal constant AGREEMENT_SETTLER = 14;
}
