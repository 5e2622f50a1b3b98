import { hostname } from "node:os";
import { agreementEndChain } from "../chain/agreementEndChain";
import { settlementChain } from "../chain/settlementHubWriter";
import { DEV_CUSTODY } from "../shared/config";
import { statementChain } from "../chain/statementChain";
import type { Capability } from "../service/capability";
import type { Job } from "../shared/jobs";
import { PROVIDER_CONTRACTS, providersChain } from "../providers/chain";
import { readScheduled } from "../providers/scheduled";
import { advanceDueEnds, chargeDailyFees, endOnExit, type AgreementEndDeps } from "./agreementEnd/workflow";
import { reconcileAnchors } from "./anchorAgreement";
import { issueAmendments, type PendingOperationsReader } from "./issueAmendments";
import { SettlementBatcher } from "./batcher";
import { DailyStatements } from "./dailyStatements";
import { agreementDomain, recordExitOnly } from "./legal";
import { bindingReader } from "./readBinding";
import { settlementDomain } from "./orders";
import { TRADES_QUEUED } from "./orderbookSink";
import { chainScheduleReader } from "./readChainSchedule";
import { settlementRoutes } from "./routes";

/**
 * Settlement and the legal layer: agreements (anchored on the AgreementRegistry), statements (daily, after each
 * natural day closes), settlements, pain.001 payment messages, disputes; the batcher that settles the order
 * book's trades through the SettlementHub. Without the operator key it serves the routes but sends nothing.
 */
export const settlementCapability: Capability = {
  name: "settlement",
  needs: { contracts: ["SettlementHub", "AgreementRegistry"] },
  build: ({ store, chain, config, log, fence }) => {
    const deployment = chain!.deployment;
    const slog = log.child({ component: "settlement" });
    const writer = config.settlement.operatorKey
      ? settlementChain(chain!, config.settlement.operatorKey, slog)
      : undefined;
    const dailyStatements = deployment.contracts.OracleRouter
      ? new DailyStatements({ store, chain: statementChain(chain!), deployment, log: slog })
      : undefined;
    const agreements = agreementDomain(BigInt(deployment.chainId), deployment.contracts.AgreementRegistry);
    const jobs: Job[] = [];
    // The agreement-end workflow needs the operator's sender and the AgreementSettlement contract.
    const agreementEnd: AgreementEndDeps | undefined =
      writer && deployment.contracts.AgreementSettlement
        ? {
            store,
            chain: agreementEndChain(chain!, writer.sender, slog, config.settlement.closeOutKey),
            log: slog.child({ workflow: "agreement-end" }),
            custody: config.settlement.custody ?? (config.env === "production" ? undefined : DEV_CUSTODY),
            leaseMs: config.settlement.endLeaseMs,
            instance: `${hostname()}-${process.pid}`,
          }
        : undefined;
    if (agreementEnd)
      jobs.push({
        name: "fee-ledger",
        intervalMs: config.settlement.feeLedgerIntervalMs,
        timeoutMs: 300_000,
        run: async () => {
          await chargeDailyFees(agreementEnd);
        },
      });
    if (agreementEnd)
      jobs.push({
        name: "agreement-ends",
        intervalMs: config.settlement.endIntervalMs,
        timeoutMs: 300_000,
        run: async () => {
          await advanceDueEnds(agreementEnd);
        },
      });
    // Amendments need the AccessManager's scheduled operations and the engine and pool they change.
    const readOperations: PendingOperationsReader | undefined = ["MarginEngine", ...PROVIDER_CONTRACTS].every(
      (name) => deployment.contracts[name],
    )
      ? async () => (await readScheduled(providersChain(chain!))).changes
      : undefined;
    if (readOperations)
      jobs.push({
        name: "agreement-amendments",
        intervalMs: 60_000,
        timeoutMs: 120_000,
        run: () => issueAmendments({ store: store.legal, domain: agreements, deployment, readOperations, log: slog }),
      });
    if (dailyStatements)
      jobs.push({
        name: "daily-statements",
        intervalMs: 60_000,
        timeoutMs: 300_000,
        run: () => dailyStatements.runDue(),
      });
    if (writer) {
      const claimTtlMs = config.settlement.anchorClaimTtlMs;
      const anchoring = { store, chain: writer, domain: agreements, claimTtlMs, log: slog };
      jobs.push({
        name: "agreement-anchors",
        intervalMs: 60_000,
        timeoutMs: 120_000,
        run: () => reconcileAnchors(anchoring),
      });
      const batcher = new SettlementBatcher({
        store,
        chain: writer,
        log: slog,
        maxFills: config.settlement.maxFills,
        blockGasBudget: config.settlement.blockGasBudget,
        fence: (tx) => fence(tx, "job:settlement-batcher"),
      });
      jobs.push({
        name: "settlement-batcher",
        intervalMs: config.settlement.intervalMs,
        timeoutMs: 120_000,
        wakeOn: TRADES_QUEUED,
        run: async () => {
          await batcher.runOnce();
        },
      });
    }
    const off = [
      writer ? undefined : "no operator key: agreements are not anchored and trades not settled",
      dailyStatements ? undefined : "no OracleRouter: no daily statements",
      agreementEnd || !writer ? undefined : "no AgreementSettlement: agreements cannot be ended",
      readOperations ? undefined : "no MarginEngine or CapitalPool: no amendments",
    ].filter((x): x is string => x !== undefined);
    return {
      routes: [
        settlementRoutes({
          store,
          chain: writer,
          dailyStatements,
          agreementDomain: agreements,
          settlementDomain: settlementDomain(deployment.chainId, deployment.contracts.SettlementHub),
          anchorClaimTtlMs: config.settlement.anchorClaimTtlMs,
          readSchedule: deployment.contracts.MarginEngine ? chainScheduleReader(chain!) : undefined,
          agreementEnd,
          readOperations,
          deployment,
          // A client's exit from an amendment ends its agreement (the end job also finds exits a failed hook left).
          onAmendmentExit: agreementEnd ? endOnExit(agreementEnd) : recordExitOnly,
          readBinding: deployment.contracts.AgreementBinding ? bindingReader(chain!) : undefined,
        }),
      ],
      jobs,
      partial: off.length > 0 ? off.join("; ") : undefined,
    };
  },
};
