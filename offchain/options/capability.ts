import { Wallet } from "ethers";
import { TxSender } from "../chain/sender";
import type { Capability } from "../service/capability";
import { DEV_KEYS } from "../shared/config";
import type { Job } from "../shared/jobs";
import { OptionMarket__factory, MarginEngine__factory } from "../../typechain-types";
import { OPTION_CONTRACTS, optionsChain } from "./chain";
import { optionRoutes } from "./routes";
import { settleExpiredSeries } from "./settle";

/**
 * Listed options (issue 26): the series as market data (GET /v1/options), an account's portfolio-margin preview, and
 * the `option-settlement` job that fixes, exercises and releases every series after its fixing window.
 */
export const optionsCapability: Capability = {
  name: "options",
  needs: { contracts: [...OPTION_CONTRACTS] },
  build: ({ chain, config, log }) => {
    const olog = log.child({ component: "options" });
    const key = config.options.settlerKey ?? (config.env === "development" ? DEV_KEYS.optionSettlerKey : undefined);
    const jobs: Job[] = [];
    let last: Record<string, unknown> | undefined;
    if (key) {
      const sender = new TxSender(
        new Wallet(key, chain!.provider),
        [OptionMarket__factory.createInterface(), MarginEngine__factory.createInterface()],
        chain!.retry,
        olog.child({ signer: "optionSettler" }),
      );
      const options = optionsChain(chain!);
      jobs.push({
        name: "option-settlement",
        intervalMs: config.options.settleIntervalMs,
        timeoutMs: 300_000,
        run: async () => {
          const out = await settleExpiredSeries({ chain: options, sender, log: olog });
          if (out.fixed.length + out.exercised + out.released > 0) last = { ...out, at: new Date().toISOString() };
        },
      });
    }
    return {
      routes: [optionRoutes(chain)],
      jobs,
      status: () => (last ? { optionSettlement: last } : {}),
      partial: key ? undefined : "no option settler key: expired series wait for anyone to fix and settle them",
    };
  },
};
