// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {FixedPoint} from "../shared/FixedPoint.sol";
import {IKycRegistry} from "../identity/IKycRegistry.sol";
import {IOracleRouter} from "../oracle/IOracleRouter.sol";
import {ICapitalPool} from "../pool/ICapitalPool.sol";
import {IMarginEngine} from "./IMarginEngine.sol";
import {MarginLedger} from "./MarginLedger.sol";
import {MarginMath} from "./MarginMath.sol";
import {MarginStorage} from "./MarginStorage.sol";
import {MarginValuation} from "./MarginValuation.sol";
import {IPortfolioRisk} from "./IPortfolioRisk.sol";

/// @title MarginSettlement
/// @notice The SettlementHub's legs in the MarginEngine's storage: both legs of a trade, which parties must meet
///         initial margin afterwards (docs/security.md, rule 1), and that check.
/// @dev External library, linked into the engine and called by DELEGATECALL (access control stays in the engine).
library MarginSettlement {
    /// @dev settleTrade's answer: which party must meet initial margin after the batch.
    uint256 internal constant CHECK_BUYER = 1;
    uint256 internal constant CHECK_SELLER = 2;

    /// @notice See IMarginEngine.settleTrade.
    function settleTrade(
        MarginStorage.Contracts calldata c,
        address buyer,
        address seller,
        address asset,
        uint256 units,
        uint256 cashAmount
    ) external returns (uint256 checks) {
        if (units == 0 || cashAmount == 0) revert IMarginEngine.MarginZeroAmount();
        if (asset == c.cash) revert IMarginEngine.MarginAssetNotListed(asset);
        IKycRegistry kyc = IKycRegistry(c.kyc);
        if (!kyc.isVerified(buyer)) revert IMarginEngine.MarginNotVerified(buyer);
        if (!kyc.isVerified(seller)) revert IMarginEngine.MarginNotVerified(seller);
        MarginLedger.debit(c.cash, seller, asset, units);
        MarginLedger.credit(c.cash, buyer, asset, units);
        MarginLedger.debit(c.cash, buyer, c.cash, cashAmount);
        MarginLedger.credit(c.cash, seller, c.cash, cashAmount);
        emit IMarginEngine.TradeLegsSettled(buyer, seller, asset, units, cashAmount);
        // A buyer adds risk; a seller reduces it only when paid at least what the units counted for.
        MarginStorage.Layout storage $ = MarginStorage.layout();
        if ($.accounts[buyer].scaledDebt > 0) checks = CHECK_BUYER;
        // A portfolio-margined seller is always checked: under the grid, selling a hedge raises the requirement.
        if (
            $.accounts[seller].scaledDebt > 0 &&
            (!_saleKeepsEquity(c.oracle, asset, units, cashAmount) || _portfolioMargined($, seller))
        ) checks |= CHECK_SELLER;
    }

    /// @notice See IMarginEngine.checkInitialMargin.
    function checkInitialMargin(MarginStorage.Contracts calldata c, address account) external view returns (bool) {
        if (MarginStorage.layout().accounts[account].scaledDebt == 0) return true;
        MarginStorage.Valuation memory v = MarginValuation.valuateWithPortfolio(
            IOracleRouter(c.oracle),
            ICapitalPool(c.pool),
            account,
            0
        );
        return MarginValuation.meetsInitialMargin(v, IKycRegistry(c.kyc).maxLeverageOf(account));
    }

    /// @dev Whether the portfolio-margin satellite margins the account (docs/security.md, rule 22).
    function _portfolioMargined(MarginStorage.Layout storage $, address account) private view returns (bool) {
        address risk = $.portfolioRisk;
        return risk != address(0) && IPortfolioRisk(risk).portfolioMargined(account);
    }

    /// @dev Whether selling `units` of `asset` for `cashAmount` leaves the seller's equity and its shortfall to
    ///      maintenance no worse: the price is Safe and the cash is at least what the units counted for in equity,
    ///      ceil(ceil(units · price / scale) · (1 − haircut)). The units' maintenance requirement goes with them.
    function _saleKeepsEquity(
        address oracle,
        address asset,
        uint256 units,
        uint256 cashAmount
    ) private view returns (bool) {
        (uint256 price, IOracleRouter.PriceStatus status, ) = IOracleRouter(oracle).getPrice(asset);
        if (status != IOracleRouter.PriceStatus.Safe) return false;
        MarginStorage.AssetRecord storage cfg = MarginStorage.layout().assets[asset];
        uint256 value = Math.mulDiv(units, price, uint256(10) ** cfg.scaleExp, Math.Rounding.Ceil);
        return cashAmount >= MarginMath.mulUp(value, FixedPoint.WAD - cfg.haircut);
    }
}
