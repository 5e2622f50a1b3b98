// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";
import {IAccessManager} from "@openzeppelin/contracts/access/manager/IAccessManager.sol";
import {IAgreementBinding} from "./IAgreementBinding.sol";
import {IAgreementRegistry} from "./IAgreementRegistry.sol";

/// @title AgreementBinding
/// @notice See IAgreementBinding. Consulted by the MarginEngine on every borrow and liquidation.
/// @dev `setRegistry` and `requireAgreements` are admin (no role mapped); `propose` is OPERATOR; `terminate` is the
///      account itself or OPERATOR (checked with the AccessManager's canCall, since the account may call it too); the
///      rest is public.
contract AgreementBinding is IAgreementBinding, AccessManaged {
    uint256 private constant _WAD = 1e18;
    /// @dev The largest penalty an agreement may carry (the registry's terms validation allows 50 %).
    uint256 private constant _MAX_PENALTY = 5e17;
    /// @dev The smallest: the liquidator's share of it is what makes a stranger liquidate a bound account when the
    /// platform's keeper does not; an operator and a client agreeing on none would leave the pool to the keeper alone.
    uint256 private constant _MIN_PENALTY = 1e16;

    IAgreementRegistry private _registry;
    bool private _required;
    mapping(address account => Binding) private _bindings;
    /// @dev maxLeverage (64) | maxPenalty (64) proposed per agreement id; zero leverage: none.
    mapping(bytes32 agreementId => Binding) private _proposals;

    /// @param manager the protocol's AccessManager
    constructor(address manager) AccessManaged(manager) {}

    /// @inheritdoc IAgreementBinding
    function setRegistry(address registry_) external restricted {
        if (address(_registry) != address(0)) revert AgreementBindingRegistrySet(address(_registry));
        if (registry_ == address(0)) revert AgreementBindingInvalidRegistry();
        _registry = IAgreementRegistry(registry_);
        emit AgreementRegistrySet(registry_);
    }

    /// @inheritdoc IAgreementBinding
    function propose(bytes32 agreementId, uint64 maxLeverage, uint64 maxPenalty) external restricted {
        if (maxLeverage < _WAD || maxPenalty < _MIN_PENALTY || maxPenalty > _MAX_PENALTY)
            revert AgreementInvalidBindingTerms(agreementId, maxLeverage, maxPenalty);
        IAgreementRegistry.Anchor memory a = _active(agreementId);
        _proposals[agreementId] = Binding(agreementId, maxLeverage, maxPenalty, a.effectiveAt, a.expiresAt);
        emit BindingProposed(agreementId, a.client, maxLeverage, maxPenalty);
    }

    /// @inheritdoc IAgreementBinding
    function accept(bytes32 agreementId, uint64 maxLeverage, uint64 maxPenalty) external {
        IAgreementRegistry.Anchor memory a = _active(agreementId);
        if (a.client != msg.sender) revert AgreementNotClient(agreementId, msg.sender, a.client);
        Binding memory p = _proposals[agreementId];
        if (p.maxLeverage == 0 || p.maxLeverage != maxLeverage || p.maxPenalty != maxPenalty)
            revert AgreementBindingMismatch(agreementId, maxLeverage, maxPenalty);
        // The anchor is within its term (_active): the same agreement bound with an end already passed was
        // terminated, and accepting it again would lift the freeze.
        Binding storage current = _bindings[msg.sender];
        if (current.agreementId == agreementId && current.expiresAt <= block.timestamp)
            revert AgreementAlreadyEnded(msg.sender, agreementId, current.expiresAt, 0);
        _bindings[msg.sender] = p;
        emit AgreementBound(msg.sender, agreementId, maxLeverage, maxPenalty);
    }

    /// @inheritdoc IAgreementBinding
    function terminate(address account) external {
        Binding storage b = _bindings[account];
        if (b.maxLeverage == 0) revert AgreementNotBound(account);
        if (msg.sender != account) {
            (bool allowed, ) = IAccessManager(authority()).canCall(msg.sender, address(this), this.terminate.selector);
            if (!allowed) revert AgreementTerminationUnauthorized(account, msg.sender);
        }
        bytes32 id = b.agreementId;
        uint64 expiresAt = b.expiresAt;
        uint64 closedAt = _registry.closedAtOf(id);
        if (closedAt != 0 || expiresAt <= block.timestamp)
            revert AgreementAlreadyEnded(account, id, expiresAt, closedAt);
        b.expiresAt = uint64(block.timestamp);
        emit AgreementTerminated(account, id, msg.sender);
    }

    /// @inheritdoc IAgreementBinding
    function requireAgreements() external restricted {
        _required = true;
        emit AgreementsRequired();
    }

    /// @inheritdoc IAgreementBinding
    function leverageLimit(address account, uint256 kycLimit) external view returns (uint256) {
        // A binding's leverage is at least 1: zero means none (one slot read for an unbound account, and the term
        // beside it for a bound one; the registry is asked only whether the agreement was closed).
        Binding storage b = _bindings[account];
        uint256 agreed = b.maxLeverage;
        if (agreed == 0) {
            if (_required) revert AgreementNotBound(account);
            return kycLimit;
        }
        (bytes32 id, uint64 effectiveAt, uint64 expiresAt) = (b.agreementId, b.effectiveAt, b.expiresAt);
        uint64 closedAt = _registry.closedAtOf(id);
        if (closedAt != 0 || block.timestamp < effectiveAt || block.timestamp >= expiresAt)
            revert AgreementInactive(id, effectiveAt, expiresAt, closedAt);
        return agreed < kycLimit ? agreed : kycLimit;
    }

    /// @inheritdoc IAgreementBinding
    function penaltyCapOf(address account) external view returns (uint256) {
        // A closed or expired agreement still caps the penalty of the positions it financed.
        Binding storage b = _bindings[account];
        return b.maxLeverage == 0 ? type(uint256).max : b.maxPenalty;
    }

    /// @inheritdoc IAgreementBinding
    function bindingOf(address account) external view returns (Binding memory) {
        return _bindings[account];
    }

    /// @inheritdoc IAgreementBinding
    function proposalOf(bytes32 agreementId) external view returns (uint64 maxLeverage, uint64 maxPenalty) {
        Binding memory p = _proposals[agreementId];
        return (p.maxLeverage, p.maxPenalty);
    }

    /// @inheritdoc IAgreementBinding
    function required() external view returns (bool) {
        return _required;
    }

    /// @inheritdoc IAgreementBinding
    function registry() external view returns (address) {
        return address(_registry);
    }

    /// @dev The anchored record of an agreement that is open and within its term now (reverts otherwise; the
    ///      registry reverts AgreementNotAnchored for an unknown id, and this contract without a registry).
    function _active(bytes32 agreementId) private view returns (IAgreementRegistry.Anchor memory a) {
        if (address(_registry) == address(0)) revert AgreementBindingInvalidRegistry();
        a = _registry.agreementOf(agreementId);
        if (a.closedAt != 0 || block.timestamp < a.effectiveAt || block.timestamp >= a.expiresAt)
            revert AgreementInactive(agreementId, a.effectiveAt, a.expiresAt, a.closedAt);
    }
}
