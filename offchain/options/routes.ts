import { z } from "zod";
import { defineRoute, type CapabilityRoutes } from "../api";
import type { ChainGateway } from "../chain";
import { AppError } from "../shared/errors";
import { optionsChain, type OptionsChain } from "./chain";
import { readPortfolioMargin } from "./readPortfolioMargin";
import { readSeries } from "./readSeries";

const int = z.string().regex(/^-?[0-9]+$/);
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/);

const seriesSchema = z
  .object({
    block: z.number().int(),
    chainTime: z.number().int(),
    series: z.array(
      z
        .object({
          symbol: z.string(),
          address,
          underlying: z.object({ symbol: z.string(), address, price: int, priceStatus: z.string() }).strict(),
          type: z.enum(["put", "call"]),
          strike: int,
          expiry: z.number().int(),
          contractSize: z.number().int(),
          fixingWindow: z.number().int(),
          price: int,
          priceStatus: z.string(),
          impliedVolatility: int.nullable(),
          openInterest: int,
          lockPerContract: int,
          state: z.enum(["open", "expired", "fixed"]),
          settlementPrice: int.nullable(),
          payPerContract: int.nullable(),
        })
        .strict(),
    ),
  })
  .strict();

const portfolioMarginSchema = z
  .object({
    block: z.number().int(),
    portfolioMargined: z.boolean(),
    maintenanceReq: int,
    groups: z.array(
      z
        .object({
          underlying: address,
          symbol: z.string(),
          units: int,
          legs: z.array(z.object({ series: z.string(), contracts: int }).strict()),
          portfolioRequirement: int,
          worstScenario: z.number().int(),
          ruleBasedMaintenance: int,
        })
        .strict(),
    ),
  })
  .strict();

/** The listed option series (public market data) and an account's portfolio-margin preview. */
export function optionRoutes(gateway: ChainGateway | undefined): CapabilityRoutes {
  let chain: OptionsChain | undefined;
  const need = (): OptionsChain => {
    if (!gateway) throw new AppError("CHAIN_UNAVAILABLE", "the service has no deployment to read");
    chain ??= optionsChain(gateway);
    return chain;
  };
  return {
    name: "options",
    routes: [
      defineRoute({
        method: "get",
        path: "/v1/options",
        summary: "Listed option series: terms, model price and status, implied volatility, open interest, the fix",
        description:
          "Public market data at one block. price: the router's price of one contract (WAD CNY; the series' feed is " +
          "Black-Scholes on the underlying's round at the reported implied volatility). lockPerContract: what a " +
          "written contract locks in the engine (cash base units for a put, shares for a call).",
        tags: ["options"],
        roles: "public",
        write: false,
        response: seriesSchema,
        handler: async () => readSeries(need()),
      }),
      defineRoute({
        method: "get",
        path: "/v1/options/portfolio-margin/:account",
        summary: "What the scenario grid (SPAN-like) asks of an account's hedged groups, beside the engine's rule",
        description:
          "For each underlying on which the account holds option contracts: the 16-scenario requirement of the shares " +
          "and contracts together (offchain/risk portfolioRequirement, equal to the chain's PortfolioMargin, as " +
          "PortfolioRisk applies it) and the rule-based maintenance of the same positions. portfolioMargined: the " +
          "account opted into portfolio margin (PortfolioRisk.setPortfolioMargin) and the engine applies the grid; " +
          "maintenanceReq: the engine's requirement of the whole account as applied now.",
        tags: ["options"],
        roles: ["client", "risk_officer", "operator", "auditor"],
        write: false,
        params: z.object({ account: address }).strict(),
        response: portfolioMarginSchema,
        handler: async ({ params, caller }) => {
          if (caller.role === "client" && caller.subject.toLowerCase() !== params.account.toLowerCase())
            throw new AppError("FORBIDDEN", "a client reads its own account only", {
              details: { subject: caller.subject },
            });
          return readPortfolioMargin(need(), params.account);
        },
      }),
    ],
  };
}
