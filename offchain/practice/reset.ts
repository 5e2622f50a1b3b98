import { randomUUID } from "node:crypto";
import type { PracticeAgreement, PracticeChain } from "../chain/practiceChain";
import { AppError } from "../shared/errors";
import type { ServiceInstance } from "../shared/instance";
import type { Store } from "../store";

/** What the reset needs of the order books: the caller's resting orders and a cancel. */
export interface PracticeOrders {
  openOrders(caller: string): Promise<{ orders: Array<{ id: number }> }>;
  cancel(caller: string, id: number): Promise<unknown>;
}

export interface ResetDeps {
  store: Store;
  chain: PracticeChain;
  /** The agreement a practice account borrows under, generated for it from the practice chain (capability.ts). */
  agreementFor?(account: string, platform: string): Promise<PracticeAgreement>;
  orders?: PracticeOrders;
  instance(): ServiceInstance | undefined;
}

/** How long one reset may hold its account's lease (a dead holder's lease expires after this). */
const RESET_LEASE_MS = 120_000;
/** How long a reset waits for another reset of the same account to finish. */
const RESET_WAIT_MS = 90_000;

/**
 * Resets one practice account: cancels its resting orders, then puts the chain state back to the start
 * (PracticeChain.reset). Resets of one account run one at a time across every instance on the store (a lease per
 * account, each request its own owner), so two at once are serialised and the second finds the start (no
 * transaction). Idempotent: a reset of an account at its start sends nothing.
 */
export async function resetPractice(
  deps: ResetDeps,
  account: string,
): Promise<{ account: string; cancelledOrders: number; transactions: number }> {
  if ((await deps.chain.walletOf(account)) === undefined)
    throw new AppError("NOT_FOUND", "no practice account is open for this caller", { details: { account } });
  return withAccountLease(deps, account, async () => {
    let cancelledOrders = 0;
    if (deps.orders) {
      for (const o of (await deps.orders.openOrders(account)).orders) {
        await deps.orders.cancel(account, o.id);
        cancelledOrders++;
      }
    }
    const { txs } = await deps.chain.reset(account);
    return { account, cancelledOrders, transactions: txs };
  });
}

/** Opens a wallet's practice account under the same lease as its resets (two opens at once fund it once). */
export async function openPractice(
  deps: ResetDeps,
  wallet: string,
  tier: number,
): Promise<{ account: string; opened: boolean }> {
  const account = deps.chain.accountOf(wallet);
  return withAccountLease(deps, account, async () => {
    const opened = await deps.chain.open(wallet, tier);
    // The practice deployment requires an agreement to borrow, as the real one does: one per account, generated
    // from the practice chain's schedule at the account's verified tier (again after it expired).
    const platform = deps.chain.operatorAddress();
    if (deps.agreementFor && platform && !(await deps.chain.bound(account))) {
      await deps.chain.bind(wallet, await deps.agreementFor(account, platform));
      return { account, opened: true };
    }
    return opened;
  });
}

/**
 * Runs `fn` holding the account's lease: one write to a practice account at a time (open, borrow, repay, reset),
 * across every instance on the store.
 */
export async function withAccountLease<T>(deps: ResetDeps, account: string, fn: () => Promise<T>): Promise<T> {
  const lease = `practice-account:${account.toLowerCase()}`;
  const owner = `${deps.instance()?.id ?? "local"}#${randomUUID()}`;
  await acquire(deps.store, lease, owner);
  try {
    return await fn();
  } finally {
    await deps.store.locks.releaseLease(lease, owner);
  }
}

/**
 * Waits for the account's reset lease. Taken without this instance's claim: with it, a reset in flight in this
 * very process (same instance, same epoch) could not be told apart from a dead predecessor's.
 */
async function acquire(store: Store, lease: string, owner: string): Promise<void> {
  const deadline = Date.now() + RESET_WAIT_MS;
  for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
    if ((await store.locks.acquireLease(lease, owner, RESET_LEASE_MS)) !== undefined) return;
    if (Date.now() > deadline)
      throw new AppError("CONFLICT", "another reset of this practice account is still running; try again");
    await new Promise((r) => setTimeout(r, delay));
  }
}
