import path from "node:path";
import { z } from "zod";
import { defineRoute, type CapabilityRoutes } from "../api";
import { AppError } from "../shared/errors";
import { accountSecret } from "./accountSecrets";
import { findClientProof } from "./dataset";
import { readEpoch, type EpochView } from "./epochView";
import type { ReservesDeps } from "./ports";
import { publishFromIndex } from "./publishFromIndex";
import { clientProofSchema } from "./proof";

const uint = z.string().openapi({ description: "unsigned integer as a decimal string" });
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte address");

const EpochSummary = z.object({
  epoch: uint,
  root: z.string(),
  snapshotId: z.string(),
  dataHash: z.string(),
  plainRoot: z.string(),
  snapshotBlock: uint,
  leafCount: uint,
  depth: z.number(),
  publishedAt: uint,
  uri: z.string(),
  assets: z.array(
    z.object({
      asset: z.string(),
      liabilities: uint,
      debt: uint,
      reserves: uint,
      ratio: uint.openapi({
        description: "reserves × 10^18 / liabilities, rounded down; 2^256 − 1 if nothing is owed",
      }),
    }),
  ),
});

/**
 * An epoch's data-set URI as the API shows it: a `file:` URI (epochs published before URIs became relative) is cut
 * to its `<chainId>/epoch-<n>/` tail, so no path of the server is shown (the chain keeps the original).
 */
function publicUri(uri: string): string {
  if (!/^file:/i.test(uri)) return uri;
  const m = /([0-9]+\/epoch-[0-9]+)\/?$/.exec(uri);
  return m ? `${m[1]}/` : "file:(withheld)";
}

function epochJson(e: EpochView): z.input<typeof EpochSummary> {
  return {
    epoch: e.epoch.toString(),
    root: e.root,
    snapshotId: e.snapshotId,
    dataHash: e.dataHash,
    plainRoot: e.plainRoot,
    snapshotBlock: e.snapshotBlock.toString(),
    leafCount: e.leafCount.toString(),
    depth: e.depth,
    publishedAt: e.publishedAt.toString(),
    uri: publicUri(e.uri),
    assets: e.assets.map((a) => ({
      asset: a.asset,
      liabilities: a.liabilities.toString(),
      debt: a.debt.toString(),
      reserves: a.reserves.toString(),
      ratio: a.ratio.toString(),
    })),
  };
}

async function knownEpoch(deps: ReservesDeps, requested?: number): Promise<bigint> {
  const latest = await deps.ledger.latestEpoch();
  const epoch = requested === undefined ? latest : BigInt(requested);
  if (epoch === 0n || epoch > latest) {
    throw new AppError("NOT_FOUND", "no such epoch", {
      details: { epoch: String(requested ?? 0), latest: latest.toString() },
    });
  }
  return epoch;
}

async function epochDir(deps: ReservesDeps, epoch: bigint): Promise<string> {
  const chainId = (await deps.ledger.runner!.provider!.getNetwork()).chainId;
  return path.join(deps.dataDir, chainId.toString(), `epoch-${epoch}`);
}

/** Proof of reserves over HTTP: published epochs (public), a client's own proof and secret, the operator's publish. */
export function reservesRoutes(deps: ReservesDeps): CapabilityRoutes {
  return {
    name: "reserves",
    routes: [
      defineRoute({
        method: "get",
        path: "/v1/reserves/epochs",
        summary: "Published proof-of-reserves epochs, newest first (root, totals, reserves, ratio per asset)",
        description: "Read from the ReserveLedger; the same data is public on-chain.",
        tags: ["reserves"],
        roles: "public",
        write: false,
        query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) }).strict(),
        response: z.object({ latest: uint, epochs: z.array(EpochSummary) }),
        handler: async ({ query }) => {
          const latest = await deps.ledger.latestEpoch();
          const ids: bigint[] = [];
          for (let e = latest; e > 0n && ids.length < query.limit; e--) ids.push(e);
          const epochs = await Promise.all(ids.map((e) => readEpoch(deps.ledger, e)));
          return { latest: latest.toString(), epochs: epochs.map(epochJson) };
        },
      }),
      defineRoute({
        method: "get",
        path: "/v1/reserves/epochs/:epoch",
        summary: "One published epoch",
        tags: ["reserves"],
        roles: "public",
        write: false,
        params: z.object({ epoch: z.coerce.number().int().min(1) }).strict(),
        response: EpochSummary,
        handler: async ({ params }) => epochJson(await readEpoch(deps.ledger, await knownEpoch(deps, params.epoch))),
      }),
      defineRoute({
        method: "get",
        path: "/v1/reserves/me/proof",
        summary: "The calling client's own inclusion proof of an epoch (latest unless `epoch`)",
        description:
          "Verify it offline (scripts/reserves-verify.ts --proof) and with ReserveLedger.verifyInclusion. `account`, if given, must be the caller's own account.",
        tags: ["reserves"],
        roles: ["client"],
        write: false,
        query: z.object({ epoch: z.coerce.number().int().min(1).optional(), account: address.optional() }).strict(),
        response: clientProofSchema,
        handler: async ({ query, caller }) => {
          const own = caller.subject.toLowerCase();
          if (query.account !== undefined && query.account.toLowerCase() !== own) {
            throw new AppError("FORBIDDEN", "a client may read only its own proof");
          }
          const epoch = await knownEpoch(deps, query.epoch);
          const proof = findClientProof(await epochDir(deps, epoch), own);
          if (!proof)
            throw new AppError("NOT_FOUND", "no proof for this account in the epoch", {
              details: { epoch: epoch.toString() },
            });
          return proof;
        },
      }),
      defineRoute({
        method: "get",
        path: "/v1/reserves/me/secret",
        summary: "The calling client's proof-of-reserves secret (created on first request or first sight on-chain)",
        description: "Needed to recompute the account commitment of its proofs; never published.",
        tags: ["reserves"],
        roles: ["client"],
        write: false,
        audited: true,
        action: "reserves.secret",
        response: z.object({ account: z.string(), secret: z.string() }),
        handler: async ({ caller }) => {
          const account = caller.subject.toLowerCase();
          return { account, secret: await accountSecret(deps.store, deps.secretKey, account) };
        },
      }),
      defineRoute({
        method: "post",
        path: "/v1/reserves/publish",
        summary: "Snapshot the indexed state at the confirmed head, build, write the data set and publish the epoch",
        // The answer names the data set by its published URI, never by a path of the server.
        description: "One publish at a time (409 while another runs); idempotent per Idempotency-Key.",
        tags: ["reserves"],
        roles: ["operator"],
        write: true,
        action: "reserves.publish",
        status: 201,
        body: z
          .object({
            minDepth: z.number().int().min(1).max(32).optional(),
            uri: z.string().min(1).max(512).optional(),
          })
          .strict(),
        response: z.object({
          epoch: uint,
          snapshotBlock: uint,
          root: z.string(),
          leafCount: z.number(),
          depth: z.number(),
          liabilities: z.array(uint),
          debt: z.array(uint),
          txHash: z.string(),
          uri: z.string().openapi({ description: "the data set's URI as published (relative to the data directory)" }),
        }),
        handler: async ({ body }) => {
          const r = await publishFromIndex(deps, body);
          return {
            epoch: r.manifest.epoch,
            snapshotBlock: r.manifest.snapshotBlock,
            root: r.manifest.root,
            leafCount: r.manifest.leafCount,
            depth: r.manifest.depth,
            liabilities: r.manifest.liabilities,
            debt: r.manifest.debt,
            txHash: r.txHash,
            uri: r.uri,
          };
        },
      }),
    ],
  };
}
