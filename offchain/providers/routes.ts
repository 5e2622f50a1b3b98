import { defineRoute, type CapabilityRoutes } from "../api";
import type { ChainGateway } from "../chain";
import { AppError } from "../shared/errors";
import { providersChain, type ProvidersChain } from "./chain";
import { readClasses } from "./readClasses";
import { readProvider } from "./readProvider";
import { readScheduled } from "./scheduled";
import { readForecast, type ForecastSources } from "./readForecast";
import {
  classesSummarySchema,
  forecastSchema,
  providerSummarySchema,
  scheduledChangesSchema,
  type ForecastSummary,
} from "./schemas";

export interface ProviderRoutesDeps {
  /** Absent when the service runs without a deployment: the routes then answer 503. */
  chain?: ChainGateway;
  /** The agreements in force and the stress loss, for the cash-flow forecast (absent: the route answers 503). */
  forecast?: ForecastSources;
}

/** A forecast is reused for the same block for this long (ms). */
export const FORECAST_CACHE_MS = 15_000;

const str = (f: Awaited<ReturnType<typeof readForecast>>): ForecastSummary => ({
  ...f,
  days: f.days.map((d) => ({
    ...d,
    inflow: d.inflow.toString(),
    outflow: d.outflow.toString(),
    cash: d.cash.toString(),
    stressedInflow: d.stressedInflow.toString(),
    stressedCash: d.stressedCash.toString(),
  })),
  minCash: f.minCash.toString(),
  minStressedCash: f.minStressedCash.toString(),
});

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/** The capital providers' read model: the two classes (public), one provider's own figures, the scheduled changes. */
export function providerRoutes(deps: ProviderRoutesDeps): CapabilityRoutes {
  let reader: ProvidersChain | undefined;
  const need = (): ProvidersChain => {
    if (!deps.chain) throw new AppError("CHAIN_UNAVAILABLE", "the service has no deployment to read");
    reader ??= providersChain(deps.chain);
    return reader;
  };
  let cached: { block: number; at: number; result: Promise<ForecastSummary> } | undefined;
  const forecast = async (): Promise<ForecastSummary> => {
    const chain = need();
    if (!deps.forecast) throw new AppError("CHAIN_UNAVAILABLE", "the cash-flow forecast has no agreement source");
    const block = await chain.provider.getBlockNumber();
    if (cached && cached.block === block && Date.now() - cached.at < FORECAST_CACHE_MS) return cached.result;
    const result = readForecast(chain, deps.forecast).then(str);
    cached = { block, at: Date.now(), result };
    result.catch(() => {
      if (cached?.result === result) cached = undefined;
    });
    return result;
  };
  return {
    name: "providers",
    routes: [
      defineRoute({
        method: "get",
        path: "/v1/providers/classes",
        summary: "The senior and junior classes: assets, shares, share price, buffer, notice, queue; the book's gate",
        description:
          "Public (the disclosure page reads it without a key): CapitalPool and both TrancheVaults at one block. " +
          "Amounts are base-unit strings, ratios WAD, times unix seconds.",
        tags: ["providers"],
        roles: "public",
        write: false,
        response: classesSummarySchema,
        handler: async () => readClasses(need()),
      }),
      defineRoute({
        method: "get",
        path: "/v1/providers/me",
        summary: "The caller's capital-provider position per class: shares, value, earned, queued requests, agreement",
        tags: ["providers"],
        roles: ["capital_provider"],
        write: false,
        response: providerSummarySchema,
        handler: async ({ caller }) => {
          if (!ADDRESS.test(caller.subject)) {
            throw new AppError("FORBIDDEN", "this capital-provider key is not bound to an address", {
              details: { subject: caller.subject },
            });
          }
          return readProvider(need(), caller.subject);
        },
      }),
      defineRoute({
        method: "get",
        path: "/v1/providers/forecast",
        summary: "The pool's cash over the next 30 days: expected and stressed, with the trading calendars",
        description:
          "Outflows: waiting redemption requests at their due day, at their value now. Inflows: each agreement's loan " +
          "repaid at its end with interest at the pool's rate, on the next day a security trades. Stressed: the " +
          "repayments less the worst shipped stress path's pool loss share. Cached per block.",
        tags: ["providers"],
        roles: ["capital_provider", "risk_officer", "operator", "auditor"],
        write: false,
        response: forecastSchema,
        handler: async () => forecast(),
      }),
      defineRoute({
        method: "get",
        path: "/v1/providers/scheduled",
        summary: "Changes scheduled behind the AccessManager delay, decoded, with the time each may execute",
        description:
          "Public: every pending AccessManager operation (OperationScheduled, not executed, cancelled or expired), " +
          "its target by deployment name, the function and arguments decoded with the project's ABIs.",
        tags: ["providers", "governance"],
        roles: "public",
        write: false,
        response: scheduledChangesSchema,
        handler: async () => readScheduled(need()),
      }),
    ],
  };
}
