export { surveillanceCapability, type SurveillanceServiceOptions } from "./capability";
export {
  REASON_CODES,
  STANDARD_TIER,
  clearTier,
  setTier,
  tierOf,
  type ReasonCode,
  type TierChange,
} from "./behaviourTiers";
