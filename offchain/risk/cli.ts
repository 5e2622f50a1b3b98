/**
 * Stress tests on an accounts file: writes report.json and the SVG charts to a directory.
 *
 *   npx ts-node --transpile-only offchain/risk/cli.ts --accounts book.json --out out/risk \
 *     [--paths 200] [--days 20] [--seed 1] [--var-paths 10000] [--shock-paths <dir>]
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parseBookFile } from "./bookFile";
import { buildStressReport, stressCharts, stressReportJson } from "./report";
import { loadShockPaths, SHIPPED_SHOCK_PATHS_DIR } from "./stress/shockPaths";

/** Runs the CLI on `argv`; the one-line JSON summary goes to `print` (stdout by default). */
export function main(argv: string[], print: (line: string) => void = console.log): void {
  const { values } = parseArgs({
    args: argv,
    options: {
      accounts: { type: "string" },
      out: { type: "string" },
      paths: { type: "string", default: "200" },
      days: { type: "string", default: "20" },
      seed: { type: "string", default: "1" },
      "var-paths": { type: "string", default: "10000" },
      "shock-paths": { type: "string", default: SHIPPED_SHOCK_PATHS_DIR },
    },
    strict: true,
  });
  if (!values.accounts || !values.out) {
    throw new Error("usage: cli.ts --accounts <file.json> --out <dir> [--paths N] [--days N] [--seed N]");
  }
  const positive = (name: string, text: string) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
    return n;
  };
  const { book, betas, model, simulation } = parseBookFile(JSON.parse(readFileSync(values.accounts, "utf8")));
  const started = Date.now();
  const report = buildStressReport(book, {
    shockPaths: loadShockPaths(values["shock-paths"]),
    betas,
    model,
    simulation,
    monteCarlo: {
      paths: positive("paths", values.paths),
      days: positive("days", values.days),
      seed: positive("seed", values.seed),
    },
    valueAtRisk: { confidence: 0.99, horizons: [1, 10], paths: positive("var-paths", values["var-paths"]) },
  });
  mkdirSync(values.out, { recursive: true });
  writeFileSync(join(values.out, "report.json"), stressReportJson(report) + "\n");
  const charts = stressCharts(report, book.market.cashDecimals);
  for (const chart of charts) writeFileSync(join(values.out, chart.file), chart.svg);
  print(
    JSON.stringify({
      out: values.out,
      accounts: book.accounts.length,
      scenarios: report.historical.map((s) => ({
        id: s.scenarioId,
        accountsLiquidated: s.accountsLiquidated,
        badDebt: s.badDebt.toString(),
        capitalPoolLoss: s.capitalPoolLoss.toString(),
      })),
      charts: charts.map((c) => c.file),
      ms: Date.now() - started,
    }),
  );
}

if (require.main === module) {
  try {
    main(process.argv.slice(2));
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  }
}
