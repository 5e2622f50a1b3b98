import { lineChart } from "../risk";

const DAY = 86_400;
const WAD = 10n ** 18n;

/** One asset's trading calendar as the OracleRouter holds it (TradingCalendar: local time = unix + utcOffset). */
export interface AssetCalendar {
  utcOffsetSeconds: number;
  /** Weekly windows, `start << 16 | end` in local minutes of the week (Monday 00:00 = 0); empty: open 24/7. */
  windows: number[];
  /** Local days (days since 1970-01-01 in local time) marked closed. */
  holidays: Set<number>;
}

/** True when the calendar has a session on local day `day` (a weekday with a window, not a holiday). */
export function openOnDay(cal: AssetCalendar, day: number): boolean {
  if (cal.holidays.has(day)) return false;
  if (cal.windows.length === 0) return true;
  const weekday = (day + 3) % 7; // 1970-01-01 was a Thursday; Monday = 0
  const [from, to] = [weekday * 1440, (weekday + 1) * 1440];
  return cal.windows.some((w) => w >>> 16 < to && (w & 0xffff) > from);
}

export interface ForecastInputs {
  /** Chain time the forecast starts at (unix seconds). */
  startTime: number;
  /** Natural days forecast (day 0 is the current local day). */
  days: number;
  /** Local time zone of the days (the exchange's: the first security's calendar). */
  utcOffsetSeconds: number;
  /** Cash the pool may pay out now (CapitalPool.availableCash). */
  cash: bigint;
  /** Redemption requests still waiting: the value of their remaining shares now, from their due time. */
  redemptions: { dueAt: number; assets: bigint }[];
  /** Loans repaid when their agreements end: the debt now plus interest to then, at the agreement's end. */
  repayments: { account: string; at: number; amount: bigint }[];
  /** Share of the repayments lost in the stress scenario (WAD): the worst shipped path's pool loss over the debt. */
  stressLossWad: bigint;
  /** The securities' calendars: a day on which none of them trades is a day nothing can be sold or liquidated. */
  calendars: AssetCalendar[];
}

export interface ForecastDay {
  /** Local day number and its date (YYYY-MM-DD, local). */
  day: number;
  date: string;
  /** No security trades: positions cannot be closed, so repayments due wait for the next open day. */
  closed: boolean;
  inflow: bigint;
  outflow: bigint;
  cash: bigint;
  stressedInflow: bigint;
  stressedCash: bigint;
}

export interface Forecast {
  days: ForecastDay[];
  minCash: bigint;
  minStressedCash: bigint;
  /** The first day the stressed cash is below zero (the queue would wait), or null. */
  firstStressedShortfall: string | null;
  /** Closed days in the horizon that precede an open day with repayments: the pre-holiday stress. */
  closedDays: string[];
}

const localDay = (t: number, offset: number): number => Math.floor((t + offset) / DAY);
const dateOf = (day: number): string => new Date(day * DAY * 1000).toISOString().slice(0, 10);

/**
 * The capital pool's cash over the next `days` natural days (pure: every input is read from the chain and the
 * agreements by readForecast). Rules, stated in docs/providers.md:
 * - Outflows: every waiting redemption request on the day it falls due (already due: day 0), at its value now,
 *   without the gate (the gate only spreads them; the forecast shows the whole claim).
 * - Inflows: each agreement's loan repaid at its end, principal plus interest to then. Closing positions needs a
 *   trading session, so a repayment that falls on a day no security trades (weekend, holiday) arrives on the next
 *   open day, or after the horizon.
 * - Stressed: the same with the repayments cut by `stressLossWad` (rounded down: the pool's side is never
 *   flattered).
 */
export function forecastCash(i: ForecastInputs): Forecast {
  const first = localDay(i.startTime, i.utcOffsetSeconds);
  const days = Array.from({ length: i.days }, (_, k) => first + k);
  const closed = new Set(days.filter((d) => i.calendars.length > 0 && !i.calendars.some((c) => openOnDay(c, d))));
  const nextOpen = (d: number): number | undefined => {
    for (let x = Math.max(d, first); x < first + i.days; x++) if (!closed.has(x)) return x;
    return undefined;
  };
  const inflow = new Map<number, bigint>();
  const stressed = new Map<number, bigint>();
  for (const r of i.repayments) {
    // Past due (an agreement ended, its loan not yet repaid): expected on the first open day.
    const d = nextOpen(localDay(r.at, i.utcOffsetSeconds));
    if (d === undefined) continue;
    inflow.set(d, (inflow.get(d) ?? 0n) + r.amount);
    stressed.set(d, (stressed.get(d) ?? 0n) + (r.amount * (WAD - i.stressLossWad)) / WAD);
  }
  const outflow = new Map<number, bigint>();
  for (const r of i.redemptions) {
    const d = Math.max(first, localDay(r.dueAt, i.utcOffsetSeconds));
    if (d >= first + i.days) continue;
    outflow.set(d, (outflow.get(d) ?? 0n) + r.assets);
  }
  let cash = i.cash;
  let stressedCash = i.cash;
  const out: ForecastDay[] = days.map((d) => {
    const inD = inflow.get(d) ?? 0n;
    const sD = stressed.get(d) ?? 0n;
    const outD = outflow.get(d) ?? 0n;
    cash += inD - outD;
    stressedCash += sD - outD;
    return {
      day: d,
      date: dateOf(d),
      closed: closed.has(d),
      inflow: inD,
      outflow: outD,
      cash,
      stressedInflow: sD,
      stressedCash,
    };
  });
  const shortfall = out.find((d) => d.stressedCash < 0n);
  return {
    days: out,
    minCash: out.reduce((m, d) => (d.cash < m ? d.cash : m), i.cash),
    minStressedCash: out.reduce((m, d) => (d.stressedCash < m ? d.stressedCash : m), i.cash),
    firstStressedShortfall: shortfall ? shortfall.date : null,
    closedDays: days.filter((d) => closed.has(d)).map(dateOf),
  };
}

/** The forecast as an SVG line chart (display only: amounts in whole units of the cash token). */
export function forecastChart(f: Forecast, decimals: number, symbol: string): string {
  const unit = 10 ** decimals;
  return lineChart({
    title: "Capital pool cash, next 30 days · 资金池未来30天现金",
    xLabels: f.days.map((d) => d.date.slice(5) + (d.closed ? "*" : "")),
    series: [
      { name: "expected · 预期", values: f.days.map((d) => Number(d.cash) / unit) },
      { name: "stressed · 压力情景", values: f.days.map((d) => Number(d.stressedCash) / unit) },
    ],
    yLabel: symbol,
    references: [{ name: "0", value: 0 }],
  });
}
