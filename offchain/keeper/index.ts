export { Keeper, type KeeperMetrics } from "./keeper";
export { AccountIndex, State, STATE_NAMES, type AccountSnapshot } from "./accountIndex";
export { Liquidator, type SubmitOutcome, type Trigger, type Settled } from "./liquidator";
export {
  deliverNotifications,
  noticeBody,
  webhookSignature,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  EVENT_ID_HEADER,
  type DeliverySettings,
} from "./deliverNotifications";
export { pauseLiquidation, resumeLiquidation } from "./overrides";
export { keeperRoutes } from "./routes";
export { DEFAULT_KEEPER_SETTINGS, type KeeperDeps, type KeeperSettings } from "./ports";
