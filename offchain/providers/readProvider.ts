import { CLASSES, TRANCHE_ID, type ProvidersChain } from "./chain";
import { QUEUE_READ_LIMIT, readQueue } from "./readClasses";
import type { ProviderSummary } from "./schemas";

const sum = (xs: bigint[]): bigint => xs.reduce((a, b) => a + b, 0n);

/**
 * Use case: one provider's own figures per class — shares and their value, what it deposited and took out, what it
 * earned (or lost to defaults), what is pending and claimable, its agreement — and each of its waiting redemption
 * requests with its place in the queue. Read from the chain (balances and views at one block, the history from the
 * vaults' and the pool's events since deployment).
 */
export async function readProvider(chain: ProvidersChain, provider: string): Promise<ProviderSummary> {
  const { pool, deployment } = chain;
  const blockTag = await chain.provider.getBlockNumber();
  const at = { blockTag };
  const range = [deployment.deployBlock, blockTag] as const;
  const classes = [];
  const requests: ProviderSummary["requests"] = [];
  for (const name of CLASSES) {
    const vault = chain.vaults[name];
    const id = TRANCHE_ID[name];
    const [shares, [pendingShares, claimableShares, claimableAssets], agreement, [, currentVersion], deposits, claims] =
      await Promise.all([
        vault.balanceOf(provider, at),
        pool.redemptionsOf(id, provider, at),
        vault.agreementOf(provider, at),
        vault.agreementTerms(at),
        vault.queryFilter(vault.filters.Deposit(undefined, provider), ...range),
        pool.queryFilter(pool.filters.RedeemClaimed(id, provider), ...range),
      ]);
    const [value, pendingValue] = await Promise.all([
      vault.convertToAssets(shares, at),
      vault.convertToAssets(pendingShares, at),
    ]);
    const deposited = sum(deposits.map((e) => e.args.assets));
    const withdrawn = sum(claims.map((e) => e.args.assets));
    classes.push({
      class: name,
      shares: shares.toString(),
      value: value.toString(),
      deposited: deposited.toString(),
      withdrawn: withdrawn.toString(),
      earned: (value + pendingValue + claimableAssets + withdrawn - deposited).toString(),
      pendingShares: pendingShares.toString(),
      claimableShares: claimableShares.toString(),
      claimableAssets: claimableAssets.toString(),
      agreement: {
        signedVersion: Number(agreement.termsVersion),
        currentVersion: Number(currentVersion),
        signedAt: agreement.signedAt > 0n ? Number(agreement.signedAt) : null,
        anchoredAt: agreement.anchoredAt > 0n ? Number(agreement.anchoredAt) : null,
        current: agreement.anchoredAt > 0n && agreement.termsVersion === currentVersion,
      },
    });
    if (pendingShares === 0n) continue;
    const [queued, queue] = await Promise.all([
      pool.queryFilter(pool.filters.RedeemQueued(id, undefined, provider), ...range),
      readQueue(chain, name, blockTag),
    ]);
    const waiting = new Map(queue.waiting.map((r, i) => [r.ticket, { ...r, ahead: i }]));
    for (const e of queued) {
      const ticket = Number(e.args.ticket);
      let w = waiting.get(ticket);
      if (!w && ticket > queue.head + QUEUE_READ_LIMIT) {
        // Beyond the requests read: its own state, and every request between the head and it counted as ahead.
        const r = await pool.requestOf(id, ticket, at);
        if (r.remaining > 0n)
          w = { ticket, dueAt: Number(r.dueAt), remaining: r.remaining, ahead: ticket - queue.head - 1 };
      }
      if (!w) continue;
      requests.push({
        class: name,
        ticket,
        sharesRequested: e.args.shares.toString(),
        remaining: w.remaining.toString(),
        dueAt: w.dueAt,
        ahead: w.ahead,
        queuedTxHash: e.transactionHash,
      });
    }
  }
  return { provider, block: blockTag, classes, requests };
}
