import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Provider } from "ethers";
import { AppError } from "../shared/errors";

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

export interface TokenRecord {
  symbol: string;
  name: string;
  address: string;
  decimals: number;
  kind: "cash" | "security" | "option";
  /** Liquidity tier for securities and option series (1 = most liquid); 0 for cash. */
  liquidityTier: number;
  sector?: string;
  /** An option series' terms (kind "option"; OptionMarket.series has them on the chain). */
  option?: OptionTermsRecord;
}

/** A listed option series (OptionMarket): its underlying, type, strike (wad CNY), expiry, contract size, price feed. */
export interface OptionTermsRecord {
  underlying: string;
  isCall: boolean;
  strike: string;
  expiry: number;
  contractSize: number;
  fixingWindow: number;
  feed: string;
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
  /**
   * The platform's margin account (AgreementSettlement.platformAccount: fees and the platform's share of each
   * agreement's end waterfall). An account, not a contract, so it is not among `contracts` (whose every address
   * must hold code); absent in older records.
   */
  platformAccount?: string;
}

export const DEFAULT_DEPLOYMENTS_DIR = path.join(__dirname, "..", "..", "deployments");

/** Reads deployments/<network>.json, the addresses-as-data record written by the deploy script. */
export function loadDeployment(network: string, dir = DEFAULT_DEPLOYMENTS_DIR): DeploymentRecord {
  const file = path.join(dir, `${network}.json`);
  if (!existsSync(file))
    throw new AppError("CONFIG_INVALID", `no deployment record at ${file}; run the deploy script first`);
  const record = JSON.parse(readFileSync(file, "utf8")) as DeploymentRecord;
  for (const name of ["KycRegistry", "AccessManager"]) {
    if (!record.contracts?.[name]) throw new AppError("CONFIG_INVALID", `deployment ${file} has no ${name} address`);
  }
  return record;
}

/** Where deployments/<network>.json lives in `dir`. */
export function deploymentPath(network: string, dir = DEFAULT_DEPLOYMENTS_DIR): string {
  return path.join(dir, `${network}.json`);
}

/** The record of `network`, or undefined when none was written (no checks: see loadDeployment). */
export function readDeployment(network: string, dir = DEFAULT_DEPLOYMENTS_DIR): DeploymentRecord | undefined {
  const file = deploymentPath(network, dir);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, "utf8")) as DeploymentRecord;
}

export function writeDeployment(record: DeploymentRecord, dir = DEFAULT_DEPLOYMENTS_DIR): string {
  mkdirSync(dir, { recursive: true });
  const file = deploymentPath(record.network, dir);
  writeFileSync(file, JSON.stringify(record, null, 2) + "\n");
  return file;
}

/** A recorded deployment is reusable when the chain id matches and every recorded address has code. */
export async function deploymentIsLive(record: DeploymentRecord, provider: Provider): Promise<boolean> {
  const chainId = Number((await provider.getNetwork()).chainId);
  if (chainId !== record.chainId) return false;
  for (const address of Object.values(record.contracts)) {
    if ((await provider.getCode(address)) === "0x") return false;
  }
  return true;
}

/** The record's key of a security's price feed (MedianPriceFeed per asset). */
export function feedKey(symbol: string): string {
  return `MedianPriceFeed.${symbol}`;
}

/** Record key of a security's implied-volatility MedianPriceFeed (the option series' model reads it). */
export function volatilityFeedKey(symbol: string): string {
  return `ImpliedVolatility.${symbol}`;
}
