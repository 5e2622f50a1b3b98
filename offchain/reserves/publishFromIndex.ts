/**
 * Use case: publish an epoch from the service — snapshot the indexed state at the reserves indexer's confirmed
 * head, build, write the data set and publish the root with the reserve publisher's key. One publish at a time:
 * an in-process flag plus a store lease refuse a concurrent one (across instances too).
 */
import { randomBytes } from "node:crypto";
import { AppError } from "../shared/errors";
import { ReservesError } from "./errors";
import { IndexedLiabilitySource } from "./indexedSource";
import { RESERVES_INDEXER } from "./marginAccountsHandler";
import type { ReservesDeps } from "./ports";
import { publishEpoch, type PublishResult } from "./publish";

const LEASE = "reserves:publish";
const LEASE_MS = 10 * 60_000;
const processOwner = `reserves-${process.pid}-${randomBytes(4).toString("hex")}`;
let publishing = false;

export interface PublishRequest {
  minDepth?: number;
  uri?: string;
}

export async function publishFromIndex(deps: ReservesDeps, req: PublishRequest = {}): Promise<PublishResult> {
  const ledger = deps.publisherLedger;
  if (!ledger) throw new AppError("CONFLICT", "no reserve publisher key is configured (MB_RESERVE_PUBLISHER_KEY)");
  // claimed before the first await: a second request of this process is refused even while the lease is being taken
  // (the lease's owner is this process, so the lease alone would let it in)
  if (publishing) throw new AppError("CONFLICT", "another proof-of-reserves publish is running");
  publishing = true;
  let leased = false;
  const holder = deps.leaseHolder?.();
  const owner = holder?.owner ?? processOwner;
  try {
    leased = await deps.store.locks.tryAcquire(LEASE, owner, LEASE_MS, Date.now(), holder?.claim);
    if (!leased) throw new AppError("CONFLICT", "another proof-of-reserves publish is running");
    const cursor = await deps.store.chain.cursor(deps.indexerName ?? RESERVES_INDEXER);
    if (!cursor) throw new AppError("CONFLICT", "the reserves indexer has not indexed any block yet");
    const snapshotBlock = BigInt(cursor.blockNumber);
    const latest = await ledger.latestEpoch();
    if (latest > 0n) {
      const previous = (await ledger.getEpoch(latest)).snapshotBlock;
      if (snapshotBlock <= previous) {
        throw new AppError("CONFLICT", "no block was indexed since the latest epoch's snapshot", {
          details: { epoch: latest.toString(), snapshotBlock: previous.toString(), indexedHead: cursor.blockNumber },
        });
      }
    }
    const source = new IndexedLiabilitySource({
      store: deps.store,
      engine: deps.engine,
      assets: [...(await ledger.assets())],
      cashAsset: deps.cashAsset,
      snapshotBlock,
      secretKey: deps.secretKey,
      pending: deps.pending,
      indexerName: deps.indexerName,
    });
    const result = await publishEpoch({ ledger, source, dataDir: deps.dataDir, minDepth: req.minDepth, uri: req.uri });
    deps.log.info("reserves epoch published", {
      epoch: result.manifest.epoch,
      snapshotBlock: result.manifest.snapshotBlock,
      leafCount: result.manifest.leafCount,
      tx: result.txHash,
    });
    return result;
  } catch (err) {
    if (err instanceof ReservesError) {
      throw new AppError("CONFLICT", err.message, { details: { reason: err.code, ...err.details }, cause: err });
    }
    throw err;
  } finally {
    publishing = false;
    if (leased) await deps.store.locks.release(LEASE, owner);
  }
}
