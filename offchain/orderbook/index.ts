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
