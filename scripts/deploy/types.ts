import type { Signer } from "ethers";
import type { RoleHolders } from "../../offchain/chain/deployment";

// The deployment record is product data (the service and the auditor tools read it): its types live in
// offchain/chain/deployment.ts; the deploy scripts write it.
export type { DeploymentRecord, ProviderTermsRecord, RoleHolders, TokenRecord } from "../../offchain/chain/deployment";

export interface DeployOptions {
  deployer: Signer;
  roles: RoleHolders;
  /** Execution delay (seconds) of the risk officer's parameter changes. Zero is allowed on a dev chain. */
  riskDelaySeconds: number;
  /**
   * Every borrow needs an active financing agreement bound to the account (AgreementBinding.requireAgreements,
   * one-way). On unless explicitly `false`: then only accounts with a bound agreement are held to theirs (contract
   * fixtures and benches that test other mechanics say so, with their reason). Bind an account with
   * scripts/lib/bindAgreement.ts.
   */
  requireAgreements?: boolean;
  /**
   * The platform's margin account: receives the fees AgreementSettlement.chargeFee charges and the platform's share
   * of each agreement's end waterfall. Default: the operator (`roles.operator`), the platform party that signs the
   * financing agreements, whose key the service already holds. Deploy KYC-verifies it when it is not yet verified.
   */
  platformAccount?: string;
  /** Seconds between a binding's end and the first forced close-out (AgreementSettlement). Default: 2 days. */
  closeOutPeriodSeconds?: number;
  /** Print progress lines. */
  log?: (line: string) => void;
}
