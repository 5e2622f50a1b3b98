import { z } from "zod";
import { defineRoute, type CapabilityRoutes } from "../api";
import type { BreakerResetRecord, LiquidationIntent, Notification, Override } from "../store";
import { resetBreaker } from "./breakerReset";
import { ACCOUNT_STATES, readMarginBoard, type BoardRow } from "./marginBoard";
import { readOracleBoard, type OracleBoard } from "./oracleBoard";
import type { OpsDeps } from "./ports";
import { readScheduledOperations } from "./scheduled";

const Address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x address");
const Amount = z.string().openapi({ description: "integer, base units (cash: the cash token's decimals)" });
const STAFF = ["risk_officer", "operator", "auditor"] as const;

const OverrideView = z.object({
  scope: z.enum(["account", "asset"]),
  target: z.string(),
  reason: z.string(),
  createdBy: z.string(),
  createdAt: z.number(),
});
const IntentView = z.object({
  id: z.number(),
  status: z.enum(["pending", "mined", "reverted", "dropped"]),
  txHash: z.string(),
  triggerReason: z.string(),
  triggerAt: z.number().openapi({ description: "unix ms" }),
  updatedAt: z.number().openapi({ description: "unix ms" }),
  segments: z.number().nullable(),
  error: z.string().nullable(),
});
const NoticeView = z.object({
  kind: z.enum(["warning", "margin_call", "cured", "liquidated"]),
  createdAt: z.number().openapi({ description: "unix ms" }),
  deliveredAt: z.number().nullable(),
});
const BoardRowView = z.object({
  account: z.string(),
  state: z.enum(ACCOUNT_STATES),
  equity: Amount,
  positionValue: Amount,
  maintenanceReq: Amount,
  warningLine: Amount,
  pricesSafe: z.boolean(),
  deadline: z.number().nullable().openapi({ description: "margin-call deadline, unix seconds (chain time)" }),
  amountToCure: Amount.nullable(),
  lastIntent: IntentView.nullable().openapi({ description: "the keeper's last liquidation transaction" }),
  lastNotice: NoticeView.nullable().openapi({ description: "the keeper's last notice to the account" }),
  overrides: z.array(OverrideView),
});
const ResetView = z.object({
  id: z.string(),
  asset: z.string(),
  reason: z.string(),
  actor: z.string(),
  status: z.enum(["sending", "sent", "failed", "unknown"]),
  via: z.string().nullable(),
  txHash: z.string().nullable(),
  error: z.string().nullable(),
  createdAt: z.number(),
  updatedAt: z.number(),
});

const overrideView = (o: Override): z.input<typeof OverrideView> => ({ ...o });
const intentView = (i: LiquidationIntent): z.input<typeof IntentView> => ({
  id: i.id,
  status: i.status,
  txHash: i.txHash,
  triggerReason: i.triggerReason,
  triggerAt: i.triggerAt,
  updatedAt: i.updatedAt,
  segments: i.segments,
  error: i.error,
});
const noticeView = (n: Notification): z.input<typeof NoticeView> => ({
  kind: n.kind,
  createdAt: n.createdAt,
  deliveredAt: n.deliveredAt,
});
const rowView = (r: BoardRow): z.input<typeof BoardRowView> => ({
  ...r,
  equity: r.equity.toString(),
  positionValue: r.positionValue.toString(),
  maintenanceReq: r.maintenanceReq.toString(),
  warningLine: r.warningLine.toString(),
  amountToCure: r.amountToCure?.toString() ?? null,
  lastIntent: r.lastIntent ? intentView(r.lastIntent) : null,
  lastNotice: r.lastNotice ? noticeView(r.lastNotice) : null,
  overrides: r.overrides.map(overrideView),
});
const resetView = (r: BreakerResetRecord): z.input<typeof ResetView> => ({ ...r });

const OracleAssetView = z.object({
  asset: z.string(),
  symbol: z.string(),
  feed: z.string(),
  roundId: z.string(),
  answer: z.string().openapi({ description: "the feed's last answer, in its own decimals" }),
  decimals: z.number(),
  updatedAt: z.number().openapi({ description: "unix seconds (0: no round yet)" }),
  ageSeconds: z.number().nullable(),
  reporters: z.array(z.string()).openapi({ description: "signers of the last accepted report" }),
  quorum: z.number(),
  price: z.string().openapi({ description: "the router's price, 18 decimals" }),
  status: z.enum(["Safe", "Stale", "Deviating", "CircuitBroken", "Closed", "Unset"]),
  tripped: z.boolean(),
  trippedRoundId: z.string(),
  lastRoundId: z.string(),
  maxMove: z.string().openapi({ description: "18-decimal fraction; a larger move between rounds trips the breaker" }),
  maxStaleness: z.number(),
  lastReset: ResetView.nullable(),
});
const ResetPathView = z.object({
  available: z.boolean(),
  via: z.enum(["guardian", "router"]).nullable(),
  signer: z.string().nullable(),
  reason: z.string().nullable().openapi({ description: "why the reset is unavailable" }),
  delaySeconds: z.number().nullable(),
});
const oracleView = (b: OracleBoard) => ({
  block: b.block,
  chainTime: b.chainTime,
  reset: {
    available: b.reset.via !== null,
    via: b.reset.via,
    signer: b.reset.signer,
    reason: b.reset.via === null ? b.reset.reason : null,
    delaySeconds: b.reset.via === null ? (b.reset.delaySeconds ?? null) : null,
  },
  assets: b.assets.map((a) => ({
    ...a,
    roundId: a.roundId.toString(),
    answer: a.answer.toString(),
    price: a.price.toString(),
    trippedRoundId: a.trippedRoundId.toString(),
    lastRoundId: a.lastRoundId.toString(),
    maxMove: a.maxMove.toString(),
    lastReset: a.lastReset ? resetView(a.lastReset) : null,
  })),
});

const OperationView = z.object({
  operationId: z.string(),
  nonce: z.string(),
  status: z.enum(["pending", "ready", "executed", "canceled", "expired"]),
  target: z.string(),
  contract: z.string().nullable(),
  call: z.object({ function: z.string(), args: z.record(z.string(), z.string()) }).nullable(),
  data: z.string(),
  caller: z.string(),
  executableAt: z.number().openapi({ description: "ETA, unix seconds" }),
  scheduledBlock: z.number(),
  scheduledTxHash: z.string(),
  closedBlock: z.number().nullable(),
  closedTxHash: z.string().nullable(),
});

/** The operations console's staff reads and the breaker re-arm (issue 25). */
export function opsRoutes(deps: OpsDeps): CapabilityRoutes {
  return {
    name: "ops",
    routes: [
      defineRoute({
        method: "get",
        path: "/v1/risk/margin-calls",
        summary: "The margin-call board: accounts by state, deadlines, amounts to cure, the keeper's last action",
        description:
          "Every account the indexer has seen, valued at one block with MarginEngine's view (the batch lens); the " +
          "worst state first, then the nearest deadline. Healthy accounts without a position are only counted.",
        tags: ["risk", "ops"],
        roles: [...STAFF],
        write: false,
        query: z
          .object({
            state: z.enum(ACCOUNT_STATES).optional(),
            limit: z.coerce.number().int().min(1).max(1000).default(200),
          })
          .strict(),
        response: z.object({
          block: z.number(),
          chainTime: z.number(),
          keeperRunning: z.boolean(),
          cashDecimals: z.number(),
          counts: z.record(z.number()),
          accounts: z.array(BoardRowView),
          overrides: z.array(OverrideView),
        }),
        handler: async ({ query }) => {
          const b = await readMarginBoard(deps, query);
          const cash = deps.chain!.deployment.tokens.find((t) => t.kind === "cash");
          return {
            block: b.block,
            chainTime: b.chainTime,
            keeperRunning: deps.keeperRunning(),
            cashDecimals: cash?.decimals ?? 6,
            counts: b.counts,
            accounts: b.rows.map(rowView),
            overrides: b.overrides.map(overrideView),
          };
        },
      }),
      defineRoute({
        method: "get",
        path: "/v1/risk/oracle",
        summary: "Oracle feeds and circuit breakers per listed security, and whether this service can re-arm one",
        tags: ["risk", "ops"],
        roles: [...STAFF],
        write: false,
        response: z.object({
          block: z.number(),
          chainTime: z.number(),
          reset: ResetPathView,
          assets: z.array(OracleAssetView),
        }),
        handler: async () => oracleView(await readOracleBoard(deps)),
      }),
      defineRoute({
        method: "post",
        path: "/v1/risk/oracle/:asset/breaker/reset",
        summary: "Re-arm an asset's tripped circuit breaker on-chain (recorded before it is sent)",
        description:
          "Sent with the configured breaker reset key (risk.breakerResetKey): RiskGuardian.rearmBreaker when the key " +
          "holds GUARDIAN (immediate; refused unless the price is Safe after the reset), else " +
          "OracleRouter.resetCircuitBreaker when it holds RISK_OFFICER without delay. 503 when neither holds; 409 " +
          "when the breaker is not tripped or a re-arm of the asset is in progress.",
        tags: ["risk", "ops"],
        roles: ["risk_officer"],
        write: true,
        action: "risk.breaker.reset",
        params: z.object({ asset: Address }).strict(),
        body: z.object({ reason: z.string().trim().min(3).max(500) }).strict(),
        response: ResetView,
        handler: async ({ params, body, caller }) =>
          resetView(
            await resetBreaker(deps, params.asset, { reason: body.reason, actor: `${caller.role}:${caller.subject}` }),
          ),
      }),
      defineRoute({
        method: "get",
        path: "/v1/risk/oracle/resets",
        summary: "Breaker re-arm requests made here, newest first",
        tags: ["risk", "ops"],
        roles: [...STAFF],
        write: false,
        query: z
          .object({ asset: Address.optional(), limit: z.coerce.number().int().min(1).max(500).default(50) })
          .strict(),
        response: z.object({ resets: z.array(ResetView) }),
        handler: async ({ query }) => ({ resets: (await deps.store.ops.breakerResets(query)).map(resetView) }),
      }),
      defineRoute({
        method: "get",
        path: "/v1/risk/scheduled",
        summary: "Every AccessManager operation scheduled since deployment: decoded call, ETA, caller, outcome",
        tags: ["risk", "ops", "governance"],
        roles: [...STAFF],
        write: false,
        response: z.object({
          block: z.number(),
          chainTime: z.number(),
          riskDelaySeconds: z.number().openapi({ description: "the risk officer's execution delay at deployment" }),
          operations: z.array(OperationView),
        }),
        handler: async () => readScheduledOperations(deps),
      }),
    ],
  };
}
