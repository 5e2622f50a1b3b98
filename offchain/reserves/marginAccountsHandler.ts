import { MarginEngine__factory } from "../../typechain-types";
import type { ContractHandler } from "../chain";
import { ensureAccountSecret } from "./accountSecrets";

/** The MarginEngine events that name a margin account, and the arguments that do. */
export const ACCOUNT_EVENTS: Record<string, readonly string[]> = {
  CollateralDeposited: ["account"],
  CollateralWithdrawn: ["account"],
  Borrowed: ["account"],
  Repaid: ["account"],
  AccountTransfer: ["from", "to"],
  TradeLegsSettled: ["buyer", "seller"],
  Liquidated: ["account", "liquidator"],
  DefaultSettled: ["account"],
};

/** Name of the reserves' own indexer (its own cursor), so it never shares a contract address with another handler. */
export const RESERVES_INDEXER = "reserves";

/**
 * MarginEngine → reserves_accounts: every address that appears in an account event, with the block it was
 * first seen at. The liabilities snapshot at block B reads the balances of the accounts first seen at or before B.
 * A liquidator appears too: it holds a margin account (it pays for seized collateral from it).
 * With `secretKey`, an account's proof-of-reserves secret is created the first time it is seen (kept across rewinds).
 */
export function reservesMarginAccountsHandler(engineAddress: string, secretKey?: Buffer): ContractHandler {
  return {
    contract: "MarginEngine",
    address: engineAddress,
    iface: MarginEngine__factory.createInterface(),
    events: Object.keys(ACCOUNT_EVENTS),
    async handle(e, tx) {
      for (const arg of ACCOUNT_EVENTS[e.event] ?? []) {
        const account = String(e.args[arg]);
        await tx.reserves.addAccount(account, e.blockNumber);
        if (secretKey) await ensureAccountSecret(tx, secretKey, account);
      }
    },
    async reset(tx) {
      await tx.reserves.clearAccounts();
    },
  };
}
