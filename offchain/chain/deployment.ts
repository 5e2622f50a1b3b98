import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { DeploymentRecord } from "../../scripts/deploy/types";
import { AppError } from "../shared/errors";

export type { DeploymentRecord, TokenRecord } from "../../scripts/deploy/types";

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
