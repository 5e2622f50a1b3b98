/** Legal settlement: agreements, statements, final settlement, cash legs (pain.001 / camt.054), disputes. */
export { LegalError, type LegalErrorCode } from "./errors";
export { canonicalize, canonicalHash, textHash } from "./canonicalJson";
export {
  BPS,
  DAYS_PER_YEAR,
  bpsDown,
  bpsUp,
  divDown,
  divUp,
  formatMoney,
  formatUnits,
  parseUnits,
  rescale,
} from "./amounts";
export { addDays, assertDate, dateOfTimestamp, daysBetween, eachDay, type IsoDate } from "./days";
export {
  validateTerms,
  leverageText,
  maintenanceBreachReturn,
  returnText,
  percentText,
  type AssetSchedule,
  type ChainSchedule,
  type FeeRule,
  type FinancingTerms,
  type PerformanceFee,
  type WaterfallStep,
} from "./terms";
export {
  accrueDaily,
  dailyRateText,
  ACCRUAL_DENOMINATOR,
  ZERO_ACCRUAL,
  type AccrualDay,
  type AccrualState,
} from "./accrual";
export { tradeFee, worstCaseCosts, type CostLine, type WorstCaseEstimate } from "./fees";
export { termsFromChain, wadToBpsUp, type ChainTermsRequest } from "./chainTerms";
export { bindingNumbersOf, type BindingNumbers } from "./binding";
export { wadDecimal, wadPercent } from "./scheduleText";
export {
  AGREEMENT_TEMPLATE,
  TRANSLATION_HEADING,
  renderAgreementTextEn,
  agreementIsIntact,
  buildAgreement,
  renderAgreementText,
  type AgreementDocument,
} from "./agreementDocument";
export {
  AGREEMENT_DOMAIN_NAME,
  AGREEMENT_DOMAIN_VERSION,
  FINANCING_AGREEMENT_TYPES,
  agreementDigest,
  agreementDomain,
  agreementMessage,
  agreementTypedData,
  isAgreementSignedBy,
  recoverAgreementSigner,
  type FinancingAgreementMessage,
} from "./agreementSignature";
export {
  computeFinalSettlement,
  performanceFee,
  finalSettlementHash,
  renderFinalSettlementText,
  type FinalSettlement,
  type FinalSettlementInput,
  type Party,
  type SettlementLine,
} from "./finalSettlement";
export {
  buildStatement,
  statementHash,
  type CashMovementInput,
  type FeeItem,
  type MarginStatus,
  type PositionInput,
  type Statement,
  type StatementInput,
  type StatementTrade,
  type TradeInput,
} from "./statement";
export { csvField, escapeHtml, statementToCsv, statementToHtml, statementToJson } from "./statementRender";
export { escapeXml, parseXml, writeXml, type XmlElement, type XmlNode } from "./xml";
export {
  PAIN001_NAMESPACE,
  CURRENCY_MINOR_UNITS,
  bankAmount,
  buildPain001,
  sumDecimals,
  type BankAccount,
  type BankAgent,
  type CreditTransfer,
  type CreditTransferMessage,
  type PaymentInstruction,
} from "./pain001";
export { validatePain001, PAIN001_XSD_FILE, type ValidationIssue, type ValidationResult } from "./pain001Validate";
export {
  chainReference,
  parseCamt054,
  parseConfirmationCsv,
  reconcile,
  type BankConfirmation,
  type ChainCashEvent,
  type ReconciliationReport,
} from "./reconcile";
export {
  amendmentEvidenceItem,
  buildEvidenceBundle,
  defaultAuditEntryHash,
  evidenceItemHash,
  redactEvidenceBundle,
  verifyEvidenceBundle,
  type AuditEntry,
  type EvidenceBundle,
  type EvidenceItem,
  type EvidenceKind,
  type SignedTypedData,
  type VerificationReport,
} from "./evidence";
export {
  DisputeService,
  type Actor,
  type Dispute,
  type DisputeOutcome,
  type DisputeStatus,
  type DisputeSubject,
  type EvidenceSource,
} from "./disputes";
export {
  MemoryLegalStore,
  type AgreementRecord,
  type AmendmentRecord,
  type LegalStore,
  type StoredPaymentMessage,
  type StoredStatement,
} from "./store";
export { AgreementService, type ContractSignatureCheck } from "./agreements";
export {
  AmendmentService,
  amendmentId,
  buildAmendment,
  isLiveAgreement,
  recordExitOnly,
  type AmendmentExitHook,
  type PendingOperation,
} from "./amendments";
export {
  AGREEMENT_AMENDMENT_TYPES,
  amendmentDigest,
  amendmentMessage,
  amendmentTypedData,
  isAmendmentSignedBy,
  type AgreementAmendmentMessage,
} from "./amendmentSignature";
export { renderAmendmentText, utcText, type AmendmentTextInput } from "./amendmentText";
export {
  applyScheduledChange,
  requestFromTerms,
  termChanges,
  type ScheduledChange,
  type TermChange,
} from "./scheduledChange";
export { settlementPayoutTransfers, type Payee } from "./settlementPayouts";
