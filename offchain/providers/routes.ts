import { defineRoute, type CapabilityRoutes } from "../api";
import type { ChainGateway } from "../chain";
import { AppError } from "../shared/errors";
import { providersChain, type ProvidersChain } from "./chain";
import { readClasses } from "./readClasses";
import { readProvider } from "./readProvider";
import { readScheduled } from "./scheduled";
import { classesSummarySchema, providerSummarySchema, scheduledChangesSchema } from "./schemas";

export interface ProviderRoutesDeps {
  /** Absent when the service runs without a deployment: the routes then answer 503. */
  chain?: ChainGateway;
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/** The capital providers' read model: the two classes (public), one provider's own figures, the scheduled changes. */
export function providerRoutes(deps: ProviderRoutesDeps): CapabilityRoutes {
  let reader: ProvidersChain | undefined;
  const need = (): ProvidersChain => {
    if (!deps.chain) throw new AppError("CHAIN_UNAVAILABLE", "the service has no deployment to read");
    reader ??= providersChain(deps.chain);
    return reader;
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
