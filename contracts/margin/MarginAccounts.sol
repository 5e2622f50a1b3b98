// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IKycRegistry} from "../identity/IKycRegistry.sol";
import {IOracleRouter} from "../oracle/IOracleRouter.sol";
import {ICapitalPool} from "../pool/ICapitalPool.sol";
import {IInsuranceFund} from "../pool/IInsuranceFund.sol";
import {IMarginEngine} from "./IMarginEngine.sol";
import {MarginLedger} from "./MarginLedger.sol";
import {MarginMath} from "./MarginMath.sol";
import {MarginStorage} from "./MarginStorage.sol";
import {MarginValuation} from "./MarginValuation.sol";
import {IPortfolioRisk} from "./IPortfolioRisk.sol";

/// @title MarginAccounts
/// @notice The MarginEngine's account-holder paths without a gas target of their own — withdraw, repay from margin
///         cash or from the wallet — and the insurance sweep, run in the engine's storage (msg.sender is the
///         engine's caller). Same order as the engine's own paths: validate and accrue → write and emit → check
///         margin on the new state → token and pool calls last.
/// @dev External library, linked into the engine and called by DELEGATECALL; the engine keeps the reentrancy guard.
library MarginAccounts {
    using SafeERC20 for IERC20;

    /// @notice Source tag of the insurance fund for the penalty share.
    bytes32 internal constant SOURCE_LIQUIDATION = "liquidation-penalty";

    /// @notice See IMarginEngine.withdraw.
    function withdraw(MarginStorage.Contracts calldata c, address asset, uint256 amount) external {
        if (amount == 0) revert IMarginEngine.MarginZeroAmount();
        MarginLedger.debit(c.cash, msg.sender, asset, amount);
        emit IMarginEngine.CollateralWithdrawn(msg.sender, asset, amount);
        if (MarginStorage.layout().accounts[msg.sender].scaledDebt > 0) {
            MarginStorage.Valuation memory v = _valuate(c, msg.sender, 0);
            MarginValuation.requireInitialMargin(msg.sender, v, IKycRegistry(c.kyc).maxLeverageOf(msg.sender));
            MarginValuation.refresh(msg.sender, v);
        }
        if (asset == c.cash) holdCash(c, amount);
        IERC20(asset).safeTransfer(msg.sender, amount);
    }

    /// @notice See IMarginEngine.repay and repayFromWallet: repays min(amount, debt) of the caller's debt from its
    ///         margin cash or, `fromWallet`, from its wallet.
    function repay(MarginStorage.Contracts calldata c, uint256 amount, bool fromWallet) external {
        if (amount == 0) revert IMarginEngine.MarginZeroAmount();
        MarginStorage.Account storage a = MarginStorage.layout().accounts[msg.sender];
        uint256 scaled = a.scaledDebt;
        if (scaled == 0) revert IMarginEngine.MarginNoDebt(msg.sender);
        // Accrues now: the pool's repay below then finds its accrual done.
        uint256 index = ICapitalPool(c.pool).accrue();
        uint256 debt = MarginMath.debtOf(scaled, index);
        uint256 pay = amount < debt ? amount : debt;
        uint256 retire = pay == debt ? scaled : MarginMath.scaledFor(pay, index);
        if (retire == 0) revert IMarginEngine.MarginZeroAmount();
        uint256 pulled = MarginMath.debtOf(retire, index);
        if (!fromWallet) MarginLedger.debit(c.cash, msg.sender, c.cash, pulled);
        // retire ≤ scaled: it is either scaled itself or floor(pay·RAY/index) with pay < debt.
        unchecked {
            a.scaledDebt = uint88(scaled - retire);
        }
        emit IMarginEngine.Repaid(msg.sender, pulled, retire, MarginMath.debtOf(scaled - retire, index));
        if (a.state != IMarginEngine.AccountState.Healthy) {
            MarginValuation.refresh(msg.sender, _valuate(c, msg.sender, index));
        }
        if (fromWallet) IERC20(c.cash).safeTransferFrom(msg.sender, address(this), pulled);
        ICapitalPool(c.pool).repay(retire);
    }

    /// @notice See IMarginEngine.setFixedTerm. The mode changes only without debt, so that nobody switches to
    ///         whichever margin is lower at the moment (dynamic in calm markets, fixed in a storm) with a loan open.
    function setFixedTerm(uint16 untilDay) external {
        MarginStorage.Account storage a = MarginStorage.layout().accounts[msg.sender];
        if (a.scaledDebt != 0) revert IMarginEngine.MarginModeChangeWithDebt(msg.sender);
        uint256 today = block.timestamp / 1 days;
        if (untilDay != 0 && (untilDay <= today || untilDay > today + MarginStorage.MAX_FIXED_TERM_DAYS)) {
            revert IMarginEngine.MarginInvalidFixedTerm(untilDay);
        }
        a.fixedUntilDay = untilDay;
        emit IMarginEngine.MarginModeSet(msg.sender, untilDay);
    }

    /// @notice See IMarginEngine.sweepInsurance.
    function sweepInsurance(MarginStorage.Contracts calldata c) external returns (uint256 amount) {
        MarginStorage.ParamsRecord storage p = MarginStorage.layout().params;
        amount = p.insuranceOwedPlusOne - 1;
        if (amount == 0) return 0;
        p.insuranceOwedPlusOne = 1;
        emit IMarginEngine.InsuranceSwept(amount);
        holdCash(c, amount);
        IInsuranceFund(c.insurance).receiveIncome(amount, SOURCE_LIQUIDATION);
    }

    /// @dev Makes sure the engine holds `amount` cash before paying it out, releasing the shortfall from its float in
    ///      the pool (docs/margin.md, "Custody of cash").
    function holdCash(MarginStorage.Contracts calldata c, uint256 amount) internal {
        uint256 held = IERC20(c.cash).balanceOf(address(this));
        if (held < amount) ICapitalPool(c.pool).release(amount - held, address(this));
    }

    /// @notice The engine's valuation of a portfolio-margined account (MarginValuation.valuateWithPortfolio), run here
    ///         so that the engine's own code keeps under EIP-170: empty when the portfolio-margin satellite is not set
    ///         or the account did not opt in (the engine keeps its own valuation, the rule's). ABI-encoded: a
    ///         library's ABI names its enums, which clients' ABI parsers refuse; the engine decodes it.
    function valuatePortfolio(
        MarginStorage.Contracts calldata c,
        address account,
        uint256 index
    ) external view returns (bytes memory) {
        address risk = MarginStorage.layout().portfolioRisk;
        if (risk == address(0) || !IPortfolioRisk(risk).portfolioMargined(account)) return "";
        return abi.encode(_valuate(c, account, index));
    }

    function _valuate(
        MarginStorage.Contracts calldata c,
        address account,
        uint256 index
    ) private view returns (MarginStorage.Valuation memory) {
        return MarginValuation.valuateWithPortfolio(IOracleRouter(c.oracle), ICapitalPool(c.pool), account, index);
    }
}
