// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IInsuranceFund} from "./IInsuranceFund.sol";

/// @title InsuranceFund
/// @notice See IInsuranceFund. Trust: only the INSURANCE_CLAIMANT role (the MarginEngine) can take money out, and
///         only to cover recorded bad debt; nobody else can withdraw.
contract InsuranceFund is IInsuranceFund, AccessManaged, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Source tag of the capital pool's reserve factor of interest.
    bytes32 public constant SOURCE_RESERVE_FACTOR = "reserve-factor";
    /// @notice Source tag of the insurance share of liquidation penalties.
    bytes32 public constant SOURCE_LIQUIDATION = "liquidation-penalty";
    /// @notice Source tag of voluntary top-ups (e.g. the platform recapitalising the fund).
    bytes32 public constant SOURCE_DONATION = "donation";

    IERC20 private immutable _cash;
    mapping(bytes32 source => uint256) private _received;
    uint256 private _covered;
    uint256 private _claims;

    /// @param cash the cash token (must be registered as a system account of it)
    /// @param authority the AccessManager
    constructor(IERC20 cash, address authority) AccessManaged(authority) {
        _cash = cash;
    }

    /// @inheritdoc IInsuranceFund
    function receiveIncome(uint256 amount, bytes32 source) external nonReentrant {
        if (amount == 0) revert InsuranceZeroAmount();
        _received[source] += amount;
        _cash.safeTransferFrom(msg.sender, address(this), amount);
        emit IncomeReceived(msg.sender, source, amount, _cash.balanceOf(address(this)));
    }

    /// @inheritdoc IInsuranceFund
    function coverBadDebt(
        address account,
        uint256 amount,
        address payee
    ) external restricted nonReentrant returns (uint256 paid) {
        if (amount == 0) revert InsuranceZeroAmount();
        if (payee == address(0)) revert InsuranceInvalidPayee(payee);
        uint256 held = _cash.balanceOf(address(this));
        paid = amount < held ? amount : held;
        if (paid > 0) {
            _covered += paid;
            _claims += 1;
            _cash.safeTransfer(payee, paid);
        }
        emit BadDebtCovered(msg.sender, account, payee, amount, paid, held - paid);
    }

    /// @inheritdoc IInsuranceFund
    function asset() external view returns (address) {
        return address(_cash);
    }

    /// @inheritdoc IInsuranceFund
    function balance() external view returns (uint256) {
        return _cash.balanceOf(address(this));
    }

    /// @inheritdoc IInsuranceFund
    function totalReceived(bytes32 source) external view returns (uint256) {
        return _received[source];
    }

    /// @inheritdoc IInsuranceFund
    function totalCovered() external view returns (uint256 amount, uint256 claims) {
        return (_covered, _claims);
    }
}
