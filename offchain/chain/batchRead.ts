import { getBytes, type Provider } from "ethers";
import { MarginBatchLens__factory } from "../../typechain-types";
import { withRetry, type RetryOptions } from "./retry";

/** The fields of IMarginEngine.AccountView the keeper uses (the engine's own figures), with the engine balances. */
export interface AccountValuation {
  account: string;
  positionValue: bigint;
  equity: bigint;
  maintenanceReq: bigint;
  warningLine: bigint;
  hardLine: bigint;
  state: number;
  callDeadline: number;
  pricesSafe: boolean;
  /** asset (lower case) → units held in the engine; only assets with a balance, none when positionValue is 0. */
  balances: Map<string, bigint>;
}

export interface BatchValuation {
  accounts: AccountValuation[];
  /** asset (lower case) → the router's price (18 dec), 0 when it has none (the cash token). */
  prices: Map<string, bigint>;
}

const LENS = new MarginBatchLens__factory();
/** EIP-170: a constructor may return at most this many bytes (the lens's answer is its "code"). */
const MAX_RETURN = 24_576;

/** Most accounts one lens call can value with `assets` listed assets (its packed answer stays under EIP-170). */
export function lensCapacity(assets: number): number {
  return Math.floor((MAX_RETURN - 32 * assets) / (90 + 16 * assets));
}

/**
 * Values `accounts` with the engine's accountView, their engine balances of `assets` and the router's prices, all at
 * one block, in ONE eth_call: the creation code of MarginBatchLens (never deployed) runs as a call without `to` and
 * returns the packed answer. At most `lensCapacity(assets.length)` accounts per call (≈ 150 with four assets), about
 * 90,000 gas each for a one-security account, inside a node's default eth_call gas cap. Transient RPC failures are
 * retried; a revert (an account whose view reverts) passes through.
 */
export async function valueAccounts(
  provider: Provider,
  contracts: { engine: string; router: string },
  accounts: string[],
  assets: string[],
  retry: RetryOptions,
  blockTag: number | "latest" = "latest",
): Promise<BatchValuation> {
  const tx = await LENS.getDeployTransaction(contracts.engine, contracts.router, accounts, assets);
  const bytes = getBytes(await withRetry(() => provider.call({ data: tx.data, blockTag }), retry));
  let at = 0;
  const take = (width: number): bigint => {
    let v = 0n;
    for (let k = 0; k < width; k++) v = (v << 8n) | BigInt(bytes[at + k]);
    at += width;
    return v;
  };
  const lowerAssets = assets.map((a) => a.toLowerCase());
  const prices = new Map(lowerAssets.map((a) => [a, take(32)]));
  const out: AccountValuation[] = accounts.map((account) => {
    const state = Number(take(1));
    const pricesSafe = take(1) === 1n;
    const callDeadline = Number(take(8));
    const rawEquity = take(16);
    const equity = rawEquity >= 1n << 127n ? rawEquity - (1n << 128n) : rawEquity;
    const positionValue = take(16);
    const maintenanceReq = take(16);
    const warningLine = take(16);
    const hardLine = take(16);
    const balances = new Map<string, bigint>();
    for (const a of lowerAssets) {
      const units = take(16);
      if (units > 0n) balances.set(a, units);
    }
    return {
      account: account.toLowerCase(),
      state,
      pricesSafe,
      callDeadline,
      equity,
      positionValue,
      maintenanceReq,
      warningLine,
      hardLine,
      balances,
    };
  });
  return { accounts: out, prices };
}
