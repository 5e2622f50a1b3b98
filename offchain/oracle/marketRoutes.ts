import { z } from "zod";
import { defineRoute, type CapabilityRoutes } from "../api";
import { AppError } from "../shared/errors";
import type { MarketSimulator } from "./sources/simulator";
import { FEED_DECIMALS } from "./types";

const MarketView = z.object({
  steps: z.number(),
  assets: z.array(
    z.object({
      symbol: z.string(),
      price: z.string().openapi({ description: `model price in feed units (${FEED_DECIMALS} decimals)` }),
      pendingMoveBps: z.number().openapi({ description: "what is left of a scheduled move, in bps" }),
    }),
  ),
});

/**
 * The development market's controls (`npm start` only; production has a real price source and no such routes):
 * the risk officer can read the simulator and schedule a move — how the demo makes prices fall. The move reaches
 * the chain the way every price does: the reporters read the simulator, sign, and the relayer transmits.
 */
export function marketSimulatorRoutes(simulator: MarketSimulator, symbols: readonly string[]): CapabilityRoutes {
  const view = (): z.input<typeof MarketView> => ({
    steps: simulator.stepCount,
    assets: symbols.map((symbol) => ({
      symbol,
      price: (simulator.feedPrice(symbol) ?? 0n).toString(),
      pendingMoveBps: simulator.pendingMoveBps(symbol),
    })),
  });
  return {
    name: "dev-market",
    routes: [
      defineRoute({
        method: "get",
        path: "/v1/dev/market",
        summary: "The development market simulator: model prices and scheduled moves",
        tags: ["dev-market"],
        roles: ["risk_officer", "operator"],
        write: false,
        response: MarketView,
        handler: async () => view(),
      }),
      defineRoute({
        method: "post",
        path: "/v1/dev/market/shocks",
        summary: "Schedule a price move on the development market (reaches the chain through the reporters)",
        description:
          "The move is spread over the simulator's next steps, at most maxStepBps per step (default 1500), so the " +
          "oracle router's breaker (20% per round) stays armed; a new move on a symbol replaces the rest of the last.",
        tags: ["dev-market"],
        roles: ["risk_officer"],
        write: true,
        action: "market.shock",
        body: z
          .object({
            symbol: z.string().min(1).max(32),
            moveBps: z.number().int().gt(-10_000).max(100_000).openapi({ description: "-2500 = a 25% fall" }),
            maxStepBps: z.number().int().min(1).max(9_999).optional(),
          })
          .strict(),
        response: MarketView,
        handler: async ({ body }) => {
          if (!symbols.includes(body.symbol)) {
            throw new AppError("VALIDATION_FAILED", `body.symbol: not a simulated security (${symbols.join(", ")})`, {
              details: { field: "symbol" },
            });
          }
          simulator.shock(body.symbol, body.moveBps, body.maxStepBps);
          return view();
        },
      }),
    ],
  };
}
