export {
  CASH_REPORTING_THRESHOLD_CNY,
  surveillanceCapability,
  withCashThreshold,
  type SurveillanceServiceOptions,
} from "./capability";
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
export { decideAlert, raiseAlert, addCaseNote, dedupeKey, flowAlert, SYSTEM_ACTOR } from "./alerts";
export { FlowSurveillance, type FlowRunResult } from "./flowJob";
export { FlowMonitor } from "./monitor";
export { flowEvents } from "./flow";
export { DEFAULT_FLOW_RULES, flowRules, journalRules, refusalRules, type FlowRulesConfig } from "./rules";
export { DEFAULT_AML, amlFindings, movements, runAml, type AmlConfig } from "./aml";
export { amlConfig, surveillanceJobs, type SurveillanceJobOptions } from "./jobs";
export { rescreenOnListChange } from "./sanctions";
