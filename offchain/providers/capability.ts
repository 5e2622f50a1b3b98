import { Wallet } from "ethers";
import { TxSender } from "../chain/sender";
import { portfolioChain, readBook, stressOf } from "../portfolio";
import type { Capability } from "../service/capability";
import { DEV_KEYS } from "../shared/config";
import type { Job } from "../shared/jobs";
import { PROVIDER_CONTRACTS, providersChain } from "./chain";
import { readForecast, type ForecastSources, type LiveAgreement } from "./readForecast";
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
    // One set of bindings for the queue job and the forecast job (the routes bind theirs on first use).
    const providers = providersChain(chain!);
    // Bound once: every forecast asks the stress engine for the loss share on the real book.
    const portfolio = portfolioChain(chain!);
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
        const book = await readBook(portfolio);
        // Nothing lent, or nothing held that could fall: no stress loss (and no market for the stress engine).
        const accounts = book.book.accounts;
        if (accounts.every((a) => a.debt === 0n) || accounts.every((a) => a.positions.length === 0)) return 0n;
        const s = stressOf(book, portfolio);
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
      jobs.push({
        name: "redemption-queue",
        intervalMs: config.providers.queueIntervalMs,
        timeoutMs: 120_000,
        run: () =>
          serveDueRedemptions({ chain: providers, sender, maxSteps: config.providers.queueMaxSteps, log: plog }),
      });
    }
    // The forecast job: every ten minutes, the 30-day forecast; a stressed shortfall is a warning for the risk
    // officer (the log, and the capability's facts in GET /v1/status).
    let lastForecast: Record<string, unknown> | undefined;
    jobs.push({
      name: "cash-flow-forecast",
      intervalMs: 600_000,
      timeoutMs: 120_000,
      run: async () => {
        const f = await readForecast(providers, sources);
        lastForecast = {
          block: f.block,
          minCash: f.minCash.toString(),
          minStressedCash: f.minStressedCash.toString(),
          firstStressedShortfall: f.firstStressedShortfall,
          closedDays: f.closedDays.length,
        };
        if (f.firstStressedShortfall)
          plog.warn("cash-flow forecast: the pool runs short under stress", { ...lastForecast });
        else plog.info("cash-flow forecast", { ...lastForecast });
      },
    });
    return {
      routes: [providerRoutes({ chain, forecast: sources })],
      jobs,
      status: () => (lastForecast ? { cashFlowForecast: lastForecast } : {}),
      partial: key ? undefined : "no queue server key: due redemptions wait for anyone to call serveQueue",
    };
  },
};
