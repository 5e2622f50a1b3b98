import { Wallet } from "ethers";
import { TxSender } from "../chain/sender";
import { portfolioChain, readBook, stressOf } from "../portfolio";
import type { Capability } from "../service/capability";
import { DEV_KEYS } from "../shared/config";
import type { Job } from "../shared/jobs";
import { PROVIDER_CONTRACTS, providersChain } from "./chain";
import type { ForecastSources, LiveAgreement } from "./readForecast";
import { providerRoutes } from "./routes";
import { SERVE_ERROR_INTERFACES, serveDueRedemptions } from "./serveQueue";

const WAD = 10n ** 18n;

/**
 * The capital providers: both share classes, a provider's own position and queue place, the scheduled changes,
 * the 30-day cash-flow forecast, and the `redemption-queue` job that serves due requests as cash comes back.
 */
export const providersCapability: Capability = {
  name: "providers",
  needs: { contracts: [...PROVIDER_CONTRACTS] },
  build: ({ store, chain, config, log }) => {
    const plog = log.child({ component: "providers" });
    const sources: ForecastSources = {
      agreements: async () => {
        const anchored = await store.legal.listAgreementsByStatus("anchored");
        return anchored.map((a): LiveAgreement => ({
          client: a.document.terms.client.address,
          expiresAt: a.document.terms.expiresAt,
        }));
      },
      // The worst shipped path's pool loss as a share of the debt on the real book (needs the margin layer).
      stressLossWad: async () => {
        const pc = portfolioChain(chain!);
        const book = await readBook(pc);
        const s = stressOf(book, pc);
        const debt = BigInt(s.book.debt);
        if (debt === 0n) return 0n;
        const worst = s.scenarios
          .filter((x) => x.kind === "historical")
          .reduce((m, x) => (BigInt(x.capitalPoolLoss) > m ? BigInt(x.capitalPoolLoss) : m), 0n);
        return (worst * WAD) / debt;
      },
    };
    const key = config.providers.queueServerKey ?? (config.env === "development" ? DEV_KEYS.queueServerKey : undefined);
    const jobs: Job[] = [];
    if (key) {
      const sender = new TxSender(
        new Wallet(key, chain!.provider),
        SERVE_ERROR_INTERFACES,
        chain!.retry,
        plog.child({ signer: "queueServer" }),
      );
      const pc = providersChain(chain!);
      jobs.push({
        name: "redemption-queue",
        intervalMs: config.providers.queueIntervalMs,
        timeoutMs: 120_000,
        run: () => serveDueRedemptions({ chain: pc, sender, maxSteps: config.providers.queueMaxSteps, log: plog }),
      });
    }
    return {
      routes: [providerRoutes({ chain, forecast: sources })],
      jobs,
      partial: key ? undefined : "no queue server key: due redemptions wait for anyone to call serveQueue",
    };
  },
};
