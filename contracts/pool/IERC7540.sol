// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

/// @title IERC7575
/// @notice ERC-7575: the vault names its share token (here the vault itself). ERC-7575's interface id (0x2f0a18c5)
///         also covers the ERC-4626 vault functions, which ITrancheVault declares through IERC4626.
interface IERC7575 {
    /// @notice The address of the share token (this vault).
    function share() external view returns (address);
}

/// @title IERC7540Operator
/// @notice ERC-7540 operators: an account a controller lets manage its requests (request, claim) for it.
interface IERC7540Operator {
    /// @notice `controller` set `operator`'s approval to `approved`.
    event OperatorSet(address indexed controller, address indexed operator, bool approved);

    /// @notice Grants or revokes `operator`'s right to manage the caller's requests. Always returns true.
    function setOperator(address operator, bool approved) external returns (bool);

    /// @notice True when `controller` has approved `operator`.
    function isOperator(address controller, address operator) external view returns (bool status);
}

/// @title IERC7540Redeem
/// @notice ERC-7540 asynchronous redemption: `requestRedeem` locks shares (Pending); the vault makes them
///         Claimable; ERC-4626 `redeem`/`withdraw` (with `controller` in the owner's place) claim the assets.
interface IERC7540Redeem {
    /// @notice `sender` locked `shares` of `owner` in a redemption request controlled by `controller`.
    event RedeemRequest(
        address indexed controller,
        address indexed owner,
        uint256 indexed requestId,
        address sender,
        uint256 shares
    );

    /// @notice Takes `shares` from `owner` (the caller, its operator, or a spender of its allowance) into a
    ///         redemption request controlled by `controller`.
    function requestRedeem(uint256 shares, address controller, address owner) external returns (uint256 requestId);

    /// @notice Shares of `controller`'s requests still Pending (not yet Claimable).
    function pendingRedeemRequest(uint256 requestId, address controller) external view returns (uint256 shares);

    /// @notice Shares of `controller`'s requests that are Claimable.
    function claimableRedeemRequest(uint256 requestId, address controller) external view returns (uint256 shares);
}
