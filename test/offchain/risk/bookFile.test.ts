import { expect } from "chai";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  RiskError,
  historicalScenario,
  loadShockPaths,
  parseBookFile,
  parseDecimal,
  runScenario,
  type BookFile,
} from "../../../offchain/risk";
import { main } from "../../../offchain/risk/cli";
import { pct, smallBook } from "./book";
import { findAll, parseXml } from "./xml";

/** smallBook() as the CLI's accounts file. */
const SMALL_BOOK_FILE: BookFile = {
  cashDecimals: 6,
  assets: [
    {
      asset: "mbBANK",
      decimals: 0,
      haircut: "0",
      initialMargin: "0.20",
      maintenanceMargin: "0.15",
      liquidationPenalty: "0.05",
      liquidityTier: 1,
      price: "10",
    },
    {
      asset: "mbSMALL",
      decimals: 0,
      haircut: "0",
      initialMargin: "0.4",
      maintenanceMargin: "0.3",
      liquidationPenalty: "0.1",
      liquidityTier: 3,
      price: "20.00",
    },
  ],
  accounts: [
    { id: "A", debt: "100000", annualRate: "0.08", positions: [{ asset: "mbBANK", quantity: "20000" }] },
    {
      id: "B",
      cash: "0",
      debt: "200000.000000",
      annualRate: "0.08",
      positions: [
        { asset: "mbBANK", quantity: "10000" },
        { asset: "mbSMALL", quantity: "10000" },
      ],
    },
    { id: "C", debt: "90000", annualRate: "0.08", positions: [{ asset: "mbSMALL", quantity: "5000" }] },
  ],
  funding: { insuranceFund: "0", poolCash: "100000", insuranceShareOfPenalty: "0.5" },
};

describe("risk: accounts file and CLI", () => {
  it("parses decimals exactly and refuses more places than the unit has", () => {
    expect(parseDecimal("43.835617", 6)).to.equal(43_835_617n);
    expect(parseDecimal("0.08", 18)).to.equal(pct(8));
    expect(parseDecimal("12", 0)).to.equal(12n);
    expect(() => parseDecimal("1.5", 0)).to.throw(RiskError, "more than 0 decimal places");
    expect(() => parseDecimal("1e5", 6)).to.throw(RiskError, "not a decimal");
  });

  it("reads an accounts file into the same book as the typed fixture, with tier defaults", () => {
    const parsed = parseBookFile(SMALL_BOOK_FILE);
    expect(parsed.book).to.deep.equal(smallBook());
    expect(parsed.betas).to.deep.equal({ mbBANK: 0.9, mbSMALL: 1.3 });
    expect(parsed.model.annualVolatility).to.deep.equal([0.25, 0.5]);
    expect(parsed.model.correlation).to.deep.equal([
      [1, 0.6],
      [0.6, 1],
    ]);
    expect(parsed.simulation.dailyLiquidationLimit).to.deep.equal({ 2: pct(50), 3: pct(25) });
  });

  it("accepts the shipped sample book", () => {
    const sample = JSON.parse(
      readFileSync(join(__dirname, "../../../offchain/risk/examples/sample-book.json"), "utf8"),
    );
    const { book, betas } = parseBookFile(sample);
    expect(book.accounts).to.have.length(9);
    expect(betas).to.deep.equal({ mbBANK: 0.9, mbTECH: 1.1, mbSMALL: 1.3 });
  });

  it("rejects unknown fields, negative amounts, unknown assets and ratios of 100% or more", () => {
    const code = (file: unknown) => {
      try {
        parseBookFile(file);
        return "accepted";
      } catch (e) {
        return (e as RiskError).code;
      }
    };
    expect(code({ ...SMALL_BOOK_FILE, extra: true })).to.equal("RISK_INVALID_INPUT");
    const account = SMALL_BOOK_FILE.accounts[0];
    expect(code({ ...SMALL_BOOK_FILE, accounts: [{ ...account, debt: "-1" }] })).to.equal("RISK_INVALID_INPUT");
    expect(
      code({ ...SMALL_BOOK_FILE, accounts: [{ ...account, positions: [{ asset: "mbNONE", quantity: "1" }] }] }),
    ).to.equal("RISK_UNKNOWN_ASSET");
    expect(code({ ...SMALL_BOOK_FILE, assets: [{ ...SMALL_BOOK_FILE.assets[0], haircut: "1" }] })).to.equal(
      "RISK_INVALID_INPUT",
    );
  });

  it("CLI: writes report.json and well-formed SVG charts for every scenario", () => {
    const dir = mkdtempSync(join(tmpdir(), "risk-cli-"));
    try {
      const accounts = join(dir, "book.json");
      writeFileSync(accounts, JSON.stringify(SMALL_BOOK_FILE));
      const out = join(dir, "out");
      const printed: string[] = [];
      main(["--accounts", accounts, "--out", out, "--paths", "20", "--days", "5", "--var-paths", "2000"], (line) =>
        printed.push(line),
      );
      expect(JSON.parse(printed[0])).to.deep.include({ out, accounts: 3 });

      expect(readdirSync(out).sort()).to.deep.equal([
        "a-share-2015-book.svg",
        "a-share-2015-ratio.svg",
        "covid-2020-book.svg",
        "covid-2020-ratio.svg",
        "monte-carlo-worst-book.svg",
        "monte-carlo-worst-ratio.svg",
        "report.json",
        "scenarios.svg",
        "value-at-risk.svg",
      ]);
      const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8"));
      expect(report.book).to.deep.include({ accounts: 3, collateralValue: "600000000000", debt: "390000000000" });
      expect(report.historical.map((s: { scenarioId: string }) => s.scenarioId)).to.deep.equal([
        "a-share-2015",
        "covid-2020",
      ]);
      for (const s of report.historical) {
        expect(BigInt(s.insuranceFundUsed) + BigInt(s.capitalPoolLoss)).to.equal(BigInt(s.badDebt));
        expect(s.accountsLiquidated).to.be.at.least(2);
      }
      expect(
        report.valueAtRisk.map((v: { method: string; horizonDays: number }) => v.method + v.horizonDays),
      ).to.deep.equal(["historical1", "monte-carlo1", "historical10", "monte-carlo10"]);
      expect(report.monteCarlo).to.deep.include({ paths: 20, days: 5, seed: 1 });
      // The scenarios ran under the file's assumptions (default betas and tier-3 daily limit of 25%).
      expect(report.assumptions.dailyLiquidationLimit).to.deep.equal({ 2: pct(50).toString(), 3: pct(25).toString() });
      const { betas, simulation } = parseBookFile(SMALL_BOOK_FILE);
      const expected = runScenario(
        smallBook(),
        historicalScenario(loadShockPaths()[0], ["mbBANK", "mbSMALL"], betas),
        simulation,
      );
      expect(report.historical[0]).to.deep.include({
        liquidationVolume: expected.liquidationVolume.toString(),
        badDebt: expected.badDebt.toString(),
        shortfallOutstanding: expected.shortfallOutstanding.toString(),
      });
      expect(expected.liquidationVolume).to.not.equal(
        runScenario(smallBook(), historicalScenario(loadShockPaths()[0], ["mbBANK", "mbSMALL"], betas))
          .liquidationVolume,
      );
      for (const file of readdirSync(out).filter((f) => f.endsWith(".svg"))) {
        const root = parseXml(readFileSync(join(out, file), "utf8"));
        expect(root.name).to.equal("svg");
        expect(findAll(root, "polyline").length + findAll(root, "rect").length).to.be.greaterThan(1);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("CLI: refuses to run without --accounts and --out", () => {
    expect(() => main(["--out", "/tmp/x"])).to.throw("usage");
  });
});
