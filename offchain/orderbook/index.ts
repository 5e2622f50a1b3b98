/**
 * Order book capability: matching engine per instrument, protective orders, pre-trade risk, journal, snapshots,
 * replay and market data. This file is the whole public surface.
 */
export * from "./types";
export { OrderBook, ExecutionReport, BookSide, PriceLevel, type IncomingOrder, type RestingOrder } from "./book";
export { type BookObserver, ObserverFanout, NullObserver } from "./events";
export {
  ProtectiveBook,
  AtrTracker,
  ATR_SCALE,
  atrStopDistanceDown,
  trailingStopPrice,
  type ProtectiveOrder,
} from "./protective";
export { InstrumentEngine, SequenceGapError, type EngineSnapshot, type SavedOrder } from "./engine";
export {
  type InstrumentSpec,
  notional,
  ticksToPrice,
  lotsToUnits,
  parseDecimal,
  priceToTicks,
  quantityToLots,
  formatPrice,
  formatUnits,
} from "./instrument";
export {
  PreTradeRisk,
  MarginState,
  type AccountRiskView,
  type InstrumentRiskView,
  type RiskStateSource,
  type RiskLimits,
  type BehaviourTier,
  type RiskCheckable,
  type ProtectiveTemplate,
} from "./risk";
export { InMemoryRiskState } from "./memoryState";
export { type CommandJournal, FileJournal, JournalCorruptError, type FileJournalOptions } from "./journal";
export { type SnapshotStore, FileSnapshotStore } from "./snapshots";
export {
  MarketDataFeed,
  type DepthSnapshot,
  type DepthUpdate,
  type TradeMessage,
  type OrderEvent,
  type OrderEventKind,
  type PublicMessage,
  type Level,
} from "./marketdata";
export { BookService, recover, JournalFailedError, type Ack, type BookServiceOptions } from "./service";
export { decodeCommand, type Decoded } from "./validate";
export { StoreJournal, StoreSnapshotStore, type WriteFence } from "./storeJournal";
export {
  OrderGateway,
  storeTradeSink,
  type OrderGatewayOptions,
  type SettlementTrade,
  type TradeLeg,
  type TradeSink,
  type PlaceOrder,
  type PlacedOrder,
  type RecentFill,
  type PlacedProtective,
} from "./gateway";
export {
  PROTECTIVE_TYPES,
  type PlaceProtective,
  type ProtectiveTrigger,
  type ProtectiveType,
  type ProtectiveView,
} from "./protectiveOrders";
export { orderbookRoutes } from "./routes";
export { orderbookStreams } from "./streams";
export { ChainRiskState, oracleTicks, type ChainInstrument, type RiskChainReader } from "./chainRiskState";
