// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

/// @title ISettlementHub
/// @notice Settles batches of trades matched off-chain, delivery versus payment, between MarginEngine accounts.
///         Each trade carries both orders signed (EIP-712) by the account owner or a trading key the owner
///         delegated here. A batch settles atomically or not at all, and at most once.
/// @dev Units: `quantity` in the security's base units; `limitPrice` and trade `price` in cash base units per
///      WHOLE security token (10**decimals base units); the cash leg is ceil(quantity · price / 10**decimals),
///      identical for both sides (rounded in the seller's favour: a seller is never paid below its signed limit,
///      a buyer pays less than one cash base unit above the exact product). Orders are identified by their EIP-712
///      hash; each (account, nonce) pair is one order: a nonce is spent when its order is fully filled or cancelled
///      (a Permit2-style bitmap), partial fills are tracked per order hash.
interface ISettlementHub {
    /// @notice One side of a trade as the owner signed it.
    struct Order {
        address account;
        address instrument;
        /// 0 = buy, 1 = sell
        uint8 side;
        uint64 expiry;
        uint256 limitPrice;
        uint256 quantity;
        uint256 nonce;
    }

    /// @notice A compact (EIP-2098) signature: r and yParity·2^255 + s.
    struct Signature {
        bytes32 r;
        bytes32 vs;
    }

    /// @notice One matched trade.
    struct Trade {
        Order buy;
        Order sell;
        Signature buySig;
        Signature sellSig;
        uint256 quantity;
        uint256 price;
    }

    /// @notice What is recorded per settled batch for legal records.
    struct BatchRecord {
        bytes32 tradesRoot;
        uint32 tradeCount;
        uint64 settledAt;
        uint64 blockNumber;
    }

    error HubBatchAlreadySettled(bytes32 batchId);
    error HubEmptyBatch();
    error HubInstrumentNotListed(uint256 tradeIndex, address instrument);
    error HubInstrumentMismatch(uint256 tradeIndex);
    error HubWrongSide(uint256 tradeIndex);
    error HubSelfTrade(uint256 tradeIndex, address account);
    error HubZeroQuantityOrPrice(uint256 tradeIndex);
    error HubPriceOutsideLimit(uint256 tradeIndex, uint256 price, uint256 buyLimit, uint256 sellLimit);
    error HubOrderExpired(uint256 tradeIndex, bytes32 orderHash, uint64 expiry);
    /// @notice The order's nonce is below the account's minimum, or the order is fully filled or cancelled.
    error HubOrderNotLive(uint256 tradeIndex, bytes32 orderHash);
    error HubOverfill(uint256 tradeIndex, bytes32 orderHash, uint256 filled, uint256 quantity, uint256 orderQuantity);
    /// @notice The signature is neither the owner's nor a live delegated trading key's.
    error HubBadSignature(uint256 tradeIndex, bytes32 orderHash, address recovered);
    /// @notice After the batch, an account that took value or risk (an indebted buyer, or an indebted seller paid
    ///         less than its units counted for in its equity) is below initial margin. The whole batch reverts and
    ///         names the last trade of that account, which the operator sets aside.
    error HubInitialMarginBreached(uint256 tradeIndex, address account);
    error HubCashLegZero(uint256 tradeIndex);
    error HubInvalidTradingKey(address key);
    error HubNonceNotIncreasing(uint256 current, uint256 requested);
    error HubNotOrderOwner(address caller, address account);
    error HubInstrumentAlreadyListed(address instrument);

    event BatchSettled(bytes32 indexed batchId, bytes32 tradesRoot, uint256 tradeCount);
    event TradeSettled(
        bytes32 indexed batchId,
        bytes32 indexed buyOrder,
        bytes32 indexed sellOrder,
        uint256 index,
        uint256 quantity,
        uint256 price
    );
    event TradingKeySet(address indexed owner, address indexed key, uint64 expiresAt);
    event TradingKeyRevoked(address indexed owner, address indexed key);
    event OrderCancelled(address indexed account, bytes32 indexed orderHash, uint256 nonce);
    event MinNonceRaised(address indexed account, uint256 minNonce);
    event InstrumentListed(address indexed instrument, uint256 scale);

    /// @notice Settles every trade of a batch or none (operator). `batchId` can settle only once.
    /// @dev Per trade: checks listing, sides, self-trade, price within both limits, expiry, nonce liveness,
    ///      remaining quantity and both signatures; moves both legs through the MarginEngine. After all trades,
    ///      every buyer (the side that adds risk) must meet initial margin; sellers reduce risk and always settle.
    function settleBatch(bytes32 batchId, Trade[] calldata trades) external;

    /// @notice Delegates trading to `key` until `expiresAt` (owner call); a key signs orders for the owner.
    function setTradingKey(address key, uint64 expiresAt) external;

    /// @notice Revokes a trading key at once (owner call).
    function revokeTradingKey(address key) external;

    /// @notice Cancels an order on-chain (its owner or a live trading key of the owner): spends its nonce.
    function cancelOrder(Order calldata order) external;

    /// @notice Cancels every order of the caller with a nonce below `minNonce`.
    function raiseMinNonce(uint256 minNonce) external;

    /// @notice Lists a security token for settlement (operator). Its decimals fix the price scale.
    function listInstrument(address instrument) external;

    /// @notice EIP-712 struct hash of an order: its id (chain-independent). The owner or trading key signs the
    ///         typed-data digest of it under this hub's domain.
    function orderHash(Order calldata order) external pure returns (bytes32);

    /// @notice Quantity already filled of an order, and whether its nonce is spent (filled or cancelled).
    function orderStatus(Order calldata order) external view returns (uint256 filled, bool spent);

    function tradingKeyExpiry(address owner, address key) external view returns (uint64);

    function minNonce(address account) external view returns (uint256);

    function batch(bytes32 batchId) external view returns (BatchRecord memory);

    /// @notice 10**decimals of a listed instrument (0 when not listed).
    function instrumentScale(address instrument) external view returns (uint256);

    /// @notice Leaf of trade `index` in a batch's trades tree:
    ///         keccak256(abi.encode(batchId, index, buyOrderHash, sellOrderHash, quantity, price)).
    function tradeLeaf(
        bytes32 batchId,
        uint256 index,
        bytes32 buyOrder,
        bytes32 sellOrder,
        uint256 quantity,
        uint256 price
    ) external pure returns (bytes32);
}
