import { AbiCoder, ParamType, type Provider } from "ethers";
import { MarginBatchLens__factory, MarginEngine__factory } from "../../typechain-types";
import { withRetry, type RetryOptions } from "./retry";

/** The fields of IMarginEngine.AccountView the keeper and dashboards use (the engine's own figures). */
export interface AccountValuation {
  account: string;
  cash: bigint;
  debt: bigint;
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
  blockTag: number | "latest";
}

const VIEW = MarginEngine__factory.createInterface().getFunction("accountView")!.outputs[0];
const FIELDS = VIEW.components!.map((c) => c.name);
const RESULT = [
  ParamType.from(`${VIEW.format("sighash")}[]`),
  ParamType.from("uint256[]"),
  ParamType.from("uint256[]"),
];
const LENS = new MarginBatchLens__factory();

/**
 * Values `accounts` with the engine's accountView, their engine balances of `assets` and the router's prices, all at
 * one block, in ONE eth_call: the creation code of MarginBatchLens (never deployed) runs as a call without `to` and
 * returns the answer. About 80,000–100,000 gas per one-security account, so a call of 200 accounts stays inside a
 * node's default eth_call gas cap (the block gas limit, 30,000,000 on hardhat). Transient RPC failures are retried.
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
  const ret = await withRetry(() => provider.call({ data: tx.data, blockTag }), retry);
  const [views, balances, prices] = AbiCoder.defaultAbiCoder().decode(RESULT, ret) as unknown as [
    unknown[][],
    bigint[],
    bigint[],
  ];
  const lowerAssets = assets.map((a) => a.toLowerCase());
  const out: AccountValuation[] = views.map((v, i) => {
    const f = (name: string): unknown => v[FIELDS.indexOf(name)];
    const held = new Map<string, bigint>();
    lowerAssets.forEach((a, j) => {
      const units = balances[i * assets.length + j];
      if (units > 0n) held.set(a, units);
    });
    return {
      account: accounts[i].toLowerCase(),
      cash: f("cash") as bigint,
      debt: f("debt") as bigint,
      positionValue: f("positionValue") as bigint,
      equity: f("equity") as bigint,
      maintenanceReq: f("maintenanceReq") as bigint,
      warningLine: f("warningLine") as bigint,
      hardLine: f("hardLine") as bigint,
      state: Number(f("state")),
      callDeadline: Number(f("callDeadline")),
      pricesSafe: f("pricesSafe") as boolean,
      balances: held,
    };
  });
  return { accounts: out, prices: new Map(lowerAssets.map((a, j) => [a, prices[j]])), blockTag };
}
