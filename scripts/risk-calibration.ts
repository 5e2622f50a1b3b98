/**
 * npm run risk:calibrate — calibrates the dynamic margin (issue 23) and writes docs/charts/calibration-*.svg plus one
 * JSON line per figure:
 *   - per shipped shock path (2015, 2020), each tier's maintenance margin and highest leverage day by day, with each
 *     tier's σ_daily measured by the router's estimator (offchain/risk/volatility.ts, bit for bit the chain's) on
 *     the index's daily returns scaled by the tier's beta;
 *   - the development market simulator pushed every minute and every ten minutes: the same σ, margins and leverage
 *     (the estimator is per unit of time, not per round);
 *   - the share of the sample book's accounts a 2015-style path takes from Healthy to Liquidatable with the static
 *     margins and with the dynamic ones, without and with the price impact of forced sales.
 * Margins are the deployment's dev tiers (scripts/deploy/margin.ts), the half-life the router's (one day).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  DEFAULT_BETA_BY_TIER,
  NO_HISTORY,
  dailyReturns,
  dailyVolatility,
  historicalScenario,
  lineChart,
  loadShockPaths,
  nextVolatilityState,
  parseBookFile,
  runScenario,
  tierMargins,
  valueAccount,
  wadFromNumber,
  type LiquidityTier,
  type TierRule,
  type VolatilityState,
} from "../offchain/risk";
import { DEMO_ASSETS, MarketSimulator } from "../offchain/oracle/sources/simulator";
import { DEFAULT_TIER_RISK } from "./deploy/margin";
import { DEV_ORACLE_PARAMS } from "./deploy/oracle";

const DAY = 86_400n;
const TIERS = [1, 2, 3] as const;
const OUT = path.join(__dirname, "..", "docs", "charts");
const rules = Object.fromEntries(
  TIERS.map((t) => {
    const r = DEFAULT_TIER_RISK[t];
    return [
      t,
      {
        liquidityAddOn: BigInt(r.liquidityAddOn),
        volatilityMultiplier: BigInt(r.volatilityMultiplier),
        floor: BigInt(r.floor),
        cap: BigInt(r.cap),
        initialBuffer: BigInt(r.initialBuffer),
      },
    ];
  }),
) as Record<LiquidityTier, TierRule>;
/** The fixed mode's maintenance per tier: the rule at the tier's fixedVolatility, the same through every path. */
const fixedMaintenance = Object.fromEntries(
  TIERS.map((t) => [t, tierMargins(rules[t], BigInt(DEFAULT_TIER_RISK[t].fixedVolatility)).maintenance]),
) as Record<LiquidityTier, bigint>;
const halfLife = BigInt(DEV_ORACLE_PARAMS.volatilityHalfLife);
const pct = (x: bigint): number => Number(x) / 1e16;
const lev = (x: bigint): number => Number(x) / 1e18;
const emit = (line: Record<string, unknown>): void => console.log(JSON.stringify(line));

interface Series {
  labels: string[];
  maintenance: Record<LiquidityTier, number[]>;
  leverage: Record<LiquidityTier, number[]>;
  sigma: Record<LiquidityTier, number[]>;
}

/** Margins through a path of (label, seconds since the previous point, log return per tier). */
function marginsThrough(points: { label: string; dt: bigint; r: Record<LiquidityTier, number> }[]): Series {
  const state: Record<LiquidityTier, VolatilityState> = { 1: NO_HISTORY, 2: NO_HISTORY, 3: NO_HISTORY };
  const out: Series = {
    labels: [],
    maintenance: { 1: [], 2: [], 3: [] },
    leverage: { 1: [], 2: [], 3: [] },
    sigma: { 1: [], 2: [], 3: [] },
  };
  for (const p of points) {
    out.labels.push(p.label);
    for (const t of TIERS) {
      state[t] = nextVolatilityState(state[t], wadFromNumber(p.r[t]), p.dt, halfLife);
      const sigma = dailyVolatility(state[t]);
      const m = tierMargins(rules[t], sigma);
      out.sigma[t].push(pct(sigma));
      out.maintenance[t].push(pct(m.maintenance));
      out.leverage[t].push(lev(m.maxLeverage));
    }
  }
  return out;
}

function chart(file: string, title: string, s: Series): void {
  mkdirSync(OUT, { recursive: true });
  const series = (what: "maintenance" | "leverage", unit: string) =>
    TIERS.map((t) => ({ name: `tier ${t} ${unit}`, values: s[what][t] }));
  // the fixed mode's maintenance beside the dynamic one: flat through the path
  const fixed = TIERS.map((t) => ({
    name: `tier ${t} fixed mode`,
    values: s.labels.map(() => pct(fixedMaintenance[t])),
  }));
  writeFileSync(
    path.join(OUT, `${file}-maintenance.svg`),
    lineChart({
      title: `${title}: maintenance margin by tier (%)`,
      xLabels: s.labels,
      series: [...series("maintenance", "maintenance"), ...fixed],
      yLabel: "%",
    }),
  );
  writeFileSync(
    path.join(OUT, `${file}-leverage.svg`),
    lineChart({
      title: `${title}: highest leverage by tier (1 / initial margin)`,
      xLabels: s.labels,
      series: series("leverage", "leverage"),
      yLabel: "×",
    }),
  );
}

function summarise(name: string, s: Series): void {
  for (const t of TIERS) {
    emit({
      calibration: name,
      tier: t,
      maintenance_min_pct: Math.min(...s.maintenance[t]).toFixed(2),
      maintenance_max_pct: Math.max(...s.maintenance[t]).toFixed(2),
      leverage_max: Math.max(...s.leverage[t]).toFixed(2),
      leverage_min: Math.min(...s.leverage[t]).toFixed(2),
      sigma_daily_max_pct: Math.max(...s.sigma[t]).toFixed(2),
      fixed_mode_maintenance_pct: pct(fixedMaintenance[t]).toFixed(2),
      points_dynamic_above_fixed: s.maintenance[t].filter((m) => m > pct(fixedMaintenance[t])).length,
      points: s.maintenance[t].length,
    });
  }
}

function main(): void {
  // Shipped historical paths: daily closes, each tier moving by its beta times the index.
  for (const shock of loadShockPaths()) {
    const s = marginsThrough(
      dailyReturns(shock).map(({ date, r }) => ({
        label: date.slice(5),
        dt: DAY,
        r: {
          1: Math.log1p(DEFAULT_BETA_BY_TIER[1] * r),
          2: Math.log1p(DEFAULT_BETA_BY_TIER[2] * r),
          3: Math.log1p(DEFAULT_BETA_BY_TIER[3] * r),
        },
      })),
    );
    chart(`calibration-${shock.id}`, shock.name, s);
    summarise(shock.id, s);
  }

  // The development simulator over 10 days, pushed every minute and every 10 minutes: the same margins.
  for (const every of [60, 600]) {
    const sim = new MarketSimulator({ seed: 20261206, assets: DEMO_ASSETS, stepSeconds: 60 });
    const symbols: Record<LiquidityTier, string> = { 1: "mbBANK", 2: "mbTECH", 3: "mbSMALL" };
    const last = Object.fromEntries(TIERS.map((t) => [t, sim.price(symbols[t])!])) as Record<LiquidityTier, number>;
    const points: { label: string; dt: bigint; r: Record<LiquidityTier, number> }[] = [];
    for (let second = 60; second <= 10 * 86_400; second += 60) {
      sim.step();
      if (second % every !== 0) continue;
      const r = {} as Record<LiquidityTier, number>;
      for (const t of TIERS) {
        const p = sim.price(symbols[t])!;
        r[t] = Math.log(p / last[t]);
        last[t] = p;
      }
      points.push({ label: `d${Math.ceil(second / 86_400)}`, dt: BigInt(every), r });
    }
    const s = marginsThrough(points);
    summarise(`simulator, pushed every ${every} s`, s);
    if (every === 600) chart("calibration-simulator", "Development simulator (pushed every 10 minutes)", s);
  }

  // The share of accounts a 2015-style path takes from Healthy to Liquidatable, static against dynamic margins.
  const sample = parseBookFile(
    JSON.parse(readFileSync(path.join(__dirname, "..", "offchain", "risk", "examples", "sample-book.json"), "utf8")),
  );
  const book = sample.book;
  const healthy = book.accounts.filter((a) => valueAccount(a, book.market).state === "Healthy").length;
  const assets = [...book.market.assets.keys()];
  const betas = Object.fromEntries(
    assets.map((a) => [a, DEFAULT_BETA_BY_TIER[book.market.assets.get(a)!.liquidityTier]]),
  );
  const adv = Object.fromEntries(
    assets.map((a) => [
      a,
      book.accounts.reduce((s, acc) => s + valueAccount(acc, book.market).collateralValue, 0n) / 20n,
    ]),
  );
  for (const shock of loadShockPaths().filter((p) => p.id.includes("2015"))) {
    const scenario = historicalScenario(shock, assets, { ...sample.betas, ...betas });
    const dynamic = { tiers: rules, halfLifeSeconds: halfLife };
    const runs = {
      static: runScenario(book, scenario, sample.simulation),
      dynamic: runScenario(book, scenario, { ...sample.simulation, dynamicMargin: dynamic }),
      "static + impact": runScenario(book, scenario, { ...sample.simulation, impact: { coefficient: 1, adv } }),
      "dynamic + impact": runScenario(book, scenario, {
        ...sample.simulation,
        dynamicMargin: dynamic,
        impact: { coefficient: 1, adv },
      }),
    };
    for (const [mode, r] of Object.entries(runs)) {
      emit({
        calibration: `${shock.id}: accounts liquidated`,
        mode,
        accounts: book.accounts.length,
        healthy_before: healthy,
        liquidated: r.accountsLiquidated,
        share_pct: ((100 * r.accountsLiquidated) / book.accounts.length).toFixed(1),
        first_liquidation: r.daily.find((d) => d.accountsLiquidated > 0)?.day ?? null,
        liquidation_volume: r.liquidationVolume.toString(),
        bad_debt: (r.badDebt + r.shortfallOutstanding).toString(),
      });
    }
  }
}

main();
