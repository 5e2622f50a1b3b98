import { AppError } from "../shared/errors";
import { CLASSES, type ProvidersChain } from "./chain";
import { forecastCash, forecastChart, type AssetCalendar, type Forecast } from "./forecast";
import { readQueue } from "./readClasses";

const DAY = 86_400;
const WAD = 10n ** 18n;
export const FORECAST_DAYS = 30;

/** A financing agreement in force: its client's loan is repaid when it ends. */
export interface LiveAgreement {
  client: string;
  /** Unix seconds. */
  expiresAt: number;
}

export interface ForecastSources {
  /** The agreements in force (anchored, not closed), from the legal records. */
  agreements(): Promise<LiveAgreement[]>;
  /** The stress scenario's loss share of the debt (WAD), from the stress engine on the real book. */
  stressLossWad(): Promise<bigint>;
}

/** The trading calendars of the deployment's securities over local days `first`..`first + days − 1`. */
async function readCalendars(chain: ProvidersChain, startTime: number, days: number): Promise<AssetCalendar[]> {
  const router = chain.router;
  if (!router) return [];
  const securities = chain.deployment.tokens.filter((t) => t.kind !== "cash");
  return Promise.all(
    securities.map(async (t) => {
      const [offset, windows] = await router.session(t.address);
      const first = Math.floor((startTime + Number(offset)) / DAY);
      const days_ = Array.from({ length: days }, (_, k) => first + k);
      const flags = await Promise.all(days_.map((d) => router.isHoliday(t.address, d)));
      return {
        utcOffsetSeconds: Number(offset),
        windows: windows.map(Number),
        holidays: new Set(days_.filter((_, k) => flags[k])),
      };
    }),
  );
}

/**
 * Use case: the pool's cash over the next 30 days — waiting redemptions out, loans repaid at their agreements' end
 * in (interest at the pool's rate now), a stressed line with the stress loss taken off the repayments, and the
 * trading calendars (nothing is repaid on a day nothing can be sold: the pre-holiday stress).
 */
export async function readForecast(
  chain: ProvidersChain,
  sources: ForecastSources,
): Promise<Forecast & { block: number; startTime: number; chartSvg: string }> {
  const { pool, engine } = chain;
  if (!engine) throw new AppError("CHAIN_UNAVAILABLE", "the deployment has no MarginEngine to read the loans from");
  const blockTag = await chain.provider.getBlockNumber();
  const at = { blockTag };
  const startTime = (await chain.provider.getBlock(blockTag))!.timestamp;
  const [cash, ratePerDay, agreements, stressLossWad, calendars] = await Promise.all([
    pool.availableCash(at),
    pool.ratePerDay(at),
    sources.agreements(),
    sources.stressLossWad(),
    readCalendars(chain, startTime, FORECAST_DAYS),
  ]);
  // One loan per client: it is repaid when its first agreement in force ends.
  const ends = new Map<string, number>();
  for (const a of agreements) {
    const k = a.client.toLowerCase();
    ends.set(k, Math.min(ends.get(k) ?? Number.MAX_SAFE_INTEGER, a.expiresAt));
  }
  const repayments = (
    await Promise.all(
      [...ends].map(async ([client, end]) => {
        const view = await engine.accountView(client, at);
        if (view.debt === 0n) return undefined;
        const days = BigInt(Math.max(0, Math.ceil((end - startTime) / DAY)));
        return { account: client, at: end, amount: view.debt + (view.debt * ratePerDay * days) / WAD };
      }),
    )
  ).filter((r): r is { account: string; at: number; amount: bigint } => r !== undefined);
  const redemptions = (
    await Promise.all(
      CLASSES.map(async (name) => {
        const q = await readQueue(chain, name, blockTag);
        return Promise.all(
          q.waiting.map(async (r) => ({
            dueAt: r.dueAt,
            assets: await chain.vaults[name].convertToAssets(r.remaining, at),
          })),
        );
      }),
    )
  ).flat();
  const f = forecastCash({
    startTime,
    days: FORECAST_DAYS,
    utcOffsetSeconds: calendars[0]?.utcOffsetSeconds ?? 0,
    cash,
    redemptions,
    repayments,
    stressLossWad,
    calendars,
  });
  const cashToken = chain.deployment.tokens.find((t) => t.kind === "cash");
  return {
    ...f,
    block: blockTag,
    startTime,
    chartSvg: forecastChart(f, cashToken?.decimals ?? 0, cashToken?.symbol ?? ""),
  };
}
