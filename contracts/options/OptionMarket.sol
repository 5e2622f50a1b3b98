// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";
import {IMarginEngine} from "../margin/IMarginEngine.sol";
import {IOracleRouter} from "../oracle/IOracleRouter.sol";
import {IOptionMarket} from "./IOptionMarket.sol";
import {OptionToken} from "./OptionToken.sol";
import {OptionPriceFeed} from "./OptionPriceFeed.sol";

/// @title OptionMarket
/// @notice See IOptionMarket. The market is a KYC-verified margin account of the engine (it holds every series'
///         locked collateral there) with the SETTLER role (it moves balances between margin accounts); every amount
///         it pays out it holds, per series, by construction: locked = lockPerContract × openInterest, and at the
///         fix holders are owed payPerContract and writers lockPerContract − payPerContract per contract.
/// @dev Trust: the engine and the router are trusted system contracts; the underlying's primary feed (the reporters'
///      median) fixes the settlement price and the volatility feed prices the contracts before expiry.
contract OptionMarket is IOptionMarket, AccessManaged, ReentrancyGuardTransient {
    /// @notice The shortest and longest time from listing to expiry.
    uint256 public constant MIN_LIFE = 1 hours;
    uint256 public constant MAX_LIFE = 3 * 365 days;
    /// @notice The fixing window's bounds, seconds.
    uint32 public constant MIN_FIXING_WINDOW = 60;
    uint32 public constant MAX_FIXING_WINDOW = 1 days;
    /// @notice Largest contract size (shares per contract) and strike (wad).
    uint32 public constant MAX_CONTRACT_SIZE = 1_000_000;
    uint256 public constant MAX_STRIKE = 1e30;
    uint256 public constant MAX_RATE = 1e18;

    IMarginEngine private immutable _engine;
    IOracleRouter private immutable _oracle;
    address private immutable _cash;
    uint256 private immutable _cashUnit;

    mapping(address series => Series) private _series;
    mapping(address series => Fixing) private _fixing;
    mapping(address series => mapping(address writer => uint256)) private _written;
    address[] private _list;

    /// @param engine the MarginEngine (the market needs SETTLER and a verified identity)
    /// @param oracle the OracleRouter (its primary feed of an underlying fixes and prices the series)
    /// @param cash the engine's cash token
    /// @param authority the AccessManager (listSeries: RISK_OFFICER)
    constructor(IMarginEngine engine, IOracleRouter oracle, address cash, address authority) AccessManaged(authority) {
        _engine = engine;
        _oracle = oracle;
        _cash = cash;
        _cashUnit = 10 ** IERC20Metadata(cash).decimals();
    }

    // ───────────────────────────── risk officer ─────────────────────────────

    /// @inheritdoc IOptionMarket
    function listSeries(
        Terms calldata t,
        string calldata name,
        string calldata symbol
    ) external restricted returns (address) {
        address primary = _checkTerms(t);
        address s = address(new OptionToken(name, symbol, address(_engine)));
        address feed = address(
            new OptionPriceFeed(
                s,
                AggregatorV3Interface(primary),
                AggregatorV3Interface(t.volatilityFeed),
                t.isCall,
                t.strike,
                t.expiry,
                t.contractSize,
                t.rate
            )
        );
        Series storage x = _series[s];
        x.underlying = t.underlying;
        x.feed = feed;
        x.isCall = t.isCall;
        x.expiry = t.expiry;
        x.fixingWindow = t.fixingWindow;
        x.contractSize = t.contractSize;
        x.strike = t.strike;
        x.rate = t.rate;
        // a put locks its largest payoff in cash (rounded up); a covered call its shares
        x.lockPerContract =
            t.isCall
                ? uint256(t.contractSize) * 10 ** IERC20Metadata(t.underlying).decimals()
                : Math.mulDiv(t.strike * t.contractSize, _cashUnit, 1e18, Math.Rounding.Ceil);
        _list.push(s);
        emit SeriesListed(s, t.underlying, feed, t);
        // the market deposits new contracts into the engine for its writers
        IERC20(s).approve(address(_engine), type(uint256).max);
        return s;
    }

    // ───────────────────────────── writers ─────────────────────────────

    /// @inheritdoc IOptionMarket
    function write(address s, uint256 contracts) external nonReentrant {
        Series storage x = _known(s);
        if (contracts == 0) revert OptionZeroAmount();
        if (block.timestamp >= x.expiry) revert OptionExpired(s, x.expiry);
        uint256 lock = x.lockPerContract * contracts;
        x.openInterest += contracts;
        _written[s][msg.sender] += contracts;
        emit Written(s, msg.sender, contracts, lock);
        // the collateral first: an indebted writer must meet initial margin without it (the engine checks)
        _engine.transferBetweenAccounts(msg.sender, address(this), _lockedAsset(x), lock);
        OptionToken(s).mint(address(this), contracts);
        _engine.deposit(s, contracts);
        _engine.transferBetweenAccounts(address(this), msg.sender, s, contracts);
        // and with them: contracts add their value to the writer's exposure and their margin to its requirement,
        // which may ask more than their haircut value gives (the adversarial walk found a writer left below)
        if (!_engine.checkInitialMargin(msg.sender)) revert OptionMarginRefused(msg.sender);
    }

    /// @inheritdoc IOptionMarket
    function unwrite(address s, uint256 contracts) external nonReentrant {
        Series storage x = _known(s);
        if (contracts == 0) revert OptionZeroAmount();
        if (block.timestamp >= x.expiry) revert OptionExpired(s, x.expiry);
        uint256 w = _written[s][msg.sender];
        if (w < contracts) revert OptionNotWritten(s, msg.sender, w, contracts);
        uint256 lock = x.lockPerContract * contracts;
        _written[s][msg.sender] = w - contracts;
        x.openInterest -= contracts;
        emit Unwritten(s, msg.sender, contracts, lock);
        _takeBack(x, s, msg.sender, contracts, lock);
        _retire(s, contracts);
    }

    // ───────────────────────────── the fix ─────────────────────────────

    /// @inheritdoc IOptionMarket
    function fix(address s, uint80 startRound, uint256 maxRounds) external nonReentrant {
        Series storage x = _known(s);
        if (x.fixed_) revert OptionAlreadyFixed(s);
        uint64 end = x.expiry + x.fixingWindow;
        if (block.timestamp < end) revert OptionNotExpired(s, end);
        AggregatorV3Interface feed = AggregatorV3Interface(_oracle.assetParams(x.underlying).primary);
        (uint80 latest, , , , ) = feed.latestRoundData();
        uint8 decimals = feed.decimals();
        Fixing memory f = _fixing[s];
        if (f.round == 0) {
            // the round standing at expiry: updated at or before it, and the next one (if any) after it
            (uint256 price, uint256 at) = _roundPrice(feed, decimals, startRound);
            if (at > x.expiry) revert OptionWrongFixingRound(startRound);
            if (startRound < latest) {
                (, uint256 nextAt) = _roundPrice(feed, decimals, startRound + 1);
                if (nextAt <= x.expiry) revert OptionWrongFixingRound(startRound);
            }
            f = Fixing({round: startRound, cursor: x.expiry, price: price, accumulated: 0});
        }
        for (uint256 i; i < maxRounds; ++i) {
            uint256 until = end;
            uint256 nextPrice;
            if (f.round < latest) {
                uint256 nextAt;
                (nextPrice, nextAt) = _roundPrice(feed, decimals, f.round + 1);
                if (nextAt < end) until = nextAt;
            }
            if (until > f.cursor) f.accumulated += f.price * (until - f.cursor);
            if (until == end) {
                f.cursor = end;
                _fixing[s] = f;
                _settle(x, s, f.accumulated / x.fixingWindow);
                return;
            }
            if (until > f.cursor) f.cursor = uint64(until);
            f.round += 1;
            f.price = nextPrice;
        }
        _fixing[s] = f;
        emit FixingAdvanced(s, f.round, f.cursor);
    }

    /// @inheritdoc IOptionMarket
    function exercise(address s, address[] calldata holders) external nonReentrant {
        Series storage x = _known(s);
        if (!x.fixed_) revert OptionNotFixed(s);
        uint256 retired;
        for (uint256 i; i < holders.length; ++i) {
            address h = holders[i];
            uint256 units = h == address(this) ? 0 : _engine.balanceOf(h, s);
            if (units == 0) continue;
            try this.settleHolder(s, h, units) returns (uint256 paid) {
                retired += units;
                emit Exercised(s, h, units, paid);
            } catch (bytes memory reason) {
                emit ExerciseSkipped(s, h, reason);
            }
        }
        if (retired > 0) _retire(s, retired);
    }

    /// @inheritdoc IOptionMarket
    function release(address s, address[] calldata writers) external nonReentrant {
        Series storage x = _known(s);
        if (!x.fixed_) revert OptionNotFixed(s);
        uint256 back = x.lockPerContract - x.payPerContract;
        for (uint256 i; i < writers.length; ++i) {
            address w = writers[i];
            uint256 contracts = _written[s][w];
            if (contracts == 0) continue;
            _written[s][w] = 0;
            if (back == 0) {
                emit Released(s, w, contracts, 0);
                continue;
            }
            try this.pay(_lockedAsset(x), w, back * contracts) {
                emit Released(s, w, contracts, back * contracts);
            } catch (bytes memory reason) {
                _written[s][w] = contracts;
                emit ReleaseSkipped(s, w, reason);
            }
        }
    }

    /// @notice One holder's settlement (the market's own call, so that a refusal skips only this holder).
    function settleHolder(address s, address holder, uint256 units) external returns (uint256 paid) {
        if (msg.sender != address(this)) revert OptionOnlySelf();
        Series storage x = _series[s];
        paid = x.payPerContract * units;
        _takeBack(x, s, holder, units, paid);
    }

    /// @notice A payment out of the market's margin account (the market's own call, see settleHolder).
    function pay(address asset, address to, uint256 amount) external {
        if (msg.sender != address(this)) revert OptionOnlySelf();
        _engine.transferBetweenAccounts(address(this), to, asset, amount);
    }

    // ───────────────────────────── views ─────────────────────────────

    function series(address s) external view returns (Series memory) {
        return _known(s);
    }

    function fixing(address s) external view returns (Fixing memory) {
        return _fixing[s];
    }

    function written(address s, address writer) external view returns (uint256) {
        return _written[s][writer];
    }

    function allSeries() external view returns (address[] memory) {
        return _list;
    }

    /// @inheritdoc IOptionMarket
    function fixedValue(address s) external view returns (bool, uint256) {
        Series storage x = _series[s];
        if (!x.fixed_) return (false, 0);
        if (!x.isCall) return (true, Math.mulDiv(x.payPerContract, 1e18, _cashUnit));
        uint256 k = x.strike;
        uint256 p = x.settlementPrice;
        return (true, p > k ? (p - k) * x.contractSize : 0);
    }

    // ───────────────────────────── internal ─────────────────────────────

    /// @dev The terms within bounds and the underlying listed in the engine and priced by the router; its primary feed.
    function _checkTerms(Terms calldata t) private view returns (address primary) {
        if (
            t.strike == 0 ||
            t.strike > MAX_STRIKE ||
            t.contractSize == 0 ||
            t.contractSize > MAX_CONTRACT_SIZE ||
            t.fixingWindow < MIN_FIXING_WINDOW ||
            t.fixingWindow > MAX_FIXING_WINDOW ||
            t.expiry < block.timestamp + MIN_LIFE ||
            t.expiry > block.timestamp + MAX_LIFE ||
            t.rate > MAX_RATE ||
            t.volatilityFeed == address(0)
        ) revert OptionInvalidSeries();
        primary = _oracle.assetParams(t.underlying).primary;
        if (!_engine.assetConfig(t.underlying).listed || primary == address(0)) {
            revert OptionUnderlyingNotListed(t.underlying);
        }
    }

    function _known(address s) private view returns (Series storage x) {
        x = _series[s];
        if (x.feed == address(0)) revert OptionUnknownSeries(s);
    }

    function _lockedAsset(Series storage x) private view returns (address) {
        return x.isCall ? x.underlying : _cash;
    }

    /// @dev `units` contracts from `from`'s margin account back to the market against `amount` of the locked asset.
    ///      A put's cash goes as the price of a sale (a fair sale settles whatever the seller's margin); otherwise (a
    ///      call's shares, or nothing for a worthless contract) the asset goes across and the contracts follow, and
    ///      the engine requires an indebted account to meet initial margin after giving them.
    function _takeBack(Series storage x, address s, address from, uint256 units, uint256 amount) private {
        if (!x.isCall && amount > 0) {
            uint256 checks = _engine.settleTrade(address(this), from, s, units, amount);
            if (checks & 2 != 0 && !_engine.checkInitialMargin(from)) revert OptionMarginRefused(from);
            return;
        }
        if (amount > 0) _engine.transferBetweenAccounts(address(this), from, x.underlying, amount);
        _engine.transferBetweenAccounts(from, address(this), s, units);
    }

    /// @dev Contracts back in the market's margin account leave the engine and are burned.
    function _retire(address s, uint256 units) private {
        _engine.withdraw(s, units);
        OptionToken(s).burn(units);
    }

    function _settle(Series storage x, address s, uint256 price) private {
        uint256 k = x.strike;
        uint256 payout;
        if (x.isCall) {
            // the underlying's units worth (S − K)⁺ × size at S, floored
            if (price > k) payout = Math.mulDiv(x.lockPerContract, price - k, price);
        } else if (k > price) {
            payout = Math.mulDiv((k - price) * x.contractSize, _cashUnit, 1e18);
        }
        // never more than the collateral of a contract (a put's payoff ≤ K × size ≤ its ceiled lock)
        if (payout > x.lockPerContract) payout = x.lockPerContract;
        x.settlementPrice = price;
        x.payPerContract = payout;
        x.fixed_ = true;
        emit Fixed(s, price, payout);
    }

    function _roundPrice(
        AggregatorV3Interface feed,
        uint8 decimals,
        uint80 id
    ) private view returns (uint256 price, uint256 at) {
        int256 answer;
        (, answer, , at, ) = feed.getRoundData(id);
        if (answer <= 0) revert OptionBadFixingPrice(id, answer);
        price = decimals <= 18 ? uint256(answer) * 10 ** (18 - decimals) : uint256(answer) / 10 ** (decimals - 18);
    }
}
