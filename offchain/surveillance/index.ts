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
export {
  GroupDirectory,
  groupDirectory,
  groupsOf,
  setBeneficialOwner,
  type AccountGroup,
  type GroupView,
} from "./groups";
export {
  REVIEW_REASONS,
  decideReview,
  openGroupTradeReview,
  runReviews,
  type KycTierWriter,
  type ReviewDecision,
  type ReviewThresholds,
} from "./reviews";
