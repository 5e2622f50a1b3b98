// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";
import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";
import {IKycRegistry} from "../identity/IKycRegistry.sol";
import {ICollateralToken, IFreezeListener} from "./ICollateralToken.sol";

/// @title CollateralToken
/// @notice Permissioned ERC-20 with ERC-2612 permit for one custodied asset. See ICollateralToken.
/// @dev Trust: the custodian is trusted to mint only against real deposits; secure mint bounds that trust by the
///      custodian's separately attested reserves when a reserve feed is set. Decimals are fixed at deployment.
///      Balances and supply are kept here, not in OpenZeppelin's ERC20 storage: a holder's balance shares one word
///      with its freeze and system flags, so that a transfer reads each side once (balance, freeze, KYC exemption).
contract CollateralToken is ICollateralToken, ERC20Permit, Pausable, AccessManaged {
    /// @dev Layout of a holder's word: balance (bits 0–247) | system account (bit 254) | frozen (bit 255).
    uint256 private constant _BALANCE_MASK = (1 << 248) - 1;
    uint256 private constant _SYSTEM = 1 << 254;
    uint256 private constant _FROZEN = 1 << 255;

    IKycRegistry private immutable _kyc;
    uint8 private immutable _decimals;

    mapping(address account => uint256 word) private _holders;
    uint256 private _supply;
    mapping(bytes32 depositRef => bool) private _minted;
    mapping(bytes32 payoutRef => bool) private _payoutUsed;

    /// @dev Told of every freeze change (the MarginEngine, whose `freezeChanged` never reverts).
    IFreezeListener private _freezeListener;
    AggregatorV3Interface private _reserveFeed;
    uint256 private _reserveMaxStaleness;
    /// @dev Set only inside forcedTransfer so that `_update` skips the sender's consent checks. Transient: it never
    ///      outlives the call that sets it.
    bool private transient _forcing;

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

    /// @inheritdoc ERC20
    function totalSupply() public view override(ERC20, IERC20) returns (uint256) {
        return _supply;
    }

    /// @inheritdoc ERC20
    function balanceOf(address account) public view override(ERC20, IERC20) returns (uint256) {
        return _holders[account] & _BALANCE_MASK;
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
        if (_holders[from] & _SYSTEM != 0) revert CollateralSystemAccountForced(from);
        _forcing = true;
        _transfer(from, to, amount);
        _forcing = false;
        emit ForcedTransfer(from, to, amount);
    }

    /// @inheritdoc ICollateralToken
    function setFrozen(address account, bool frozen) external restricted {
        if (account == address(0)) revert CollateralInvalidAccount(account);
        uint256 word = _holders[account];
        if ((word & _FROZEN != 0) == frozen) revert CollateralFreezeUnchanged(account, frozen);
        _holders[account] = frozen ? word | _FROZEN : word & ~_FROZEN;
        emit FreezeSet(account, frozen);
        IFreezeListener listener = _freezeListener;
        if (address(listener) != address(0)) listener.freezeChanged(account, frozen);
    }

    /// @inheritdoc ICollateralToken
    function setFreezeListener(address listener) external restricted {
        _freezeListener = IFreezeListener(listener);
        emit FreezeListenerSet(listener);
    }

    /// @inheritdoc ICollateralToken
    function freezeListener() external view returns (address) {
        return address(_freezeListener);
    }

    /// @inheritdoc ICollateralToken
    function setSystemAccount(address account, bool isSystem) external restricted {
        if (account == address(0)) revert CollateralInvalidAccount(account);
        uint256 word = _holders[account];
        _holders[account] = isSystem ? word | _SYSTEM : word & ~_SYSTEM;
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
        return _holders[account] & _SYSTEM != 0 || _kyc.isVerified(account);
    }

    /// @inheritdoc ICollateralToken
    function isFrozen(address account) external view returns (bool) {
        return _holders[account] & _FROZEN != 0;
    }

    /// @inheritdoc ICollateralToken
    function isSystemAccount(address account) external view returns (bool) {
        return _holders[account] & _SYSTEM != 0;
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
    ///      receiver's checks. Checks run in that order (pause, sender, receiver) before the balance check, as in
    ///      OpenZeppelin's ERC20, whose arithmetic and errors this keeps: a system account skips the KYC registry
    ///      call, every other holder is asked.
    function _update(address from, address to, uint256 value) internal override {
        bool forcing = _forcing;
        if (!forcing) _requireNotPaused();
        uint256 fromWord;
        uint256 toWord;
        if (from != address(0)) {
            fromWord = _holders[from];
            if (!forcing) _requireCanMove(from, fromWord);
        }
        if (to != address(0)) {
            toWord = _holders[to];
            _requireCanMove(to, toWord);
        }
        if (from == address(0)) {
            uint256 supply = _supply + value;
            if (supply > _BALANCE_MASK) revert CollateralSupplyOverflow(supply);
            _supply = supply;
        } else {
            uint256 balance = fromWord & _BALANCE_MASK;
            if (balance < value) revert ERC20InsufficientBalance(from, balance, value);
            // value ≤ balance: only the balance bits change.
            unchecked {
                fromWord -= value;
            }
            _holders[from] = fromWord;
            if (to == from) toWord = fromWord;
        }
        if (to == address(0)) {
            // value ≤ the sender's balance ≤ supply.
            unchecked {
                _supply -= value;
            }
        } else {
            // balance + value ≤ supply ≤ _BALANCE_MASK: the sum never reaches the flag bits.
            unchecked {
                _holders[to] = toWord + value;
            }
        }
        emit Transfer(from, to, value);
    }

    function _requireCanMove(address account, uint256 word) private view {
        if (word & _FROZEN != 0) revert CollateralAccountFrozen(account);
        if (word & _SYSTEM == 0 && !_kyc.isVerified(account)) revert CollateralNotEligible(account);
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
