import type { Signer } from "ethers";

/** Who holds each role after deployment. On a dev chain these are the node's unlocked accounts. */
export interface RoleHolders {
  admin: string;
  kycOfficer: string;
  custodian: string;
  riskOfficer: string;
  operator: string;
  reservePublisher: string;
  reporters: string[];
  /** Executes legal seizures of frozen collateral (MarginEngine.legalSeize); the operator when not named. */
  legalOfficer?: string;
  /** Tightens risk at once through the RiskGuardian (the risk officer's on-call deputy); the risk officer when not
   *  named (its own changes through the guardian are immediate, tightening only). */
  guardian?: string;
}

export interface DeployOptions {
  deployer: Signer;
  roles: RoleHolders;
  /** Execution delay (seconds) of the risk officer's parameter changes. Zero is allowed on a dev chain. */
  riskDelaySeconds: number;
  /** Print progress lines. */
  log?: (line: string) => void;
}

export interface TokenRecord {
  symbol: string;
  name: string;
  address: string;
  decimals: number;
  kind: "cash" | "security";
  /** Liquidity tier for securities (1 = most liquid); 0 for cash. */
  liquidityTier: number;
  sector?: string;
}

/** Each capital-provider class's agreement terms as deployed: canonical JSON, its keccak256 and version. */
export type ProviderTermsRecord = Record<"senior" | "junior", { version: number; hash: string; json: string }>;

/** The content of deployments/<network>.json: addresses as data, read by the service and the auditor tools. */
export interface DeploymentRecord {
  network: string;
  chainId: number;
  deployBlock: number;
  deployedAt: string;
  commit: string;
  riskDelaySeconds: number;
  roles: RoleHolders;
  contracts: Record<string, string>;
  tokens: TokenRecord[];
  /** The agreement terms providers of each class sign (TrancheVault.agreementTerms); absent in older records. */
  providerTerms?: ProviderTermsRecord;
}
