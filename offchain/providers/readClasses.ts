import { CLASSES, TRANCHE_ID, type ClassName, type ProvidersChain } from "./chain";
import type { ClassesSummary } from "./schemas";

/** Requests read per class for the queue figures (the rest are counted, not read). */
export const QUEUE_READ_LIMIT = 200;

/** The queue of one class at `blockTag`: requests still waiting (remaining > 0) and the earliest due time. */
export async function readQueue(
  chain: ProvidersChain,
  name: ClassName,
  blockTag: number,
): Promise<{ head: number; tail: number; waiting: { ticket: number; dueAt: number; remaining: bigint }[] }> {
  const id = TRANCHE_ID[name];
  const [head, tail] = await chain.pool.queueOf(id, { blockTag });
  const first = Number(head) + 1;
  const last = Math.min(Number(tail), Number(head) + QUEUE_READ_LIMIT);
  const tickets = Array.from({ length: Math.max(0, last - first + 1) }, (_, i) => first + i);
  const requests = await Promise.all(tickets.map((t) => chain.pool.requestOf(id, t, { blockTag })));
  const waiting = requests
    .map((r, i) => ({ ticket: tickets[i], dueAt: Number(r.dueAt), remaining: r.remaining }))
    .filter((r) => r.remaining > 0n);
  return { head: Number(head), tail: Number(tail), waiting };
}

/**
 * Use case: the two share classes as a provider compares them — assets, shares, share price, buffer, notice, the
 * queue, the agreement terms — and the book they share (utilisation, lendable and claimable cash, the junior bound,
 * the gate), all at one block.
 */
export async function readClasses(chain: ProvidersChain): Promise<ClassesSummary> {
  const { pool } = chain;
  const blockTag = await chain.provider.getBlockNumber();
  const at = { blockTag };
  const block = await chain.provider.getBlock(blockTag);
  const [
    tranches,
    redemption,
    totalAssets,
    totalDebt,
    utilisation,
    lendable,
    claimable,
    earmarked,
    juniorRequired,
    room,
  ] = await Promise.all([
    pool.trancheParams(at),
    pool.redemptionParams(at),
    pool.totalAssets(at),
    pool.totalDebt(at),
    pool.utilisation(at),
    pool.lendableCash(at),
    pool.claimableCash(at),
    pool.earmarked(at),
    pool.juniorRequired(at),
    pool.ungatedRoom(at),
  ]);
  const classes = await Promise.all(
    CLASSES.map(async (name) => {
      const vault = chain.vaults[name];
      const id = TRANCHE_ID[name];
      const decimals = Number(await vault.decimals(at));
      const [assets, shares, price, symbol, [hash, version], queue] = await Promise.all([
        pool.trancheAssets(id, at),
        pool.trancheShares(id, at),
        vault.convertToAssets(10n ** BigInt(decimals), at),
        vault.symbol(at),
        vault.agreementTerms(at),
        readQueue(chain, name, blockTag),
      ]);
      return {
        class: name,
        vault: await vault.getAddress(),
        symbol,
        shareDecimals: decimals,
        totalAssets: assets.toString(),
        totalShares: shares.toString(),
        sharePrice: price.toString(),
        buffer: (name === "senior" ? tranches.seniorBuffer : tranches.juniorBuffer).toString(),
        noticeSeconds: Number(name === "senior" ? redemption.seniorNotice : redemption.juniorNotice),
        queuedRequests: queue.waiting.length + Math.max(0, queue.tail - queue.head - QUEUE_READ_LIMIT),
        nextDueAt: queue.waiting.length > 0 ? Math.min(...queue.waiting.map((r) => r.dueAt)) : null,
        terms: { hash, version: Number(version) },
      };
    }),
  );
  return {
    block: blockTag,
    chainTime: block?.timestamp ?? 0,
    classes,
    book: {
      totalAssets: totalAssets.toString(),
      totalDebt: totalDebt.toString(),
      utilisation: utilisation.toString(),
      lendableCash: lendable.toString(),
      claimableCash: claimable.toString(),
      earmarked: earmarked.toString(),
      juniorRequired: juniorRequired.toString(),
      seniorTargetRate: tranches.seniorRate.toString(),
      minJuniorRatio: tranches.minJuniorRatio.toString(),
      gate: {
        utilisation: redemption.gateUtilisation.toString(),
        fraction: redemption.gateFraction.toString(),
        windowSeconds: Number(redemption.gateWindow),
      },
      ungatedRoom: room.toString(),
      gated: room === 0n,
    },
  };
}
