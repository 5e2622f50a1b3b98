// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IMarginEngine} from "./IMarginEngine.sol";
import {MarginStorage} from "./MarginStorage.sol";

/// @title MarginLedger
/// @notice The margin accounts' internal balances: every credit and debit of the engine and its libraries goes
///         through here, so that the freeze, the held mask and the bounds are kept in one place.
/// @dev Internal library (inlined into each user). `cash` is the engine's cash token (its balance lives in the
///      account slot; securities in `balances`).
library MarginLedger {
    using SafeCast for uint256;

    /// @dev Adds to a balance the owner may move: refused while that balance is frozen.
    function credit(address cash, address account, address asset, uint256 amount) internal {
        MarginStorage.Layout storage $ = MarginStorage.layout();
        MarginStorage.Account storage a = $.accounts[account];
        if (asset == cash) {
            if (a.frozenMask & MarginStorage.CASH_FROZEN != 0) revert IMarginEngine.MarginBalanceFrozen(account, asset);
            a.cash = (a.cash + amount).toUint88();
            return;
        }
        MarginStorage.AssetRecord storage cfg = $.assets[asset];
        if (!cfg.listed) revert IMarginEngine.MarginAssetNotListed(asset);
        uint16 bit = uint16(1 << cfg.id);
        uint16 held = a.heldMask;
        if (a.frozenMask & bit != 0) revert IMarginEngine.MarginBalanceFrozen(account, asset);
        if (held & bit == 0) a.heldMask = held | bit;
        $.balances[account][asset] += amount;
    }

    /// @dev Takes from a balance the owner may move: refused while that balance is frozen.
    function debit(address cash, address account, address asset, uint256 amount) internal {
        uint16 frozen = MarginStorage.layout().accounts[account].frozenMask;
        if (frozen != 0 && frozen & frozenBit(cash, asset) != 0) {
            revert IMarginEngine.MarginBalanceFrozen(account, asset);
        }
        debitUnchecked(cash, account, asset, amount);
    }

    /// @dev Takes from a balance whatever its freeze (a liquidation seizes only unfrozen positions; the legal
    ///      seizure takes frozen ones).
    function debitUnchecked(address cash, address account, address asset, uint256 amount) internal {
        MarginStorage.Layout storage $ = MarginStorage.layout();
        MarginStorage.Account storage a = $.accounts[account];
        if (asset == cash) {
            uint256 held = a.cash;
            if (held < amount) revert IMarginEngine.MarginInsufficientBalance(account, asset, held, amount);
            // amount ≤ held < 2**88 was checked just above.
            a.cash = uint88(held - amount);
            return;
        }
        uint256 balance = $.balances[account][asset];
        if (balance < amount) revert IMarginEngine.MarginInsufficientBalance(account, asset, balance, amount);
        // balance ≥ amount was checked just above.
        unchecked {
            $.balances[account][asset] = balance - amount;
        }
        if (balance == amount) a.heldMask &= ~uint16(1 << $.assets[asset].id);
    }

    /// @dev The frozen-mask bit of an asset: CASH_FROZEN for the cash token, 1 << id for a listed security, 0 for
    ///      anything else.
    function frozenBit(address cash, address asset) internal view returns (uint16) {
        if (asset == cash) return MarginStorage.CASH_FROZEN;
        MarginStorage.AssetRecord storage cfg = MarginStorage.layout().assets[asset];
        return cfg.listed ? uint16(1) << cfg.id : 0;
    }
}
