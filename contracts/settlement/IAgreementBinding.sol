// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

/// @title IAgreementBinding
/// @notice Binds a margin account to the financing agreement anchored for it in the AgreementRegistry, with the two
///         numbers of its terms the MarginEngine enforces: the agreed leverage (borrowing stays within it) and the
///         agreed liquidation penalty (no liquidation of the account takes more). The registry stays the single source
///         of anchored hashes: an agreement is bound only while it is anchored there for this account, not closed and
///         within its term.
/// @dev Binding takes both parties, as the agreement did: the operator proposes the numbers for an anchored agreement
///      (`propose`), and the agreement's client accepts exactly those numbers (`accept`), which binds its own account.
///      Neither side alone can bind an account, another client's agreement, or numbers the other did not see.
///      `requireAgreements` (admin, one-way) makes an active agreement a condition of every borrow; before it, only
///      accounts with a binding are held to one (the migration of accounts opened before agreements were bound).
///      `terminate` ends a binding before its term (the client for its own account, or the operator for a default
///      or an expiry): from then on the engine refuses new borrowing, and the AgreementSettlement's close-out
///      and end waterfall may run. Ratios are 18 decimals.
interface IAgreementBinding {
    /// @notice An account's binding. Slot 0: agreementId; slot 1: maxLeverage | maxPenalty | effectiveAt | expiresAt
    ///         (the term copied from the anchor, which never changes it), so that a borrow reads one slot here and
    ///         only the registry's closedAt there.
    struct Binding {
        bytes32 agreementId;
        uint64 maxLeverage;
        uint64 maxPenalty;
        uint64 effectiveAt;
        uint64 expiresAt;
    }

    /// @notice The registry is already set (it is set once).
    error AgreementBindingRegistrySet(address registry);
    /// @notice The registry address is zero.
    error AgreementBindingInvalidRegistry();
    /// @notice Borrowing needs an active agreement bound to the account (and terminating needs one bound).
    error AgreementNotBound(address account);
    /// @notice The account's binding already ended: terminated, expired (`expiresAt` ≤ now) or its agreement closed
    ///         (`closedAt` ≠ 0). A terminated binding cannot be accepted again either.
    error AgreementAlreadyEnded(address account, bytes32 agreementId, uint64 expiresAt, uint64 closedAt);
    /// @notice Only the account itself or an operator may terminate its binding.
    error AgreementTerminationUnauthorized(address account, address caller);
    /// @notice No numbers were proposed for this agreement, or not the ones the client accepts.
    error AgreementBindingMismatch(bytes32 agreementId, uint256 maxLeverage, uint256 maxPenalty);
    /// @notice Only the agreement's client binds it, to its own account.
    error AgreementNotClient(bytes32 agreementId, address caller, address client);
    /// @notice The agreement is closed, not yet effective or expired.
    error AgreementInactive(bytes32 agreementId, uint64 effectiveAt, uint64 expiresAt, uint64 closedAt);
    /// @notice A leverage below 1 or a penalty above 50 % is not a financing agreement's.
    error AgreementInvalidBindingTerms(bytes32 agreementId, uint256 maxLeverage, uint256 maxPenalty);

    event AgreementRegistrySet(address registry);
    event BindingProposed(bytes32 indexed agreementId, address indexed client, uint256 maxLeverage, uint256 maxPenalty);
    event AgreementBound(address indexed account, bytes32 indexed agreementId, uint256 maxLeverage, uint256 maxPenalty);
    event AgreementsRequired();
    /// @notice The account's binding ended early at `by`'s request (the account itself or an operator): its
    ///         `expiresAt` is now the termination time.
    event AgreementTerminated(address indexed account, bytes32 indexed agreementId, address by);

    /// @notice Sets the AgreementRegistry (admin, once; it is deployed after the engine that consults this contract).
    function setRegistry(address registry) external;

    /// @notice The platform's side (operator): the agreed leverage and penalty of an anchored, active agreement.
    ///         Replaces an earlier proposal for the same id; an accepted binding keeps the numbers it accepted.
    function propose(bytes32 agreementId, uint64 maxLeverage, uint64 maxPenalty) external;

    /// @notice The client's side: binds msg.sender's account to `agreementId` with exactly these numbers, which must
    ///         be the proposal's (so that a proposal changed meanwhile is not accepted unseen). A binding that was
    ///         terminated is not accepted again (AgreementAlreadyEnded): termination freezes new risk for good; a new
    ///         financing needs a new agreement.
    function accept(bytes32 agreementId, uint64 maxLeverage, uint64 maxPenalty) external;

    /// @notice Ends `account`'s binding now: its `expiresAt` becomes `block.timestamp`, so the engine refuses new
    ///         borrowing from now on (leverageLimit reverts AgreementInactive) while repayments, deposits, sales and
    ///         liquidations go on, and penaltyCapOf keeps capping. Callable by the account itself (the client ending
    ///         its agreement early) or by a holder of the role the AccessManager maps this selector to (OPERATOR:
    ///         default or expiry handling). Reverts AgreementNotBound (no binding), AgreementAlreadyEnded (expired,
    ///         terminated or closed) or AgreementTerminationUnauthorized (any other caller).
    /// @dev The operator's check is `canCall` on the AccessManager: a role granted with an execution delay does
    ///      not terminate at once (the caller would schedule through the manager, which then calls as itself).
    function terminate(address account) external;

    /// @notice From now on every borrow needs an active agreement (admin, one-way).
    function requireAgreements() external;

    /// @notice The leverage `account` may borrow to: the lower of `kycLimit` and its agreement's. Reverts with
    ///         AgreementNotBound (none bound while required) or AgreementInactive (closed, not effective, expired).
    function leverageLimit(address account, uint256 kycLimit) external view returns (uint256);

    /// @notice The highest liquidation penalty the account agreed to (type(uint256).max when none is bound).
    function penaltyCapOf(address account) external view returns (uint256);

    function bindingOf(address account) external view returns (Binding memory);

    function proposalOf(bytes32 agreementId) external view returns (uint64 maxLeverage, uint64 maxPenalty);

    function required() external view returns (bool);

    function registry() external view returns (address);
}
