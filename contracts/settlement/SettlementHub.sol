// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IMarginEngine} from "../margin/IMarginEngine.sol";
import {ISettlementHub} from "./ISettlementHub.sol";
import {SettlementLib} from "./SettlementLib.sol";

/// @title SettlementHub
/// @notice See ISettlementHub. Trust: the operator chooses which matched trades to submit and in which batches, but
///         cannot move anything the owners did not sign: every leg is bounded by both signed orders (side, limit
///         price, remaining quantity, expiry, nonce). The MarginEngine is a trusted system contract.
/// @dev Order of work in settleBatch: validate each trade and write its fill state → move both legs through the
///      engine, which names the parties whose margin must be checked (an indebted buyer; an indebted seller paid
///      less than its units counted for) → after all trades, check initial margin for each of them once (on the
///      new state) → record. The cash leg is quantity · price / scale rounded up: the seller is never paid below
///      its signed limit; the buyer pays less than one base unit above the exact product.
contract SettlementHub is ISettlementHub, AccessManaged, EIP712, ReentrancyGuardTransient {
    /// @notice EIP-712 type of an order.
    bytes32 public constant ORDER_TYPEHASH = keccak256(
        abi.encodePacked(
            "Order(address account,address instrument,uint8 side,uint64 expiry,",
            "uint256 limitPrice,uint256 quantity,uint256 nonce)"
        )
    );
    uint8 private constant _BUY = 0;
    uint8 private constant _SELL = 1;
    /// @dev Bits of MarginEngine.settleTrade's answer.
    uint256 private constant _CHECK_BUYER = 1;
    uint256 private constant _CHECK_SELLER = 2;

    /// @dev The accounts a batch checks after its legs, each once, with the last trade that named it.
    struct Checked {
        address[] accounts;
        uint256[] lastTrade;
        uint256 count;
    }

    IMarginEngine private immutable _engine;

    mapping(address instrument => uint256 scale) private _scale;
    mapping(bytes32 batchId => BatchRecord) private _batches;
    mapping(bytes32 orderHash => uint256 filled) private _filled;
    /// @dev Spent nonces, 256 per word: bit (nonce & 255) of word (nonce >> 8).
    mapping(address account => mapping(uint256 word => uint256 bits)) private _spent;
    mapping(address account => uint256) private _minNonce;
    mapping(address owner => mapping(address key => uint64 expiresAt)) private _tradingKeys;

    /// @param engine_ the MarginEngine holding the accounts (this hub needs its SETTLER role)
    /// @param authority the AccessManager
    constructor(
        IMarginEngine engine_,
        address authority
    ) AccessManaged(authority) EIP712("MarginBridge Settlement", "1") {
        _engine = engine_;
    }

    // ───────────────────────────── operator ─────────────────────────────

    /// @inheritdoc ISettlementHub
    function settleBatch(bytes32 batchId, Trade[] calldata trades) external restricted nonReentrant {
        if (_batches[batchId].settledAt != 0) revert HubBatchAlreadySettled(batchId);
        uint256 n = trades.length;
        if (n == 0) revert HubEmptyBatch();
        bytes32[] memory leaves = new bytes32[](n);
        Checked memory c = Checked(new address[](2 * n), new uint256[](2 * n), 0);
        for (uint256 i; i < n; ++i) {
            Trade calldata t = trades[i];
            (bytes32 buyHash, bytes32 sellHash, uint256 cashAmount) = _checkAndFill(i, t);
            uint256 checks = _engine.settleTrade(
                t.buy.account,
                t.sell.account,
                t.buy.instrument,
                t.quantity,
                cashAmount
            );
            leaves[i] = SettlementLib.tradeLeaf(batchId, i, buyHash, sellHash, t.quantity, t.price);
            emit TradeSettled(batchId, buyHash, sellHash, i, t.quantity, t.price);
            if (checks & _CHECK_BUYER != 0) _mark(c, t.buy.account, i);
            if (checks & _CHECK_SELLER != 0) _mark(c, t.sell.account, i);
        }
        for (uint256 j; j < c.count; ++j) {
            address account = c.accounts[j];
            SettlementLib.tstoreAccount(account, 0);
            if (!_engine.checkInitialMargin(account)) revert HubInitialMarginBreached(c.lastTrade[j], account);
        }
        bytes32 root = SettlementLib.merkleRoot(leaves);
        _batches[batchId] = BatchRecord({
            tradesRoot: root,
            tradeCount: uint32(n),
            settledAt: uint64(block.timestamp),
            blockNumber: uint64(block.number)
        });
        emit BatchSettled(batchId, root, n);
    }

    /// @inheritdoc ISettlementHub
    function listInstrument(address instrument) external restricted {
        if (_scale[instrument] != 0) revert HubInstrumentAlreadyListed(instrument);
        uint256 scale = 10 ** IERC20Metadata(instrument).decimals();
        _scale[instrument] = scale;
        emit InstrumentListed(instrument, scale);
    }

    // ───────────────────────────── account owners ─────────────────────────────

    /// @inheritdoc ISettlementHub
    function setTradingKey(address key, uint64 expiresAt) external {
        if (key == address(0) || key == msg.sender || expiresAt <= block.timestamp) revert HubInvalidTradingKey(key);
        _tradingKeys[msg.sender][key] = expiresAt;
        emit TradingKeySet(msg.sender, key, expiresAt);
    }

    /// @inheritdoc ISettlementHub
    function revokeTradingKey(address key) external {
        if (_tradingKeys[msg.sender][key] == 0) revert HubInvalidTradingKey(key);
        delete _tradingKeys[msg.sender][key];
        emit TradingKeyRevoked(msg.sender, key);
    }

    /// @inheritdoc ISettlementHub
    function cancelOrder(Order calldata order) external {
        if (msg.sender != order.account && !_isLiveKey(order.account, msg.sender)) {
            revert HubNotOrderOwner(msg.sender, order.account);
        }
        bytes32 h = _orderHash(order);
        _spend(order.account, order.nonce);
        emit OrderCancelled(order.account, h, order.nonce);
    }

    /// @inheritdoc ISettlementHub
    function raiseMinNonce(uint256 newMinNonce) external {
        uint256 current = _minNonce[msg.sender];
        if (newMinNonce <= current) revert HubNonceNotIncreasing(current, newMinNonce);
        _minNonce[msg.sender] = newMinNonce;
        emit MinNonceRaised(msg.sender, newMinNonce);
    }

    // ───────────────────────────── views ─────────────────────────────

    /// @inheritdoc ISettlementHub
    function orderHash(Order calldata order) external pure returns (bytes32) {
        return _orderHash(order);
    }

    /// @inheritdoc ISettlementHub
    function orderStatus(Order calldata order) external view returns (uint256 filled, bool spent) {
        return (_filled[_orderHash(order)], _isSpent(order.account, order.nonce));
    }

    /// @inheritdoc ISettlementHub
    function tradingKeyExpiry(address owner, address key) external view returns (uint64) {
        return _tradingKeys[owner][key];
    }

    /// @inheritdoc ISettlementHub
    function minNonce(address account) external view returns (uint256) {
        return _minNonce[account];
    }

    /// @inheritdoc ISettlementHub
    function batch(bytes32 batchId) external view returns (BatchRecord memory) {
        return _batches[batchId];
    }

    /// @inheritdoc ISettlementHub
    function instrumentScale(address instrument) external view returns (uint256) {
        return _scale[instrument];
    }

    /// @inheritdoc ISettlementHub
    function tradeLeaf(
        bytes32 batchId,
        uint256 index,
        bytes32 buyOrder,
        bytes32 sellOrder,
        uint256 quantity,
        uint256 price
    ) external pure returns (bytes32) {
        return SettlementLib.tradeLeaf(batchId, index, buyOrder, sellOrder, quantity, price);
    }

    /// @notice The hub's EIP-712 domain separator (chain id and this address bound in).
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @notice The MarginEngine this hub settles through.
    function engine() external view returns (IMarginEngine) {
        return _engine;
    }

    // ───────────────────────────── internals ─────────────────────────────

    /// @dev Validates trade `i` against both orders, records the fills and returns the order hashes and cash leg.
    function _checkAndFill(
        uint256 i,
        Trade calldata t
    ) private returns (bytes32 buyHash, bytes32 sellHash, uint256 cash) {
        address instrument = t.buy.instrument;
        if (t.sell.instrument != instrument) revert HubInstrumentMismatch(i);
        uint256 scale = _scale[instrument];
        if (scale == 0) revert HubInstrumentNotListed(i, instrument);
        if (t.buy.side != _BUY || t.sell.side != _SELL) revert HubWrongSide(i);
        if (t.buy.account == t.sell.account) revert HubSelfTrade(i, t.buy.account);
        if (t.quantity == 0 || t.price == 0) revert HubZeroQuantityOrPrice(i);
        if (t.price > t.buy.limitPrice || t.price < t.sell.limitPrice) {
            revert HubPriceOutsideLimit(i, t.price, t.buy.limitPrice, t.sell.limitPrice);
        }
        // Rounded up: the seller is never paid below quantity · its limit (docs/settlement.md, "Cash leg").
        cash = Math.mulDiv(t.quantity, t.price, scale, Math.Rounding.Ceil);
        if (cash == 0) revert HubCashLegZero(i);
        buyHash = _orderHash(t.buy);
        sellHash = _orderHash(t.sell);
        _checkSigner(i, t.buy, buyHash, t.buySig);
        _checkSigner(i, t.sell, sellHash, t.sellSig);
        _fill(i, t.buy, buyHash, t.quantity);
        _fill(i, t.sell, sellHash, t.quantity);
    }

    /// @dev Adds `account` to the batch's accounts to check (once), remembering trade `i` as the last to name it.
    function _mark(Checked memory c, address account, uint256 i) private {
        uint256 slot = SettlementLib.tloadAccount(account);
        if (slot == 0) {
            c.accounts[c.count] = account;
            c.lastTrade[c.count] = i;
            ++c.count;
            SettlementLib.tstoreAccount(account, c.count);
        } else {
            c.lastTrade[slot - 1] = i;
        }
    }

    function _checkSigner(uint256 i, Order calldata o, bytes32 h, Signature calldata sig) private view {
        if (o.expiry < block.timestamp) revert HubOrderExpired(i, h, o.expiry);
        (address recovered, ECDSA.RecoverError err, ) = ECDSA.tryRecover(_hashTypedDataV4(h), sig.r, sig.vs);
        if (err != ECDSA.RecoverError.NoError) revert HubBadSignature(i, h, address(0));
        if (recovered != o.account && !_isLiveKey(o.account, recovered)) revert HubBadSignature(i, h, recovered);
    }

    /// @dev A full fill in one go spends the nonce without touching `_filled`; partial fills keep a running total.
    function _fill(uint256 i, Order calldata o, bytes32 h, uint256 quantity) private {
        if (o.nonce < _minNonce[o.account] || _isSpent(o.account, o.nonce)) revert HubOrderNotLive(i, h);
        uint256 prior = _filled[h];
        uint256 total = prior + quantity;
        if (total > o.quantity) revert HubOverfill(i, h, prior, quantity, o.quantity);
        if (total == o.quantity) {
            _spend(o.account, o.nonce);
        } else {
            _filled[h] = total;
        }
    }

    function _spend(address account, uint256 nonce) private {
        _spent[account][nonce >> 8] |= 1 << (nonce & 0xff);
    }

    function _isSpent(address account, uint256 nonce) private view returns (bool) {
        return (_spent[account][nonce >> 8] >> (nonce & 0xff)) & 1 == 1;
    }

    function _isLiveKey(address owner, address key) private view returns (bool) {
        return _tradingKeys[owner][key] > block.timestamp;
    }

    /// @dev Struct hash of an order (the EIP-712 `hashStruct`); `_hashTypedDataV4` adds the domain.
    function _orderHash(Order calldata o) private pure returns (bytes32) {
        return
            keccak256(
                abi.encode(ORDER_TYPEHASH, o.account, o.instrument, o.side, o.expiry, o.limitPrice, o.quantity, o.nonce)
            );
    }
}
