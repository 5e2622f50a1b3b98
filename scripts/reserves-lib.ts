/** Shared plumbing of the reserves commands: arguments, provider, deployment record, progress bar. */
import { JsonRpcProvider } from "ethers";
import { readDeployment, type DeploymentRecord } from "./deploy/index";

export function rpcUrl(flag: string | undefined): string {
  return flag ?? process.env.MB_RPC_URL ?? "http://127.0.0.1:8545";
}

export function provider(url: string): JsonRpcProvider {
  return new JsonRpcProvider(url, undefined, { staticNetwork: true });
}

export function deployment(network: string): DeploymentRecord {
  const record = readDeployment(network);
  if (!record) throw new Error(`no deployments/${network}.json: deploy first (npm run deploy)`);
  return record;
}

/** A one-line progress bar on stderr, redrawn at most every 100 ms. */
export function progressBar(): (phase: string, done: number, total: number) => void {
  let last = 0;
  return (phase, done, total) => {
    const now = Date.now();
    if (done < total && now - last < 100) return;
    last = now;
    const width = 30;
    const filled = total === 0 ? width : Math.round((done / total) * width);
    const pct = total === 0 ? 100 : Math.floor((done / total) * 100);
    process.stderr.write(`\r${phase.padEnd(9)} [${"#".repeat(filled)}${" ".repeat(width - filled)}] ${pct}%`);
    if (done >= total) process.stderr.write("\n");
  };
}
