import type { Capability } from "../service/capability";
import { webConsoleMounts } from "./index";

/** The web console's static pages (client, capital provider, auditor), told which JSON-RPC URL to use. */
export const webCapability: Capability = {
  name: "web",
  needs: { contracts: [] },
  build: ({ deployment, config, options }) => ({
    staticMounts: webConsoleMounts(deployment ? (options.publicRpcUrl ?? config.chain.rpcUrl) : undefined),
  }),
};
