export {
  ORDER_TYPES,
  SETTLEMENT_DOMAIN_NAME,
  orderId,
  settlementDomain,
  signOrder,
  type CompactSignature,
  type SignedOrderFields,
} from "./orders";
export { enqueueTrade } from "./enqueueTrade";
export { TRADES_QUEUED, settlementQueueSink, type BookTrade } from "./orderbookSink";
export { netFills, type NettedTrade } from "./netting";
export { batchIdOf, BATCH_ID_TAG } from "./batchId";
export { SettlementBatcher, BATCH_BASE_GAS, GAS_PER_TRADE, type BatcherOptions, type BatcherRun } from "./batcher";
export { storeEvidenceSource } from "./evidenceSource";
export { DailyStatements, BUSINESS_DAY_UTC_OFFSET_MINUTES, type IssuedStatement } from "./dailyStatements";
export { chainScheduleReader, type ChainScheduleReader } from "./readChainSchedule";
export {
  signAgreement,
  standingAgreementId,
  standingAgreementTerms,
  type StandingAgreementRequest,
} from "./standingAgreement";
