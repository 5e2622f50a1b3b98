import { defineRoute, type CapabilityRoutes } from "../api";
import type { ChainGateway } from "../chain";
import { AppError } from "../shared/errors";
import { portfolioChain, type PortfolioChain } from "./chainReader";
import { readAccount } from "./readAccount";
import { readPool } from "./readPool";
import { readDisclosures } from "./readDisclosures";
import { readBook } from "./readBook";
import { stressRun } from "./readStress";
import { reserveOf } from "./readReserve";
import { readMarginModes } from "./readMarginModes";
import { simulate } from "./simulate";
import { simulateBodySchema, simulateInputOf, simulationJson, simulationSchema } from "./simulateSchemas";
import {
  accountSummarySchema,
  disclosureSchema,
  marginModesSchema,
  poolSummarySchema,
  publicConfigSchema,
  reserveAdequacySchema,
  stressSummarySchema,
  type ReserveAdequacySummary,
  type StressSummary,
} from "./schemas";

export interface PortfolioDeps {
  /** Absent when the service runs without a deployment: the routes then answer 503. */
  chain?: ChainGateway;
  /** JSON-RPC URL published to browsers (the auditor page); defaults to nothing when there is no chain. */
  publicRpcUrl?: string;
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
/** A stress run is reused for the same block for this long (ms). */
export const STRESS_CACHE_MS = 15_000;
const STRESS_ROLES = ["risk_officer", "operator", "capital_provider", "auditor"] as const;

/** The console's read model: one client's account, the pool as capital providers see it, the public config. */
export function portfolioRoutes(deps: PortfolioDeps): CapabilityRoutes {
  // Bound on first use, so a deployment without the margin layer still starts the service (these routes then fail).
  let reader: PortfolioChain | undefined;
  const need = (): PortfolioChain => {
    if (!deps.chain) throw new AppError("CHAIN_UNAVAILABLE", "the service has no deployment to read");
    reader ??= portfolioChain(deps.chain);
    return reader;
  };
  type Run = { summary: StressSummary; reserve: () => Promise<ReserveAdequacySummary> };
  let stressCache: { block: number; at: number; result: Promise<Run> } | undefined;
  // one stress run per block serves both the stress report and the reserve-adequacy job
  const run = async (): Promise<Run> => {
    const chain = need();
    const block = await chain.gateway.provider.getBlockNumber();
    if (stressCache && stressCache.block === block && Date.now() - stressCache.at < STRESS_CACHE_MS)
      return stressCache.result;
    const result = readBook(chain).then((b) => {
      const { summary, report } = stressRun(b, chain);
      let reserve: Promise<ReserveAdequacySummary> | undefined;
      return { summary, reserve: () => (reserve ??= reserveOf(b, report, chain)) };
    });
    stressCache = { block, at: Date.now(), result };
    result.catch(() => {
      if (stressCache?.result === result) stressCache = undefined;
    });
    return result;
  };
  const stress = async (): Promise<StressSummary> => (await run()).summary;
  return {
    name: "portfolio",
    routes: [
      defineRoute({
        method: "get",
        path: "/v1/config",
        summary: "Public chain configuration: network, chain id, JSON-RPC URL, contract and token addresses",
        tags: ["portfolio"],
        roles: "public",
        write: false,
        response: publicConfigSchema,
        handler: async () => {
          const d = deps.chain?.deployment;
          return {
            network: d?.network ?? null,
            chainId: d?.chainId ?? null,
            rpcUrl: d ? (deps.publicRpcUrl ?? null) : null,
            contracts: d?.contracts ?? {},
            tokens: (d?.tokens ?? []).map((t) => ({
              symbol: t.symbol,
              address: t.address,
              decimals: t.decimals,
              kind: t.kind,
            })),
          };
        },
      }),
      defineRoute({
        method: "get",
        path: "/v1/accounts/me",
        summary: "The caller's margin account: state, margin ratio, liquidation price, positions, balances",
        description:
          "Read from the chain at one block: MarginEngine.accountView, internal and wallet balances, router prices, " +
          "the pool rate; per-position liquidation prices from offchain/risk. Amounts are base-unit strings, ratios WAD.",
        tags: ["portfolio"],
        roles: ["client"],
        write: false,
        response: accountSummarySchema,
        handler: async ({ caller }) => {
          if (!ADDRESS.test(caller.subject)) {
            throw new AppError("FORBIDDEN", "this client key is not bound to an account address", {
              details: { subject: caller.subject },
            });
          }
          return readAccount(need(), caller.subject);
        },
      }),
      defineRoute({
        method: "post",
        path: "/v1/simulate",
        summary: "What-if: the caller's account before and after a proposed order, deposit, withdrawal or borrow/repay",
        description:
          "Nothing is written and no transaction is sent. The account and the market are read at one block and valued " +
          "with the engine's accountView arithmetic (offchain/keeper/valuation.ts): margin ratio, state, liquidation " +
          "price per position, initial-margin headroom, daily interest; for an order the fee schedule's cost and the " +
          "break-even move; the account alone through the 2015 and 2020 shock paths and the Monte Carlo run. " +
          "`problems` names what the engine would refuse. With `sizing`, the quantity whose loss at the stop is the " +
          "risk budget (rounded down to lots).",
        tags: ["portfolio", "risk"],
        roles: ["client"],
        write: false,
        body: simulateBodySchema,
        response: simulationSchema,
        handler: async ({ caller, body }) => {
          if (!ADDRESS.test(caller.subject)) {
            throw new AppError("FORBIDDEN", "this client key is not bound to an account address", {
              details: { subject: caller.subject },
            });
          }
          return simulationJson(await simulate(need(), caller.subject, simulateInputOf(body)));
        },
      }),
      defineRoute({
        method: "get",
        path: "/v1/pool",
        summary: "Capital pool, insurance fund, bad-debt history and reserve ratio per asset per epoch",
        tags: ["portfolio"],
        roles: ["capital_provider", "auditor", "operator", "risk_officer"],
        write: false,
        response: poolSummarySchema,
        handler: async () => readPool(need()),
      }),
      defineRoute({
        method: "get",
        path: "/v1/disclosures",
        summary:
          "Public disclosures: reserves per epoch, insurance fund history, losses per month, liquidations, " +
          "leverage of open accounts, share classes, the fee table",
        description:
          "No key needed (the disclosure page). Every figure is read from the chain at one block; the auditor page " +
          "recomputes them from the contracts' events and views.",
        tags: ["portfolio"],
        roles: "public",
        write: false,
        response: disclosureSchema,
        handler: async () => readDisclosures(need()),
      }),
      defineRoute({
        method: "get",
        path: "/v1/risk/margin-modes",
        summary: "Fixed or dynamic margins side by side: each security's margins and maximum leverage in both modes",
        description:
          "Before a client chooses (MarginEngine.setFixedTerm, only without debt): the dynamic mode follows the " +
          "router's daily volatility (maintenance = clamp(add-on + k·σ, floor, cap), initial above it); the fixed mode " +
          "applies the same rule at the tier's fixedVolatility for the whole term, whatever the market does — its " +
          "volatility premium. Read from the chain at one block; a client also sees its own mode.",
        tags: ["portfolio", "risk"],
        roles: "public",
        write: false,
        response: marginModesSchema,
        handler: async ({ caller }) =>
          readMarginModes(
            need(),
            caller?.role === "client" && ADDRESS.test(caller.subject) ? caller.subject : undefined,
          ),
      }),
      defineRoute({
        method: "get",
        path: "/v1/risk/stress",
        summary: "Stress tests and VaR of the real book: 2015 A-share and March 2020 paths, Monte Carlo, charts",
        description:
          "The margin accounts read from the chain at one block (offchain/portfolio/readBook.ts) run through " +
          "offchain/risk: per scenario accounts liquidated, liquidation volume, bad debt, insurance fund used, " +
          "capital pool loss and reserve ratio after; 99% VaR / ES for 1 and 10 days; SVG charts. Cached per block.",
        tags: ["portfolio", "risk"],
        roles: [...STRESS_ROLES],
        write: false,
        response: stressSummarySchema,
        handler: async () => stress(),
      }),
      defineRoute({
        method: "get",
        path: "/v1/risk/reserve-adequacy",
        summary:
          "Reserve adequacy: the insurance fund's target (99th-percentile stress loss), the gap, a contribution proposal",
        description:
          "From the same stress run as /v1/risk/stress: the target is the Monte Carlo paths' bad debt at the 99th " +
          "percentile; until the fund holds it, every financed loan contributes 5 bp × the volatility multiplier " +
          "(the largest router σ_daily / calm σ_daily over the listed securities, ≥ 1). Financed turnover per day from " +
          "the engine's Borrowed events. The proposal is worded in English and Simplified Chinese.",
        tags: ["portfolio", "risk"],
        roles: [...STRESS_ROLES],
        write: false,
        response: reserveAdequacySchema,
        handler: async () => (await run()).reserve(),
      }),
    ],
  };
}
