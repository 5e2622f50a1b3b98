import path from "node:path";
import { z } from "zod";
import { AppError } from "./errors";

/**
 * The service's one typed configuration, parsed once at start. Nothing else in offchain/ reads process.env:
 * `configFromEnv()` maps environment variables onto the schema and `parseConfig()` validates any object.
 */
const hex32 = z
  .string()
  .regex(/^(0x)?[0-9a-fA-F]{64}$/, "must be 32 bytes of hex")
  .transform((s) => Buffer.from(s.replace(/^0x/, ""), "hex"));
const privateKey = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "must be a 0x-prefixed 32-byte private key");

/** The custody bank account of development and the demo (never used in production: set MB_CUSTODY_ACCOUNT there). */
export const DEV_CUSTODY = {
  initiatingParty: { name: "MarginBridge Platform Ltd. (development)" },
  debtor: { name: "MarginBridge Custody Account (development)" },
  debtorAccount: { other: "31009999999999" },
  debtorAgent: { clearingMemberId: "102100099996", clearingSystem: "CNAPS" },
};

const custodyAccount = z.preprocess(
  (v) => {
    if (typeof v !== "string") return v;
    try {
      return JSON.parse(v) as unknown;
    } catch {
      return v; // not JSON: refused below as "expected object", naming the setting
    }
  },
  z
    .object({
      initiatingParty: z
        .object({ name: z.string().min(1).max(140), orgId: z.string().min(1).max(35).optional() })
        .strict(),
      debtor: z.object({ name: z.string().min(1).max(140) }).strict(),
      debtorAccount: z.union([
        z.object({ iban: z.string().regex(/^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$/) }).strict(),
        z.object({ other: z.string().min(1).max(34), scheme: z.string().min(1).max(35).optional() }).strict(),
      ]),
      debtorAgent: z.union([
        z.object({ bic: z.string().regex(/^[A-Z0-9]{8}([A-Z0-9]{3})?$/) }).strict(),
        z
          .object({ clearingMemberId: z.string().min(1).max(35), clearingSystem: z.string().min(1).max(35).optional() })
          .strict(),
      ]),
    })
    .strict(),
);
const port = z.coerce.number().int().min(0).max(65535);

/**
 * Keys for development and tests only: hardhat's well-known account #1 (the KYC officer on a dev chain) and
 * fixed data keys. `parseConfig` refuses them when env is "production".
 */
export const DEV_KEYS = {
  kycOfficerKey: "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
  kycDataKey: "6d625f6465765f6b79635f646174615f6b65795f6e6f745f666f725f70726f64",
  apiSecretKey: "6d625f6465765f6170695f7365637265745f6b65795f6e6f745f666f725f7072",
  /** hardhat account #5: the reserve publisher on a dev chain (devRoleHolders). */
  reservePublisherKey: "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
  /** hardhat account #9: the dev liquidation keeper (needs KYC and mbCNY in its margin account). */
  keeperKey: "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
  keeperWebhookSecret: "mb-dev-webhook-secret",
  /** hardhat account #13: serves the capital providers' redemption queue on a dev chain (any funded key may). */
  queueServerKey: "0x47c99abed3324a2707c28affff1267e45918ec8c3f20b8aa892e8b065d2942dd",
  /** hardhat account #15: settles expired option series on a dev chain (fix, exercise, release: any funded key may). */
  optionSettlerKey: "0x8166f546bab6da521a8369cab06c5d2b9e46670292d85c875ee9ec20e84ffb61",
  /** hardhat account #3: the risk officer (and its own guardian) on a dev chain; re-arms oracle breakers. */
  riskOfficerKey: "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
} as const;

/**
 * The practice (paper-trading) deployment's development keys: keccak256("marginbridge practice development key: "
 * + role). Its own role holders, so that the practice service never shares a sender's nonces with the real one.
 * The oracle reporters are the real ones (they only sign; PRACTICE_DEV_KEYS.relayer sends their reports).
 */
export const PRACTICE_DEV_KEYS = {
  admin: "0x1206bce9c6135734634b55e0abdb70b0ed5dc5db6aee788849ad0c8abd5559b8",
  kycOfficer: "0xb8cd932f6737ce3a8c132fe65cdfec341032ff253ec57b511bb9f8977b6ee385",
  custodian: "0xa99c23f654411e827fa8d57c74436dd1dcdad05970de7a24e4760d74fd97cc83",
  riskOfficer: "0x045748130187112d014409a7a9cd9035302a283c8277a46f9554ffdee7d0ec37",
  operator: "0xc187e406bd5210ef32b83a90c09b49b85bf22d9be988afeb34b54b375782e56e",
  reservePublisher: "0x0ad105451ce857b3bdbac8dd5bd6ddf041b98af7f4bc2e036e67bb9a5e1edcd8",
  queueServer: "0xcb40fe4bc3fa13077d52324c1f11fd247c185d648377e5809dc6b9047f25e5b9",
  relayer: "0x93fd0a596d2c6c51907c3fa7bb0b3eeb8bd1f55e6345cd4c9cff394d7a3eb857",
  /** Derives each client's practice account key (offchain/practice). */
  accountSeed: "0xa36941717a8a20abf6319ee2d87f7081ccfa6f23c84f47aca4c73371a9134e92",
} as const;

/** hardhat's well-known account #4, the operator on a dev chain (refused in production). */
export const DEV_OPERATOR_KEY = "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a";

export const ConfigSchema = z
  .object({
    env: z.enum(["development", "test", "production"]).default("development"),
    dataDir: z.string().min(1).default(".data"),
    log: z.object({ level: z.enum(["debug", "info", "warn", "error", "silent"]).default("info") }).default({}),
    store: z
      .discriminatedUnion("engine", [
        z.object({ engine: z.literal("sqlite"), path: z.string().min(1).optional() }),
        z.object({
          engine: z.literal("postgres"),
          url: z.string().min(1),
          poolSize: z.coerce.number().int().min(1).max(100).default(10),
        }),
      ])
      .default({ engine: "sqlite" }),
    chain: z
      .object({
        rpcUrl: z.string().url().default("http://127.0.0.1:8545"),
        network: z.string().min(1).default("localhost"),
        deploymentsDir: z.string().min(1).optional(),
        /** Blocks a log must be buried under before the indexer records it. */
        confirmations: z.coerce.number().int().min(0).max(1000).default(2),
        pollIntervalMs: z.coerce.number().int().min(10).default(1000),
        /** Largest block range asked of eth_getLogs at once. */
        batchBlocks: z.coerce.number().int().min(1).max(100_000).default(2000),
        rpcRetries: z.coerce.number().int().min(0).max(20).default(4),
        rpcRetryBaseMs: z.coerce.number().int().min(1).default(200),
        /** Deadline of one JSON-RPC request, and of a read's retries: a stalled node answers 503 after this (ms). */
        rpcTimeoutMs: z.coerce.number().int().min(100).max(120_000).default(4_000),
        /** Signs KycRegistry writes. Absent: the KYC capability cannot approve on-chain. */
        kycOfficerKey: privateKey.optional(),
        /** Signs ReserveLedger.publish. Absent: the service cannot publish proof-of-reserves epochs. */
        reservePublisherKey: privateKey.optional(),
      })
      .default({}),
    api: z
      .object({
        host: z.string().default("127.0.0.1"),
        port: port.default(8080),
        /** How far a request's timestamp may be from the server clock. */
        timestampWindowMs: z.coerce
          .number()
          .int()
          .min(1000)
          .default(5 * 60_000),
        rateLimitPerMinute: z.coerce.number().int().min(1).default(600),
        bodyLimitBytes: z.coerce
          .number()
          .int()
          .min(1024)
          .default(64 * 1024),
        /** AES-256-GCM key sealing API secrets and TOTP seeds at rest. */
        secretKey: hex32,
        /** A separate listener for Prometheus' GET /metrics (off unless set; GET /v1/metrics needs an operator key). */
        metricsPort: port.optional(),
        metricsHost: z.string().default("127.0.0.1"),
        /** Readiness: how long the chain may take to answer its probe (ms). */
        readyTimeoutMs: z.coerce.number().int().min(100).max(60_000).default(2_000),
        /** Readiness: how many blocks the indexer may trail the chain's head. */
        readyMaxLagBlocks: z.coerce.number().int().min(0).default(50),
        /** Wallet sign-in (EIP-4361): how long a session lasts (short: it is a bearer credential in a cookie). */
        walletSessionTtlSeconds: z.coerce.number().int().min(60).max(86_400).default(1_800),
        /** How long a sign-in nonce may wait for its signed message. */
        siweNonceTtlSeconds: z.coerce.number().int().min(30).max(3_600).default(300),
        /** Hosts (host[:port]) a sign-in message may name; empty: the host the request was sent to. */
        siweDomains: z
          .preprocess(
            (v) =>
              typeof v === "string"
                ? v
                    .split(",")
                    .map((d) => d.trim())
                    .filter(Boolean)
                : v,
            z.array(z.string().min(1)),
          )
          .default([]),
      })
      .default({ secretKey: DEV_KEYS.apiSecretKey }),
    kyc: z
      .object({
        /** AES-256-GCM key sealing identity data at rest. */
        dataKey: hex32,
        sanctionsFile: z.string().min(1).optional(),
        /** Name similarity (0..1) at or above which a sanctions entry counts as a (near) match. */
        fuzzyThreshold: z.coerce.number().min(0.5).max(1).default(0.85),
        /** Applications whose tier is above this go to officer review. */
        reviewAboveTier: z.coerce.number().int().min(0).max(5).default(3),
        validityDays: z.coerce.number().int().min(1).max(3650).default(365),
        /** A claimed KycRegistry write older than this is resolved by the reconciliation job (ms). */
        claimTtlMs: z.coerce.number().int().min(1000).default(300_000),
        /** How often the reconciliation job compares KycRegistry with the records (ms). */
        reconcileIntervalMs: z.coerce.number().int().min(1000).default(60_000),
      })
      .default({ dataKey: DEV_KEYS.kycDataKey }),
    settlement: z
      .object({
        /** Signs SettlementHub.settleBatch and AgreementRegistry.anchor. Absent: no batcher, no anchoring. */
        operatorKey: privateKey.optional(),
        /** Most queued fills looked at for one batch. */
        maxFills: z.coerce.number().int().min(1).max(1000).default(100),
        /** eth_estimateGas a batch may reach; larger batches are cut. */
        blockGasBudget: z.coerce.bigint().min(300_000n).default(15_000_000n),
        intervalMs: z.coerce.number().int().min(100).default(2000),
        /** An AgreementRegistry.anchor older than this is settled from the chain by reconciliation (ms). */
        anchorClaimTtlMs: z.coerce.number().int().min(1000).default(300_000),
        /**
         * The platform's close-out account: after an ended agreement's close-out deadline it buys the positions the
         * client left open (AgreementSettlement.forceClose, paying from its margin cash). Unset: the forced close
         * is left to any verified buyer.
         */
        closeOutKey: privateKey.optional(),
        /** How often the agreement-end job advances the workflows under way (ms). */
        endIntervalMs: z.coerce.number().int().min(100).default(30_000),
        /** How long one instance holds an agreement's end while it advances it (ms). */
        endLeaseMs: z.coerce.number().int().min(1000).default(120_000),
        /** How often the fee-ledger job charges the daily statements' fees on-chain (ms). */
        feeLedgerIntervalMs: z.coerce.number().int().min(1000).default(60_000),
        /**
         * The custody account clients' final payouts leave from (the pain.001's debtor side; JSON in
         * MB_CUSTODY_ACCOUNT). Unset: DEV_CUSTODY outside production; in production the agreement-end workflow
         * stops at its statement step and says this setting is missing.
         */
        custody: custodyAccount.optional(),
      })
      .default({}),
    providers: z
      .object({
        /**
         * Signs CapitalPool.serveQueue (permissionless: the key only pays gas). Unset: the development key in
         * development, no queue job otherwise (anyone may still serve the queue).
         */
        queueServerKey: privateKey.optional(),
        queueIntervalMs: z.coerce.number().int().min(100).default(15_000),
        /** Requests served per transaction at most. */
        queueMaxSteps: z.coerce.number().int().min(1).max(200).default(20),
      })
      .strict()
      .default({}),
    options: z
      .object({
        /**
         * Signs OptionMarket.fix, exercise and release after a series' fixing window (permissionless: the key only
         * pays gas). Unset: the development key in development, no settlement job otherwise (anyone may settle).
         */
        settlerKey: privateKey.optional(),
        settleIntervalMs: z.coerce.number().int().min(100).default(30_000),
      })
      .strict()
      .default({}),
    keeper: z
      .object({
        /** Runs the liquidation keeper; unset: on in development only (docs/keeper.md). */
        enabled: z
          .enum(["true", "false"])
          .transform((v) => v === "true")
          .or(z.boolean())
          .optional(),
        signerKey: privateKey.default(DEV_KEYS.keeperKey),
        pollIntervalMs: z.coerce.number().int().min(10).default(250),
        resyncIntervalMs: z.coerce.number().int().min(1000).default(60_000),
        maxSegments: z.coerce.number().int().min(1).max(64).default(8),
        /** wei; no cap when absent */
        maxFeePerGas: z.coerce.bigint().optional(),
        /** cash base units */
        minBonus: z.coerce.bigint().default(0n),
        readConcurrency: z.coerce.number().int().min(1).max(64).default(8),
        /** "batch" (default): liquidateMany packed to a gas budget; "single": one liquidate call per account. */
        mode: z.enum(["batch", "single"]).default("batch"),
        /** Gas one liquidateMany may use; unset: 80 % of the latest block's gas limit. */
        batchGasBudget: z.coerce.bigint().min(500_000n).optional(),
        /** Accounts per liquidateMany at most (≤ 200). */
        batchMaxAccounts: z.coerce.number().int().min(1).max(200).optional(),
        /** Accounts valued per eth_call of the batch lens (≤ its EIP-170 capacity, 150). */
        lensChunk: z.coerce.number().int().min(1).max(150).optional(),
        webhookUrl: z.string().url().optional(),
        webhookSecret: z.string().min(16).default(DEV_KEYS.keeperWebhookSecret),
        webhookBaseBackoffMs: z.coerce.number().int().min(1).default(1000),
        webhookMaxBackoffMs: z.coerce.number().int().min(1).default(300_000),
      })
      .strict()
      .default({}),
    risk: z
      .object({
        /**
         * Re-arms oracle circuit breakers from the ops console (POST /v1/risk/oracle/:asset/breaker/reset): a key
         * holding GUARDIAN (RiskGuardian.rearmBreaker) or RISK_OFFICER without delay. Unset: the development key
         * in development; otherwise the console shows the reset as unavailable.
         */
        breakerResetKey: privateKey.optional(),
        /** A re-arm request still `sending` after this is settled from the chain by the next one (ms). */
        breakerClaimTtlMs: z.coerce.number().int().min(1000).default(120_000),
      })
      .strict()
      .default({}),
    /** Linked accounts and review queues (surveillance; README "Linked accounts and review queues"). */
    linkedAccounts: z
      .object({
        /** A group trading with itself: "refuse" (the matcher prevents it like a self-trade) or "flag" (it trades,
         *  and the taker is put in the review queue). */
        selfTrade: z.enum(["refuse", "flag"]).default("refuse"),
        /** How long an account's group is kept per order before it is read again (ms; link changes clear it). */
        groupCacheMs: z.coerce.number().int().min(0).max(60_000).default(2_000),
        /** How often the review job looks for accounts crossing a threshold (ms). */
        reviewIntervalMs: z.coerce.number().int().min(1_000).default(60_000),
        /** The window margin calls are counted in and losses are measured over (ms; default 7 days). */
        reviewWindowMs: z.coerce
          .number()
          .int()
          .min(60_000)
          .default(7 * 86_400_000),
        /** Leverage used (position value / equity), 18 decimals, at or above which an account is reviewed. */
        leverageUsage: z.coerce
          .bigint()
          .min(10n ** 18n)
          .default(4n * 10n ** 18n),
        /** Margin calls within the window at or above which an account is reviewed. */
        marginCalls: z.coerce.number().int().min(1).default(2),
        /** Equity lost since the window's mark, 18-decimal share (0.3e18: 30 %), at or above which it is reviewed. */
        lossShare: z.coerce
          .bigint()
          .min(1n)
          .max(10n ** 18n)
          .default(3n * 10n ** 17n),
      })
      .strict()
      .default({}),
    practice: z
      .object({
        /** Runs the practice (paper-trading) service beside the real one; unset: on in development only. */
        enabled: z
          .enum(["true", "false", "1", "0"])
          .transform((v) => v === "true" || v === "1")
          .or(z.boolean())
          .optional(),
        /** The practice API and console's own port (0: any free port). */
        port: port.default(8081),
        /** The practice deployment's record name; unset: "<chain.network>-practice". */
        network: z.string().min(1).optional(),
        /** Mints the practice starting balances and pays the practice accounts' gas (practice custodian). */
        custodianKey: privateKey.default(PRACTICE_DEV_KEYS.custodian),
        /** The practice deployment's KYC officer, settlement operator and queue server (never the real keys). */
        kycOfficerKey: privateKey.default(PRACTICE_DEV_KEYS.kycOfficer),
        operatorKey: privateKey.default(PRACTICE_DEV_KEYS.operator),
        queueServerKey: privateKey.default(PRACTICE_DEV_KEYS.queueServer),
        /** Derives each client's practice account key: keccak256(seed ‖ wallet). */
        accountSeed: privateKey.default(PRACTICE_DEV_KEYS.accountSeed),
        /** PostgreSQL: the schema holding the practice store (SQLite: <dataDir>/marginbridge-practice.sqlite). */
        pgSchema: z
          .string()
          .regex(/^[a-z_][a-z0-9_]{0,62}$/, "a lower-case SQL identifier")
          .default("practice"),
      })
      .strict()
      .default({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.env !== "production") return;
    const practiceDev = Object.values(PRACTICE_DEV_KEYS) as string[];
    for (const key of ["custodianKey", "accountSeed", "kycOfficerKey", "operatorKey", "queueServerKey"] as const) {
      if (c.practice.enabled && practiceDev.includes(c.practice[key]))
        ctx.addIssue({
          code: "custom",
          path: ["practice", key],
          message: "the development key is refused in production",
        });
    }
    if (c.kyc.dataKey.equals(Buffer.from(DEV_KEYS.kycDataKey, "hex")))
      ctx.addIssue({
        code: "custom",
        path: ["kyc", "dataKey"],
        message: "the development key is refused in production",
      });
    if (c.api.secretKey.equals(Buffer.from(DEV_KEYS.apiSecretKey, "hex")))
      ctx.addIssue({
        code: "custom",
        path: ["api", "secretKey"],
        message: "the development key is refused in production",
      });
    if (c.chain.reservePublisherKey === DEV_KEYS.reservePublisherKey)
      ctx.addIssue({
        code: "custom",
        path: ["chain", "reservePublisherKey"],
        message: "the development key is refused in production",
      });
    if (c.keeper.enabled && c.keeper.signerKey === DEV_KEYS.keeperKey)
      ctx.addIssue({
        code: "custom",
        path: ["keeper", "signerKey"],
        message: "the development key is refused in production",
      });
    if (c.keeper.enabled && c.keeper.webhookSecret === DEV_KEYS.keeperWebhookSecret)
      ctx.addIssue({
        code: "custom",
        path: ["keeper", "webhookSecret"],
        message: "the development key is refused in production",
      });
    if (c.chain.kycOfficerKey === DEV_KEYS.kycOfficerKey)
      ctx.addIssue({
        code: "custom",
        path: ["chain", "kycOfficerKey"],
        message: "the development key is refused in production",
      });
    if (c.providers.queueServerKey === DEV_KEYS.queueServerKey)
      ctx.addIssue({
        code: "custom",
        path: ["providers", "queueServerKey"],
        message: "the development key is refused in production",
      });
    if (c.options.settlerKey === DEV_KEYS.optionSettlerKey)
      ctx.addIssue({
        code: "custom",
        path: ["options", "settlerKey"],
        message: "the development key is refused in production",
      });
    if (c.risk.breakerResetKey === DEV_KEYS.riskOfficerKey)
      ctx.addIssue({
        code: "custom",
        path: ["risk", "breakerResetKey"],
        message: "the development key is refused in production",
      });
    if (c.settlement.operatorKey === DEV_OPERATOR_KEY)
      ctx.addIssue({
        code: "custom",
        path: ["settlement", "operatorKey"],
        message: "the development key is refused in production",
      });
  });

export type ConfigInput = z.input<typeof ConfigSchema>;
export type Config = z.output<typeof ConfigSchema>;

export function parseConfig(input: unknown): Config {
  const r = ConfigSchema.safeParse(input);
  if (!r.success) {
    const issues = r.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
    throw new AppError(
      "CONFIG_INVALID",
      `invalid configuration: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`,
      {
        details: { issues },
      },
    );
  }
  return r.data;
}

/** The SQLite file of a configuration: store.path, or <dataDir>/marginbridge.sqlite. */
export function sqlitePath(c: Config): string {
  return c.store.engine === "sqlite" ? (c.store.path ?? path.join(c.dataDir, "marginbridge.sqlite")) : "";
}

type Env = Record<string, string | undefined>;

/**
 * Environment variables → configuration. MB_STORE=postgres with MB_DATABASE_URL selects PostgreSQL; every other
 * variable is optional and documented in docs/service.md.
 */
export function configFromEnv(env: Env = process.env): Config {
  const pick = (o: Record<string, string | undefined>): Record<string, string> =>
    Object.fromEntries(Object.entries(o).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ""));
  const store =
    env.MB_STORE === "postgres"
      ? { engine: "postgres", ...pick({ url: env.MB_DATABASE_URL, poolSize: env.MB_DB_POOL_SIZE }) }
      : { engine: "sqlite", ...pick({ path: env.MB_SQLITE_PATH }) };
  return parseConfig({
    ...pick({ env: env.MB_ENV, dataDir: env.MB_DATA_DIR }),
    log: pick({ level: env.MB_LOG_LEVEL }),
    store,
    chain: pick({
      rpcUrl: env.MB_RPC_URL,
      network: env.MB_NETWORK,
      deploymentsDir: env.MB_DEPLOYMENTS_DIR,
      confirmations: env.MB_CONFIRMATIONS,
      pollIntervalMs: env.MB_POLL_INTERVAL_MS,
      batchBlocks: env.MB_BATCH_BLOCKS,
      rpcRetries: env.MB_RPC_RETRIES,
      rpcTimeoutMs: env.MB_RPC_TIMEOUT_MS,
      kycOfficerKey: env.MB_KYC_OFFICER_KEY,
      reservePublisherKey: env.MB_RESERVE_PUBLISHER_KEY,
    }),
    api: {
      secretKey: env.MB_API_SECRET_KEY ?? DEV_KEYS.apiSecretKey,
      ...pick({
        host: env.MB_API_HOST,
        port: env.MB_API_PORT,
        timestampWindowMs: env.MB_API_TIMESTAMP_WINDOW_MS,
        rateLimitPerMinute: env.MB_API_RATE_LIMIT,
        readyTimeoutMs: env.MB_READY_TIMEOUT_MS,
        metricsPort: env.MB_METRICS_PORT,
        metricsHost: env.MB_METRICS_HOST,
        readyMaxLagBlocks: env.MB_READY_MAX_LAG_BLOCKS,
        walletSessionTtlSeconds: env.MB_WALLET_SESSION_TTL_S,
        siweNonceTtlSeconds: env.MB_SIWE_NONCE_TTL_S,
        siweDomains: env.MB_SIWE_DOMAINS,
      }),
    },
    kyc: {
      dataKey: env.MB_KYC_DATA_KEY ?? DEV_KEYS.kycDataKey,
      ...pick({
        sanctionsFile: env.MB_SANCTIONS_FILE,
        fuzzyThreshold: env.MB_SANCTIONS_THRESHOLD,
        reviewAboveTier: env.MB_KYC_REVIEW_ABOVE_TIER,
        validityDays: env.MB_KYC_VALIDITY_DAYS,
        claimTtlMs: env.MB_KYC_CLAIM_TTL_MS,
        reconcileIntervalMs: env.MB_KYC_RECONCILE_MS,
      }),
    },
    settlement: pick({
      operatorKey: env.MB_OPERATOR_KEY,
      maxFills: env.MB_SETTLEMENT_MAX_FILLS,
      blockGasBudget: env.MB_SETTLEMENT_GAS_BUDGET,
      intervalMs: env.MB_SETTLEMENT_INTERVAL_MS,
      anchorClaimTtlMs: env.MB_ANCHOR_CLAIM_TTL_MS,
      closeOutKey: env.MB_CLOSE_OUT_KEY,
      endIntervalMs: env.MB_AGREEMENT_END_INTERVAL_MS,
      endLeaseMs: env.MB_AGREEMENT_END_LEASE_MS,
      feeLedgerIntervalMs: env.MB_FEE_LEDGER_INTERVAL_MS,
      custody: env.MB_CUSTODY_ACCOUNT,
    }),
    providers: pick({
      queueServerKey: env.MB_QUEUE_SERVER_KEY,
      queueIntervalMs: env.MB_QUEUE_INTERVAL_MS,
      queueMaxSteps: env.MB_QUEUE_MAX_STEPS,
    }),
    options: pick({
      settlerKey: env.MB_OPTION_SETTLER_KEY,
      settleIntervalMs: env.MB_OPTION_SETTLE_INTERVAL_MS,
    }),
    keeper: pick({
      enabled: env.MB_KEEPER_ENABLED,
      signerKey: env.MB_KEEPER_KEY,
      pollIntervalMs: env.MB_KEEPER_POLL_MS,
      resyncIntervalMs: env.MB_KEEPER_RESYNC_MS,
      maxSegments: env.MB_KEEPER_MAX_SEGMENTS,
      mode: env.MB_KEEPER_MODE,
      batchGasBudget: env.MB_KEEPER_BATCH_GAS,
      batchMaxAccounts: env.MB_KEEPER_BATCH_MAX_ACCOUNTS,
      lensChunk: env.MB_KEEPER_LENS_CHUNK,
      maxFeePerGas: env.MB_KEEPER_MAX_FEE_PER_GAS,
      minBonus: env.MB_KEEPER_MIN_BONUS,
      webhookUrl: env.MB_KEEPER_WEBHOOK_URL,
      webhookSecret: env.MB_KEEPER_WEBHOOK_SECRET,
    }),
    risk: pick({
      breakerResetKey: env.MB_BREAKER_RESET_KEY,
      breakerClaimTtlMs: env.MB_BREAKER_CLAIM_TTL_MS,
    }),
    linkedAccounts: pick({
      selfTrade: env.MB_GROUP_SELF_TRADE,
      groupCacheMs: env.MB_GROUP_CACHE_MS,
      reviewIntervalMs: env.MB_REVIEW_INTERVAL_MS,
      reviewWindowMs: env.MB_REVIEW_WINDOW_MS,
      leverageUsage: env.MB_REVIEW_LEVERAGE_USAGE,
      marginCalls: env.MB_REVIEW_MARGIN_CALLS,
      lossShare: env.MB_REVIEW_LOSS_SHARE,
    }),
    practice: pick({
      enabled: env.MB_PRACTICE,
      port: env.MB_PRACTICE_PORT,
      network: env.MB_PRACTICE_NETWORK,
      custodianKey: env.MB_PRACTICE_CUSTODIAN_KEY,
      kycOfficerKey: env.MB_PRACTICE_KYC_OFFICER_KEY,
      operatorKey: env.MB_PRACTICE_OPERATOR_KEY,
      queueServerKey: env.MB_PRACTICE_QUEUE_SERVER_KEY,
      accountSeed: env.MB_PRACTICE_SEED,
      pgSchema: env.MB_PRACTICE_PG_SCHEMA,
    }),
  });
}

/** Keys of the oracle reporter command (offchain/oracle/cli.ts); never logged. */
export interface OracleReporterEnv {
  rpcUrl?: string;
  reporterKeys: string[];
  relayerKey?: string;
}

/** The reporter command's environment: MB_LOCAL_RPC_URL, MB_REPORTER_KEYS (comma-separated), MB_RELAYER_KEY. */
export function oracleReporterEnv(env: Env = process.env): OracleReporterEnv {
  return {
    rpcUrl: env.MB_LOCAL_RPC_URL || undefined,
    reporterKeys: (env.MB_REPORTER_KEYS ?? "").split(",").filter(Boolean),
    relayerKey: env.MB_RELAYER_KEY || undefined,
  };
}
