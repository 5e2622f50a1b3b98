import type { Capability } from "../service/capability";
import { portfolioRoutes } from "./routes";

/** Portfolio reads (accounts, the pool, stress) straight from the chain; bound on first use. */
export const portfolioCapability: Capability = {
  name: "portfolio",
  needs: { contracts: [] },
  build: ({ chain, config, options }) => ({
    routes: [portfolioRoutes({ chain, publicRpcUrl: options.publicRpcUrl ?? config.chain.rpcUrl })],
  }),
};
