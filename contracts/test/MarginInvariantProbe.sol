// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IMarginEngine} from "../margin/IMarginEngine.sol";
import {ICapitalPool} from "../pool/ICapitalPool.sol";
import {IInsuranceFund} from "../pool/IInsuranceFund.sol";

/// @title MarginInvariantProbe
/// @notice TEST ONLY (never deployed): reads, in one call, everything the margin property test asserts after every
///         step, so that thousands of steps stay fast.
contract MarginInvariantProbe {
    struct Report {
        /// per token: engine's token balance == Σ internal balances of the listed accounts
        bool engineBacked;
        /// per token: Σ balances of the listed holders + engine + pool + fund == totalSupply
        bool supplyConserved;
        /// Σ accounts' scaled debt == pool.totalScaledDebt()
        bool poolDebtMatches;
        /// pool.totalAssets() == cash + totalDebt − reservesOwed
        bool poolIdentity;
        /// keccak of every time-independent balance, debt, recorded state and pool/fund figure
        bytes32 digest;
        /// wallet balances outside the system, [holder][token] flattened
        uint256[] wallets;
        /// engine-internal balances, [holder][token] flattened
        uint256[] internalBalances;
        /// recorded account states, per holder
        uint8[] states;
    }

    struct Context {
        IMarginEngine engine;
        ICapitalPool pool;
        IInsuranceFund fund;
    }

    function check(
        IMarginEngine engine,
        ICapitalPool pool,
        IInsuranceFund fund,
        address[] calldata holders,
        address[] calldata tokens
    ) external view returns (Report memory r) {
        Context memory c = Context(engine, pool, fund);
        r.engineBacked = true;
        r.supplyConserved = true;
        r.wallets = new uint256[](holders.length * tokens.length);
        r.internalBalances = new uint256[](holders.length * tokens.length);
        r.states = new uint8[](holders.length);
        bytes32 digest;
        for (uint256 t; t < tokens.length; ++t) digest = _token(c, r, holders, tokens, t, digest);
        uint256 scaledSum;
        for (uint256 h; h < holders.length; ++h) {
            (, uint256 scaled) = engine.debtOf(holders[h]);
            (IMarginEngine.AccountState state, uint64 deadline) = _recorded(engine, holders[h]);
            scaledSum += scaled;
            r.states[h] = uint8(state);
            digest = keccak256(abi.encode(digest, scaled, state, deadline));
        }
        r.poolDebtMatches = scaledSum == pool.totalScaledDebt();
        // The pool's token balance is its own cash, the engine's float (lent cash it keeps until released) and the
        // cash of served redemptions not yet claimed.
        uint256 gross =
            IERC20(pool.asset()).balanceOf(address(pool)) - pool.floatHeld() - pool.claimableCash() + pool.totalDebt();
        uint256 owed = pool.reservesOwed();
        r.poolIdentity =
            pool.totalAssets() == (gross > owed ? gross - owed : 0) &&
            pool.totalAssets() == pool.trancheAssets(0) + pool.trancheAssets(1);
        digest = keccak256(abi.encode(digest, engine.insuranceOwed(), pool.claimableCash(), pool.earmarked()));
        r.digest = keccak256(
            abi.encode(
                digest,
                pool.trancheShares(0) | (pool.trancheShares(1) << 128),
                pool.totalScaledDebt(),
                pool.deficit(),
                pool.floatHeld(),
                fund.balance()
            )
        );
    }

    function _token(
        Context memory c,
        Report memory r,
        address[] calldata holders,
        address[] calldata tokens,
        uint256 t,
        bytes32 digest
    ) private view returns (bytes32) {
        IERC20 token = IERC20(tokens[t]);
        uint256 inside;
        uint256 engineHeld = token.balanceOf(address(c.engine));
        uint256 held = engineHeld + token.balanceOf(address(c.pool)) + token.balanceOf(address(c.fund));
        for (uint256 h; h < holders.length; ++h) {
            uint256 internalBalance = c.engine.balanceOf(holders[h], address(token));
            uint256 wallet = token.balanceOf(holders[h]);
            inside += internalBalance;
            held += wallet;
            r.wallets[h * tokens.length + t] = wallet;
            r.internalBalances[h * tokens.length + t] = internalBalance;
            digest = keccak256(abi.encode(digest, internalBalance, wallet));
        }
        // The engine also holds the penalty shares owed to the insurance fund (cash) until they are swept.
        (address cash, , , , ) = c.engine.contracts();
        // And lent cash stays in the pool as the engine's float until it leaves the margin system.
        if (address(token) == cash) {
            inside += c.engine.insuranceOwed();
            engineHeld += c.pool.floatHeld();
        }
        if (engineHeld != inside) r.engineBacked = false;
        if (held != token.totalSupply()) r.supplyConserved = false;
        return digest;
    }

    function _recorded(
        IMarginEngine engine,
        address account
    ) private view returns (IMarginEngine.AccountState, uint64) {
        (bool ok, bytes memory data) = address(engine).staticcall(
            abi.encodeWithSignature("recordedState(address)", account)
        );
        require(ok, "recordedState");
        return abi.decode(data, (IMarginEngine.AccountState, uint64));
    }
}
