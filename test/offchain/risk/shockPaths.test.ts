import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  RiskError,
  SHIPPED_SHOCK_PATHS_DIR,
  dailyReturns,
  historicalScenario,
  loadShockPaths,
  parseShockPath,
  runScenario,
  wadFromNumber,
} from "../../../offchain/risk";
import { smallBook } from "./book";

function worstDay(returns: { date: string; r: number }[]) {
  return returns.reduce((worst, d) => (d.r < worst.r ? d : worst));
}

describe("risk: shipped historical shock paths", () => {
  const paths = loadShockPaths();

  it("ships the 2015 A-share crash and the March 2020 crash, each naming its index, source and dates", () => {
    expect(paths.map((p) => p.id)).to.deep.equal(["a-share-2015", "covid-2020"]);
    for (const path of paths) {
      expect(path.note).to.match(/^Approximate daily closes transcribed from public index history/);
      expect(path.source).to.contain(path.index.startsWith("SSE") ? "Shanghai Stock Exchange" : "S&P Dow Jones");
    }
    const [ashare, covid] = paths;
    expect(ashare.index).to.contain("SSE Composite");
    expect([ashare.from, ashare.to, ashare.closes.length]).to.deep.equal(["2015-06-12", "2015-08-31", 56]);
    expect(covid.index).to.contain("S&P 500");
    expect([covid.from, covid.to, covid.closes.length]).to.deep.equal(["2020-02-14", "2020-03-31", 32]);
  });

  it("reproduces the well-known moves: −8.5% on 24 Aug 2015, −12% on 16 Mar 2020, −43% and −34% peak to trough", () => {
    const [ashare, covid] = paths;
    expect(worstDay(dailyReturns(ashare))).to.deep.include({ date: "2015-08-24" });
    expect(worstDay(dailyReturns(ashare)).r).to.be.closeTo(-0.0849, 0.0005);
    expect(worstDay(dailyReturns(covid))).to.deep.include({ date: "2020-03-16" });
    expect(worstDay(dailyReturns(covid)).r).to.be.closeTo(-0.1198, 0.0005);
    const drawdown = (p: typeof ashare) =>
      Math.min(...p.closes.map((c) => c.close)) / Math.max(...p.closes.map((c) => c.close)) - 1;
    expect(drawdown(ashare)).to.be.closeTo(-0.433, 0.005); // 5,166 → 2,927
    expect(drawdown(covid)).to.be.closeTo(-0.339, 0.005); // 3,386 → 2,237
  });

  it("rejects a shock path with unknown fields or dates out of order", () => {
    const raw = JSON.parse(readFileSync(join(SHIPPED_SHOCK_PATHS_DIR, "covid-2020.json"), "utf8"));
    expect(() => parseShockPath({ ...raw, extra: 1 }))
      .to.throw(RiskError)
      .with.property("code", "RISK_INVALID_INPUT");
    const swapped = [raw.closes[1], raw.closes[0], ...raw.closes.slice(2)];
    expect(() => parseShockPath({ ...raw, closes: swapped, from: swapped[0].date })).to.throw(RiskError);
  });

  it("turns a path into a scenario that moves each asset by beta × the index return", () => {
    const [ashare] = paths;
    const scenario = historicalScenario(ashare, ["mbBANK", "mbSMALL"], { mbSMALL: 1.3 });
    const first = dailyReturns(ashare)[0].r; // 5,062.99 / 5,166.35 − 1
    expect(scenario.days[0]).to.equal("2015-06-15");
    expect(scenario.returns[0].get("mbBANK")).to.equal(wadFromNumber(first));
    expect(scenario.returns[0].get("mbSMALL")).to.equal(wadFromNumber(1.3 * first));
    expect(scenario.source).to.contain("Approximate daily closes");
  });

  it("runs the small book through both crashes with the waterfall balanced", () => {
    for (const path of paths) {
      const result = runScenario(smallBook(), historicalScenario(path, ["mbBANK", "mbSMALL"], { mbSMALL: 1.3 }));
      expect(result.accountsLiquidated).to.be.at.least(2); // B and C cannot survive a 30%+ fall
      expect(result.insuranceFundUsed + result.capitalPoolLoss).to.equal(result.badDebt);
      expect(result.daily).to.have.length(path.closes.length - 1);
    }
  });
});
