import { numberFromWad, ratioDown } from "./fixed";
import { accountLiquidation, type AccountLiquidation } from "./liquidationPrice";
import { barChart, lineChart } from "./charts/svg";
import { runMonteCarlo, type MarketModel, type MonteCarloOptions, type MonteCarloResult } from "./stress/monteCarlo";
import { historicalScenario, type ShockPath } from "./stress/shockPaths";
import { runScenario, type ScenarioResult, type SimulationOptions } from "./stress/simulate";
import { valueAccount } from "./valuation";
import { bookExposures, historicalVar, monteCarloVar, type VarFigure } from "./var";
import type { Book } from "./types";

export interface StressReportOptions {
  readonly shockPaths: readonly ShockPath[];
  /** Multiplier of the index return per asset in historical scenarios (1 if absent). */
  readonly betas: Readonly<Record<string, number>>;
  readonly model: MarketModel;
  readonly monteCarlo: MonteCarloOptions;
  readonly simulation: SimulationOptions;
  readonly valueAtRisk: { readonly confidence: number; readonly horizons: readonly number[]; readonly paths: number };
}

export interface BookSummary {
  readonly accounts: number;
  readonly collateralValue: bigint;
  readonly debt: bigint;
  readonly equity: bigint;
  readonly maintenanceRequirement: bigint;
  /** Σ E / Σ V and Σ M / Σ V (WAD). */
  readonly marginRatio: bigint | undefined;
  readonly maintenanceLine: bigint | undefined;
  readonly accountsByState: Readonly<Record<string, number>>;
  readonly insuranceFund: bigint;
  readonly poolCash: bigint;
}

export interface StressReport {
  readonly units: { readonly money: string; readonly ratios: string; readonly prices: string };
  /** The assumptions the figures rest on, echoed so a reader of the JSON sees them. */
  readonly assumptions: {
    readonly betas: Readonly<Record<string, number>>;
    readonly dailyLiquidationLimit: SimulationOptions["dailyLiquidationLimit"];
    readonly model: MarketModel;
  };
  readonly book: BookSummary;
  readonly liquidationThresholds: readonly AccountLiquidation[];
  readonly historical: readonly ScenarioResult[];
  readonly monteCarlo: MonteCarloResult;
  readonly valueAtRisk: readonly VarFigure[];
}

export function summariseBook(book: Book): BookSummary {
  let collateralValue = 0n;
  let debt = 0n;
  let equity = 0n;
  let maintenanceRequirement = 0n;
  const accountsByState: Record<string, number> = {};
  for (const account of book.accounts) {
    const v = valueAccount(account, book.market);
    collateralValue += v.collateralValue;
    debt += v.debt;
    equity += v.equity;
    maintenanceRequirement += v.maintenanceRequirement;
    accountsByState[v.state] = (accountsByState[v.state] ?? 0) + 1;
  }
  return {
    accounts: book.accounts.length,
    collateralValue,
    debt,
    equity,
    maintenanceRequirement,
    marginRatio: ratioDown(equity, collateralValue),
    maintenanceLine: ratioDown(maintenanceRequirement, collateralValue),
    accountsByState,
    insuranceFund: book.funding.insuranceFund,
    poolCash: book.funding.poolCash,
  };
}

/**
 * Everything the risk officer's stress page shows for one book: thresholds per account, each historical shock
 * path, the Monte Carlo distribution, and VaR / expected shortfall (historical over the shipped paths — a
 * stressed VaR, since those paths are crashes — and Monte Carlo) for every horizon.
 */
export function buildStressReport(book: Book, options: StressReportOptions): StressReport {
  const assets = [...book.market.assets.keys()];
  const exposures = bookExposures(book);
  const historical = options.shockPaths.map((path) => historicalScenario(path, assets, options.betas));
  const historicalReturns = historical.map((scenario) =>
    scenario.returns.map((day) => new Map([...day].map(([asset, r]) => [asset, numberFromWad(r)]))),
  );
  const { confidence, horizons, paths } = options.valueAtRisk;
  const valueAtRisk = horizons.flatMap((horizonDays, h) => [
    ...(historicalReturns.some((series) => series.length >= horizonDays)
      ? [historicalVar(exposures, historicalReturns, confidence, horizonDays)]
      : []),
    monteCarloVar(exposures, options.model, { confidence, horizonDays, paths, seed: options.monteCarlo.seed + h + 1 }),
  ]);
  return {
    units: {
      money: `cash base units (10^-${book.market.cashDecimals} of the quote currency), as decimal strings`,
      ratios: "18-decimal fixed point (1e18 = 100%), as decimal strings",
      prices: "18-decimal per whole token in the quote currency",
    },
    assumptions: {
      betas: options.betas,
      dailyLiquidationLimit: options.simulation.dailyLiquidationLimit ?? {},
      model: options.model,
    },
    book: summariseBook(book),
    liquidationThresholds: book.accounts.map((account) => accountLiquidation(account, book.market)),
    historical: historical.map((scenario) => runScenario(book, scenario, options.simulation)),
    monteCarlo: runMonteCarlo(book, options.model, options.monteCarlo, options.simulation),
    valueAtRisk,
  };
}

/** The report as JSON: every bigint as a decimal string of its integer units (see `units`). */
export function stressReportJson(report: StressReport): string {
  return JSON.stringify(report, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value), 2);
}

export interface ChartFile {
  readonly file: string;
  readonly title: string;
  readonly svg: string;
}

/**
 * The console's charts: per historical scenario and for the worst Monte Carlo path, the book's collateral value,
 * debt and equity, and its margin ratio against the maintenance line; one bar chart comparing the scenarios'
 * losses; one of VaR and expected shortfall.
 */
export function stressCharts(report: StressReport, cashDecimals: number): ChartFile[] {
  const unit = 10 ** cashDecimals;
  const money = (x: bigint) => Number(x) / unit;
  const percent = (x: bigint | undefined) => (x === undefined ? undefined : numberFromWad(x) * 100);
  const formatPercent = (y: number) => `${Number(y.toPrecision(3))}%`;
  const scenarios = [...report.historical, report.monteCarlo.worstPath];
  const charts: ChartFile[] = scenarios.flatMap((s) => {
    const id = s.scenarioId.startsWith("monte-carlo") ? "monte-carlo-worst" : s.scenarioId;
    const bookTitle = `${s.name}: book value (${report.book.accounts} accounts)`;
    const ratioTitle = `${s.name}: margin ratio of the book`;
    return [
      {
        file: `${id}-book.svg`,
        title: bookTitle,
        svg: lineChart({
          title: bookTitle,
          xLabels: s.daily.map((d) => d.day),
          yLabel: "quote currency",
          series: [
            { name: "collateral value", values: s.daily.map((d) => money(d.collateralValue)) },
            { name: "debt", values: s.daily.map((d) => money(d.debt)) },
            { name: "equity", values: s.daily.map((d) => money(d.equity)) },
            { name: "capital pool loss", values: s.daily.map((d) => money(d.capitalPoolLoss)) },
          ],
        }),
      },
      {
        file: `${id}-ratio.svg`,
        title: ratioTitle,
        svg: lineChart({
          title: ratioTitle,
          xLabels: s.daily.map((d) => d.day),
          yLabel: "equity / collateral value",
          series: [{ name: "margin ratio", values: s.daily.map((d) => percent(d.marginRatio)) }],
          references:
            report.book.maintenanceLine === undefined
              ? []
              : [{ name: "maintenance line at start", value: percent(report.book.maintenanceLine) ?? 0 }],
          formatY: formatPercent,
        }),
      },
    ];
  });
  const labels = scenarios.map((s) => (s.scenarioId.startsWith("monte-carlo") ? "Monte Carlo worst" : s.scenarioId));
  const lossTitle = "Stress scenarios: liquidations and losses";
  charts.push({
    file: "scenarios.svg",
    title: lossTitle,
    svg: barChart({
      title: lossTitle,
      categories: [...labels, "Monte Carlo p99"],
      yLabel: "quote currency",
      series: [
        {
          name: "liquidation volume",
          values: [...scenarios.map((s) => money(s.liquidationVolume)), money(report.monteCarlo.liquidationVolume.p99)],
        },
        { name: "bad debt", values: [...scenarios.map((s) => money(s.badDebt)), money(report.monteCarlo.badDebt.p99)] },
        {
          name: "insurance fund used",
          values: [...scenarios.map((s) => money(s.insuranceFundUsed)), money(report.monteCarlo.insuranceFundUsed.p99)],
        },
        {
          name: "capital pool loss",
          values: [...scenarios.map((s) => money(s.capitalPoolLoss)), money(report.monteCarlo.capitalPoolLoss.p99)],
        },
      ],
    }),
  });
  const varTitle = `Value at risk of the book (${report.valueAtRisk[0]?.confidence ?? 0.99} confidence)`;
  charts.push({
    file: "value-at-risk.svg",
    title: varTitle,
    svg: barChart({
      title: varTitle,
      categories: report.valueAtRisk.map((v) => `${v.method} ${v.horizonDays}d`),
      yLabel: "quote currency",
      series: [
        { name: "value at risk", values: report.valueAtRisk.map((v) => money(v.valueAtRisk)) },
        { name: "expected shortfall", values: report.valueAtRisk.map((v) => money(v.expectedShortfall)) },
      ],
    }),
  });
  return charts;
}
