// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {AccessManager} from "@openzeppelin/contracts/access/manager/AccessManager.sol";

/// @title ProtocolAccessManager
/// @notice The one AccessManager (OpenZeppelin 5, unmodified) that governs every admin function of MarginBridge.
///         Roles are listed in Roles.sol; risk-parameter roles are granted with an execution delay so that
///         capital providers see changes coming (schedule → wait → execute).
contract ProtocolAccessManager is AccessManager {
    /// @param initialAdmin receives ADMIN_ROLE (role 0)
    constructor(address initialAdmin) AccessManager(initialAdmin) {}
}
