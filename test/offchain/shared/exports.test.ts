import { expect } from "chai";
import * as api from "../../../offchain/api";
import * as chain from "../../../offchain/chain";
import * as kyc from "../../../offchain/kyc";
import * as store from "../../../offchain/store";

/** Each capability's index.ts is its whole public surface; a change to it should be a decision, not an accident. */
describe("public surfaces of the foundation capabilities", function () {
  it("exports exactly the documented runtime names", function () {
    expect(Object.keys(store).sort()).to.deep.equal([
      "ALL_MIGRATIONS",
      "AUDIT_GENESIS",
      "IntentConflictError",
      "auditHash",
      "openStore",
      "verifyAuditChain",
    ]);
    expect(Object.keys(chain).sort()).to.deep.equal([
      "DEFAULT_DEPLOYMENTS_DIR",
      "Indexer",
      "NonceManager",
      "TxSender",
      "chainHealthProbe",
      "collateralTokenHandler",
      "createChainGateway",
      "decodeRevert",
      "isTransient",
      "kycRegistryHandler",
      "kycRegistryWriter",
      "lensCapacity",
      "loadDeployment",
      "rawSigner",
      "revertData",
      "valueAccounts",
      "withRetry",
    ]);
    expect(Object.keys(api).sort()).to.deep.equal([
      "ApiClient",
      "DEFAULT_WS_LIMITS",
      "HEADER",
      "HTTP_STATUS",
      "ROLES",
      "STAFF_ROLES",
      "WS_PATH",
      "coreRoutes",
      "createApi",
      "createApiKey",
      "createMetrics",
      "defineRoute",
      "ensureDemoKeys",
      "httpStatusOf",
      "isRole",
      "listen",
      "loadApiKey",
      "newTotpSecret",
      "revokeApiKey",
      "serveMetrics",
      "signature",
      "signedHeaders",
      "signedWsQuery",
      "signingString",
      "totpCode",
      "verifyTotp",
    ]);
    expect(Object.keys(kyc).sort()).to.deep.equal([
      "IdentitySchema",
      "QuestionnaireSchema",
      "SAMPLE_SDN_FILE",
      "approveOnChain",
      "assessRisk",
      "expireApprovals",
      "identityHash",
      "jaroWinkler",
      "kycRoutes",
      "loadSdnFile",
      "nameSimilarity",
      "normaliseName",
      "openIdentity",
      "parseSdnCsv",
      "reconcileKyc",
      "rejectApplication",
      "revokeApproval",
      "revokeIdentity",
      "screenName",
      "sealIdentity",
      "submitApplication",
    ]);
  });
});
