/**
 * Use case: the per-account proof-of-reserves secret. Generated once per account on first sight (32 random
 * bytes), stored sealed with the service's secret key (AES-256-GCM, bound to the account), handed to the account's
 * own client through the API and to the snapshot; it never goes on-chain nor into the auditor data set.
 */
import { open, randomHex, seal } from "../shared/crypto";
import type { Repositories } from "../store";

const aad = (account: string): string => `reserves-secret:${account.toLowerCase()}`;

/** Creates and persists the account's secret if it has none yet (the indexer calls this on first sight). */
export async function ensureAccountSecret(
  repos: Pick<Repositories, "reserves">,
  secretKey: Buffer,
  account: string,
): Promise<string> {
  const key = account.toLowerCase();
  return (
    (await repos.reserves.secret(key)) ??
    (await repos.reserves.insertSecretIfAbsent(key, seal(secretKey, `0x${randomHex(32)}`, aad(key))))
  );
}

/** The account's secret as 0x-prefixed hex, created and persisted if it has none yet. */
export async function accountSecret(
  repos: Pick<Repositories, "reserves">,
  secretKey: Buffer,
  account: string,
): Promise<string> {
  const key = account.toLowerCase();
  const stored = await ensureAccountSecret(repos, secretKey, key);
  return open(secretKey, stored, aad(key));
}
