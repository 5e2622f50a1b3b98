// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IKycRegistry} from "../identity/IKycRegistry.sol";
import {IMarginEngine} from "../margin/IMarginEngine.sol";
import {IPortfolioRisk} from "../margin/IPortfolioRisk.sol";
import {IOracleRouter} from "../oracle/IOracleRouter.sol";
import {IOptionMarket} from "./IOptionMarket.sol";
import {OptionMath} from "./OptionMath.sol";
import {OptionPriceFeed} from "./OptionPriceFeed.sol";
import {PortfolioMargin} from "./PortfolioMargin.sol";

/// @title PortfolioRisk
/// @notice The engine's portfolio-margin satellite (see IPortfolioRisk). A group is one underlying: the account's
///         whole shares of it and the unfixed option series it holds on it (at most PortfolioMargin.MAX_LEGS).
///         Group requirement R (cash base units, rounded up) = the grid's requirement of (whole shares, legs) at the
///         underlying's router price, the series' implied volatility and model rate, the scan range being the
///         underlying's own maintenance ratio, plus the rule's maintenance of the fraction of a share the grid does
///         not see. Every position of the group is then margined at one rate r = ⌈R / group value⌉ (≤ 100 %), so the
///         engine's sums give at least R; its initial rate adds the rule's own initial buffer of the group,
///         ⌈(R + Σ initial − Σ maintenance) / group value⌉. Positions outside a group keep the rule's ratios.
///         Liquidation rank: the loss per unit of value each position takes in its group's worst scenario (a
///         position outside a group: its maintenance ratio, the rule's stress), 2 + ⌊253 · ratio⌋ capped at 255,
///         and 1 for a hedge (no loss in that scenario): the engine sells the highest rank first, so a protective
///         put is sold only after the shares it protects.
/// @dev View-only for the engine; never reverts for a group's state (IPortfolioRisk.margins). Writers in this market
///      are fully collateralised, so no margin account holds a written (short) leg and the short-option minimum is
///      zero here; the library keeps it for the general case.
contract PortfolioRisk is IPortfolioRisk, AccessManaged {
    uint256 private constant _WAD = 1e18;
    /// @dev Ranks 2–255 scale the loss ratio; 1 is a hedge.
    uint256 private constant _RANK_STEPS = 253;

    IMarginEngine private immutable _engine;
    IOptionMarket private immutable _market;
    IOracleRouter private immutable _oracle;
    IKycRegistry private immutable _kyc;
    /// @dev 10**(18 − cash decimals): wad money per cash base unit.
    uint256 private immutable _wadPerCashUnit;

    Grid private _grid;
    mapping(address account => bool) private _enrolled;

    /// @dev One group being valued (memory only).
    struct Group {
        address underlying;
        uint256 underlyingIndex; // index in the holdings + 1 (0: not held)
        uint256[] members; // holdings indexes of the legs
        PortfolioMargin.OptionLeg[] legs; // the members' series terms and contracts, in the members' order
        uint256 count;
        address feed; // the first member's price feed (its implied volatility) and model rate
        uint256 rate;
    }

    /// @dev A group's scan inputs (memory only).
    struct Scan {
        PortfolioMargin.Market market;
        PortfolioMargin.RiskParameters params;
        PortfolioMargin.OptionLeg[] legs;
    }

    /// @param engine the MarginEngine (its cash, oracle and KYC registry are read from it)
    /// @param market the OptionMarket whose series this satellite values
    /// @param authority the AccessManager (setGrid is the risk officer's)
    /// @param initialGrid the grid's parameters
    constructor(
        IMarginEngine engine,
        IOptionMarket market,
        address authority,
        Grid memory initialGrid
    ) AccessManaged(authority) {
        _engine = engine;
        _market = market;
        (address cash, , , address oracle, address kyc) = engine.contracts();
        _oracle = IOracleRouter(oracle);
        _kyc = IKycRegistry(kyc);
        _wadPerCashUnit = 10 ** (18 - IERC20Metadata(cash).decimals());
        _setGrid(initialGrid);
    }

    // ───────────────────────────── accounts ─────────────────────────────

    /// @inheritdoc IPortfolioRisk
    function setPortfolioMargin(bool enrolled) external {
        if (_enrolled[msg.sender] == enrolled) revert PortfolioUnchanged(msg.sender, enrolled);
        if (!_kyc.isVerified(msg.sender)) revert PortfolioNotVerified(msg.sender);
        _enrolled[msg.sender] = enrolled;
        emit PortfolioMarginSet(msg.sender, enrolled);
        // The engine records the account's state under the model it now has; with debt it must meet initial margin.
        _engine.poke(msg.sender);
        if (!_engine.checkInitialMargin(msg.sender)) revert PortfolioInitialMarginBreached(msg.sender);
    }

    /// @inheritdoc IPortfolioRisk
    function portfolioMargined(address account) external view returns (bool) {
        return _enrolled[account];
    }

    // ───────────────────────────── risk officer ─────────────────────────────

    /// @inheritdoc IPortfolioRisk
    function setGrid(Grid calldata g) external restricted {
        _setGrid(g);
    }

    /// @inheritdoc IPortfolioRisk
    function grid() external view returns (Grid memory) {
        return _grid;
    }

    // ───────────────────────────── the engine ─────────────────────────────

    /// @inheritdoc IPortfolioRisk
    function isOptionSeries(address asset) public view returns (bool) {
        // the market's own record (one lookup, however many series were ever listed); unknown: OptionUnknownSeries
        try _market.series(asset) returns (IOptionMarket.Series memory s) {
            return s.underlying != address(0);
        } catch {
            return false;
        }
    }

    /// @inheritdoc IPortfolioRisk
    function margins(
        address account,
        Holding[] calldata holdings
    ) external view returns (bool applied, Margin[] memory m) {
        if (!_enrolled[account]) return (false, m);
        uint256 n = holdings.length;
        m = new Margin[](n);
        for (uint256 i; i < n; ++i) {
            m[i] = Margin(holdings[i].maintenance, holdings[i].initial, _rank(holdings[i].maintenance));
        }
        Group[] memory groups = _groups(holdings);
        for (uint256 g; g < groups.length && groups[g].underlying != address(0); ++g) {
            _applyGroup(holdings, groups[g], m);
        }
        return (true, m);
    }

    // ───────────────────────────── internals ─────────────────────────────

    function _setGrid(Grid memory g) private {
        if (
            g.volatilityShift >= _WAD ||
            g.extremeMultiple == 0 ||
            g.extremeFraction > _WAD ||
            g.shortOptionMinimum > _WAD ||
            g.lookAhead > 7 days
        ) revert PortfolioInvalidGrid();
        _grid = g;
        emit GridSet(g);
    }

    /// @dev The groups: one per underlying of the unfixed series held, with their legs (each series read once).
    function _groups(Holding[] calldata holdings) private view returns (Group[] memory groups) {
        uint256 n = holdings.length;
        groups = new Group[](n);
        uint256 count;
        for (uint256 i; i < n; ++i) {
            if (!holdings[i].option || holdings[i].balance == 0) continue;
            IOptionMarket.Series memory s = _market.series(holdings[i].asset);
            if (s.fixed_) continue;
            uint256 g;
            while (g < count && groups[g].underlying != s.underlying) ++g;
            if (g == count) {
                groups[g].underlying = s.underlying;
                groups[g].members = new uint256[](n);
                groups[g].legs = new PortfolioMargin.OptionLeg[](n);
                (groups[g].feed, groups[g].rate) = (s.feed, s.rate);
                for (uint256 j; j < n; ++j) {
                    if (holdings[j].asset == s.underlying) groups[g].underlyingIndex = j + 1;
                }
                ++count;
            }
            // the contracts as a signed quantity (_applyGroup refuses the group beyond MAX_QUANTITY before using it)
            groups[g].legs[groups[g].count] = PortfolioMargin.OptionLeg(
                s.isCall,
                s.strike,
                s.expiry,
                int256(holdings[i].balance),
                s.contractSize
            );
            groups[g].members[groups[g].count++] = i;
        }
    }

    /// @dev Values one group over the grid and writes its members' margins and ranks; a group it cannot value keeps
    ///      the rule's.
    function _applyGroup(Holding[] calldata holdings, Group memory group, Margin[] memory m) private view {
        if (group.count > PortfolioMargin.MAX_LEGS) return;
        // every member priced (the engine counts an unpriced one at zero: the group keeps the rule)
        for (uint256 k; k < group.count; ++k) {
            Holding calldata h = holdings[group.members[k]];
            if (h.price == 0 || h.balance > PortfolioMargin.MAX_QUANTITY) return;
        }
        Scan memory scan;
        uint256 units;
        uint256 req;
        {
            bool ok;
            uint256 priceRange;
            (ok, scan.market, priceRange, units, req) = _groupMarket(holdings, group);
            if (!ok) return;
            scan.params = _params(priceRange);
        }
        scan.legs = new PortfolioMargin.OptionLeg[](group.count);
        uint256[3] memory rule; // the group's value, the rule's maintenance and initial
        for (uint256 k; k < group.count; ++k) {
            scan.legs[k] = group.legs[k];
            _addRule(holdings[group.members[k]], rule);
        }
        if (group.underlyingIndex != 0) _addRule(holdings[group.underlyingIndex - 1], rule);
        if (rule[0] == 0) return;
        (uint256 wad, uint256 worst, ) = PortfolioMargin.requirement(
            int256(units),
            scan.legs,
            scan.market,
            scan.params
        );
        req += Math.ceilDiv(wad, _wadPerCashUnit);
        Margin memory groupMargin = Margin(
            Math.min(_WAD, Math.mulDiv(req, _WAD, rule[0], Math.Rounding.Ceil)),
            Math.min(_WAD, Math.mulDiv(req + rule[2] - rule[1], _WAD, rule[0], Math.Rounding.Ceil)),
            0
        );
        _rankGroup(group, scan, worst, groupMargin, m);
    }

    /// @dev The group's margins and each member's rank from its loss per unit of value in the worst scenario.
    function _rankGroup(
        Group memory group,
        Scan memory scan,
        uint256 worst,
        Margin memory groupMargin,
        Margin[] memory m
    ) private pure {
        (uint256 worstSpot, uint256 worstVolatility) = PortfolioMargin.scenarioMarket(worst, scan.market, scan.params);
        for (uint256 k; k < group.count; ++k) {
            uint256 valueNow = _legPrice(scan.legs[k], scan.market.spot, scan.market.volatility, scan.market, 0);
            uint256 valueThen = _legPrice(scan.legs[k], worstSpot, worstVolatility, scan.market, scan.params.lookAhead);
            m[group.members[k]] = Margin(groupMargin.maintenance, groupMargin.initial, _lossRank(valueNow, valueThen));
        }
        if (group.underlyingIndex != 0) {
            m[group.underlyingIndex - 1] = Margin(
                groupMargin.maintenance,
                groupMargin.initial,
                _lossRank(scan.market.spot, worstSpot)
            );
        }
    }

    /// @dev The group's market (spot, the series' implied volatility and rate, now), its scan range (the underlying's
    ///      maintenance ratio), its whole shares and the rule's maintenance of the fraction of a share beyond them.
    ///      ok false when the grid cannot value it: the underlying unpriced, a range or volatility the grid refuses.
    function _groupMarket(
        Holding[] calldata holdings,
        Group memory group
    )
        private
        view
        returns (bool ok, PortfolioMargin.Market memory market, uint256 priceRange, uint256 units, uint256 remainderReq)
    {
        if (group.underlyingIndex != 0) {
            Holding calldata u = holdings[group.underlyingIndex - 1];
            market.spot = u.price;
            priceRange = u.maintenance;
            uint256 one = 10 ** IERC20Metadata(u.asset).decimals();
            units = u.balance / one;
            // the fraction of a share the grid does not see: the rule's maintenance, value and requirement rounded up
            // (the engine's value scale is one share · wad per cash unit)
            uint256 remainderValue = Math.mulDiv(u.balance % one, u.price, one * _wadPerCashUnit, Math.Rounding.Ceil);
            remainderReq = Math.mulDiv(remainderValue, u.maintenance, _WAD, Math.Rounding.Ceil);
        } else {
            (uint256 price, IOracleRouter.PriceStatus status, ) = _oracle.getPrice(group.underlying);
            if (status != IOracleRouter.PriceStatus.Safe && status != IOracleRouter.PriceStatus.Closed) {
                return (false, market, 0, 0, 0);
            }
            market.spot = price;
            (priceRange, , ) = _engine.assetMargins(group.underlying);
        }
        // a volatility feed that cannot answer leaves the group to the rule (its series are unpriced as well)
        try OptionPriceFeed(group.feed).latestVolatility() returns (uint256 sigma, uint256) {
            market.volatility = sigma;
        } catch {
            return (false, market, 0, 0, 0);
        }
        market.rate = group.rate;
        market.timestamp = block.timestamp;
        Grid memory g = _grid;
        ok =
            market.spot != 0 &&
            market.spot <= PortfolioMargin.MAX_SPOT &&
            units <= PortfolioMargin.MAX_QUANTITY &&
            priceRange < _WAD &&
            Math.mulDiv(priceRange, g.extremeMultiple, _WAD) < _WAD &&
            Math.mulDiv(market.volatility, _WAD + g.volatilityShift, _WAD) <= OptionMath.MAX_VOLATILITY &&
            market.rate <= OptionMath.MAX_RATE;
    }

    function _params(uint256 priceRange) private view returns (PortfolioMargin.RiskParameters memory) {
        Grid memory g = _grid;
        return
            PortfolioMargin.RiskParameters(
                priceRange,
                g.volatilityShift,
                g.extremeMultiple,
                g.extremeFraction,
                g.shortOptionMinimum,
                g.lookAhead
            );
    }

    /// @dev The rule's figures of one holding added to the group's: value, ⌈value · maintenance⌉, ⌈value · initial⌉.
    function _addRule(Holding calldata h, uint256[3] memory rule) private pure {
        rule[0] += h.value;
        rule[1] += Math.mulDiv(h.value, h.maintenance, _WAD, Math.Rounding.Ceil);
        rule[2] += Math.mulDiv(h.value, h.initial, _WAD, Math.Rounding.Ceil);
    }

    /// @dev One contract's model value (wad money) at a spot and volatility, `lookAhead` seconds later.
    function _legPrice(
        PortfolioMargin.OptionLeg memory leg,
        uint256 spot,
        uint256 volatility,
        PortfolioMargin.Market memory market,
        uint256 lookAhead
    ) private pure returns (uint256) {
        return PortfolioMargin.legUnitPrice(leg, spot, volatility, market, lookAhead) * leg.contractSize;
    }

    /// @dev Rank from the value of one unit now and in the worst scenario: 1 when it does not lose, else
    ///      2 + ⌊253 · loss / value⌋ (at most 255).
    function _lossRank(uint256 valueNow, uint256 valueThen) private pure returns (uint8) {
        if (valueThen >= valueNow) return 1;
        return _rank(Math.mulDiv(valueNow - valueThen, _WAD, valueNow));
    }

    /// @dev 2 + ⌊253 · ratio⌋, the ratio (a loss per unit of value, or a maintenance ratio: the rule's stress) capped
    ///      at 1.
    function _rank(uint256 ratio) private pure returns (uint8) {
        return uint8(2 + (Math.min(ratio, _WAD) * _RANK_STEPS) / _WAD);
    }
}
