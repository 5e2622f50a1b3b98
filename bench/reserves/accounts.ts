import { randomBytes } from "node:crypto";
import type { AccountLiabilities } from "../../offchain/reserves";

/** Synthetic accounts: random secrets, amounts from a fixed-seed LCG (cash up to 10^12 base units, shares < 10^6). */
export function syntheticAccounts(n: number, assets: number): AccountLiabilities[] {
  const secrets = randomBytes(32 * n).toString("hex");
  let x = 0x2545f491;
  const next = (): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x;
  };
  const out: AccountLiabilities[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const owed: bigint[] = [];
    const debt: bigint[] = [];
    for (let a = 0; a < assets; a++) {
      owed.push(a === 0 ? BigInt(next()) * 233n : BigInt(next() % 1_000_000));
      debt.push(a === 0 && i % 3 === 0 ? BigInt(next()) * 100n : 0n);
    }
    out[i] = { accountId: `acct-${i}`, secret: `0x${secrets.slice(64 * i, 64 * i + 64)}`, owed, debt };
  }
  return out;
}

/** The same accounts as (address, amount of asset 0) pairs for the plain-inclusion libraries. */
export function addressOf(i: number): string {
  return `0x${i.toString(16).padStart(40, "0")}`;
}
