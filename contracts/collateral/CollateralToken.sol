// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";
import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";
import {IKycRegistry} from "../identity/IKycRegistry.sol";
import {ICollateralToken} from "./ICollateralToken.sol";

/// @title CollateralToken
/// @notice Permissioned ERC-20 with ERC-2612 permit for one custodied asset. See ICollateralToken.
/// @dev Trust: the custodian is trusted to mint only against real deposits; secure mint bounds that trust by the
///      custodian's separately attested reserves when a reserve feed is set. Decimals are fixed at deployment.
contract CollateralToken is ICollateralToken, ERC20Permit, Pausable, AccessManaged {
    IKycRegistry private immutable _kyc;
    uint8 private immutable _decimals;

    mapping(address account => bool) private _frozen;
    mapping(address account => bool) private _system;
    mapping(bytes32 depositRef => bool) private _minted;
    mapping(bytes32 payoutRef => bool) private _payoutUsed;

    AggregatorV3Interface private _reserveFeed;
    uint256 private _reserveMaxStaleness;
    /// @dev Set only inside forcedTransfer so that `_update` skips the sender's consent checks.
    bool private _forcing;

    /// @param name_ token name (also the EIP-712 domain name for permit)
    /// @param symbol_ token symbol
    /// @param decimals_ base-unit decimals of the asset (e.g. 6 for cash, 0 or 18 for shares)
    /// @param authority the AccessManager
    /// @param kyc the KycRegistry deciding who may hold the token
    constructor(
        string memory name_,
        string memory symbol_,
        uint8 decimals_,
        address authority,
        IKycRegistry kyc
    ) ERC20(name_, symbol_) ERC20Permit(name_) AccessManaged(authority) {
        _decimals = decimals_;
        _kyc = kyc;
    }

    /// @notice The KycRegistry this token checks.
    function kycRegistry() external view returns (IKycRegistry) {
        return _kyc;
    }

    /// @inheritdoc ERC20
    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    /// @inheritdoc ICollateralToken
    function mint(address to, uint256 amount, bytes32 depositRef) external restricted {
        if (depositRef == bytes32(0)) revert CollateralInvalidReference();
        if (amount == 0) revert CollateralZeroAmount();
        if (_minted[depositRef]) revert CollateralDepositAlreadyMinted(depositRef);
        _checkReserves(totalSupply() + amount);
        _minted[depositRef] = true;
        _mint(to, amount);
        emit Minted(to, amount, depositRef);
    }

    /// @inheritdoc ICollateralToken
    function redeem(uint256 amount, bytes32 payoutRef) external {
        if (payoutRef == bytes32(0)) revert CollateralInvalidReference();
        if (amount == 0) revert CollateralZeroAmount();
        if (_payoutUsed[payoutRef]) revert CollateralPayoutRefUsed(payoutRef);
        _payoutUsed[payoutRef] = true;
        _burn(msg.sender, amount);
        emit Redeemed(msg.sender, amount, payoutRef);
    }

    /// @inheritdoc ICollateralToken
    function forcedTransfer(address from, address to, uint256 amount) external restricted {
        if (amount == 0) revert CollateralZeroAmount();
        _forcing = true;
        _transfer(from, to, amount);
        _forcing = false;
        emit ForcedTransfer(from, to, amount);
    }

    /// @inheritdoc ICollateralToken
    function setFrozen(address account, bool frozen) external restricted {
        if (account == address(0)) revert CollateralInvalidAccount(account);
        if (_frozen[account] == frozen) revert CollateralFreezeUnchanged(account, frozen);
        _frozen[account] = frozen;
        emit FreezeSet(account, frozen);
    }

    /// @inheritdoc ICollateralToken
    function setSystemAccount(address account, bool isSystem) external restricted {
        if (account == address(0)) revert CollateralInvalidAccount(account);
        _system[account] = isSystem;
        emit SystemAccountSet(account, isSystem);
    }

    /// @inheritdoc ICollateralToken
    function setReserveFeed(address feed, uint256 maxStaleness) external restricted {
        _reserveFeed = AggregatorV3Interface(feed);
        _reserveMaxStaleness = maxStaleness;
        emit ReserveFeedSet(feed, maxStaleness);
    }

    /// @inheritdoc ICollateralToken
    function pause() external restricted {
        _pause();
    }

    /// @inheritdoc ICollateralToken
    function unpause() external restricted {
        _unpause();
    }

    /// @inheritdoc ICollateralToken
    function isEligible(address account) public view returns (bool) {
        return _system[account] || _kyc.isVerified(account);
    }

    /// @inheritdoc ICollateralToken
    function isFrozen(address account) external view returns (bool) {
        return _frozen[account];
    }

    /// @inheritdoc ICollateralToken
    function isSystemAccount(address account) external view returns (bool) {
        return _system[account];
    }

    /// @inheritdoc ICollateralToken
    function depositMinted(bytes32 depositRef) external view returns (bool) {
        return _minted[depositRef];
    }

    /// @inheritdoc ICollateralToken
    function reserveFeed() external view returns (address feed, uint256 maxStaleness) {
        return (address(_reserveFeed), _reserveMaxStaleness);
    }

    /// @dev The one place every balance change flows through. Mint: receiver checks. Burn: sender checks.
    ///      Transfer: both. A forced transfer skips the sender's freeze/eligibility and the pause, never the
    ///      receiver's checks.
    function _update(address from, address to, uint256 value) internal override {
        if (!_forcing) {
            _requireNotPaused();
            if (from != address(0)) _requireCanMove(from);
        }
        if (to != address(0)) _requireCanMove(to);
        super._update(from, to, value);
    }

    function _requireCanMove(address account) private view {
        if (_frozen[account]) revert CollateralAccountFrozen(account);
        if (!isEligible(account)) revert CollateralNotEligible(account);
    }

    /// @dev Secure mint (Chainlink Proof-of-Reserve pattern): the feed reports the custodian's holdings in this
    ///      token's base units; supply may never exceed it.
    function _checkReserves(uint256 supplyAfter) private view {
        AggregatorV3Interface feed = _reserveFeed;
        if (address(feed) == address(0)) return;
        (, int256 answer, , uint256 updatedAt, ) = feed.latestRoundData();
        if (answer <= 0 || block.timestamp - updatedAt > _reserveMaxStaleness) {
            revert CollateralReservesUnavailable(answer, updatedAt);
        }
        // answer > 0 was checked just above, so the cast cannot wrap.
        uint256 reserves = uint256(answer);
        if (supplyAfter > reserves) revert CollateralMintExceedsReserves(supplyAfter, reserves);
    }
}
