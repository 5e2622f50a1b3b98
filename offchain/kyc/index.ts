export { kycRoutes } from "./routes";
export { submitApplication, type SubmitInput } from "./submitApplication";
export { approveOnChain, rejectApplication, type Decision } from "./approveApplication";
export { revokeApproval } from "./revokeApproval";
export { revokeIdentity } from "./revokeIdentity";
export { reconcileKyc, type ReconcileReport } from "./reconcile";
export { expireApprovals } from "./expireApprovals";
export { acknowledgeDocument, type Acknowledged } from "./acknowledgeDocument";
export {
  ACK_CLOCK_SKEW_S,
  ACK_DOMAIN_NAME,
  ACKNOWLEDGEMENT_TYPES,
  AcknowledgementSchema,
  acknowledgementDomain,
  acknowledgementTypedData,
  checkAcknowledgement,
  type AcknowledgementInput,
  type AcknowledgementMessage,
} from "./acknowledgement";
export { CLIENT_DOCUMENTS, DOCUMENT_IDS, type ClientDocument, type DocumentId } from "./documents";
export {
  QUIZ,
  QUIZ_VERSION,
  SuitabilitySchema,
  publicQuiz,
  scoreSuitability,
  type SuitabilityAnswers,
} from "./suitability";
export { assessRisk, QuestionnaireSchema, type Questionnaire, type RiskAssessment } from "./scoring";
export { IdentitySchema, identityHash, sealIdentity, openIdentity, type Identity } from "./identity";
export { loadSdnFile, parseSdnCsv, normaliseName, SAMPLE_SDN_FILE, type SdnEntry } from "./sanctions/list";
export { screenName, nameSimilarity, jaroWinkler } from "./sanctions/match";
export type { ChainIdentity, KycChainPort, KycDeps, KycSettings } from "./ports";
