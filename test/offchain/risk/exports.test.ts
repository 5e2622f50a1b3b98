import { expect } from "chai";
import * as risk from "../../../offchain/risk";

describe("risk: public surface", () => {
  it("exports exactly the documented runtime names (a change here is a change to callers)", () => {
    expect(Object.keys(risk).sort()).to.deep.equal([
      "DEFAULT_BETA_BY_TIER",
      "DEFAULT_CORRELATION",
      "DEFAULT_DAILY_LIQUIDATION_LIMIT",
      "DEFAULT_DEGREES_OF_FREEDOM",
      "DEFAULT_VOLATILITY_BY_TIER",
      "NO_HISTORY",
      "PORTFOLIO_MAX_LEGS",
      "PORTFOLIO_SCENARIOS",
      "ReturnGenerator",
      "RiskError",
      "Rng",
      "SHIPPED_SHOCK_PATHS_DIR",
      "TRADING_DAYS_PER_YEAR",
      "WAD",
      "accountLiquidation",
      "barChart",
      "bookExposures",
      "buildStressReport",
      "cholesky",
      "custodianFailure",
      "dailyReturns",
      "dailyVolatility",
      "decayWeight",
      "distribution",
      "divCeil",
      "expNeg",
      "formatUnits",
      "historicalScenario",
      "historicalVar",
      "lineChart",
      "liquidateAccount",
      "liquidationReturn",
      "loadShockPaths",
      "logReturn",
      "monteCarloScenarios",
      "monteCarloVar",
      "mulDivDown",
      "mulDivUp",
      "nextVolatilityState",
      "normalCdf",
      "optionPrice",
      "parseBookFile",
      "parseDecimal",
      "parseShockPath",
      "portfolioRequirement",
      "portfolioValue",
      "positionValue",
      "providerRun",
      "quantityForValue",
      "reserveAdequacy",
      "runMonteCarlo",
      "runScenario",
      "scenarioLosses",
      "scenarioMarket",
      "shortOptionCharge",
      "sqrt",
      "stressCharts",
      "stressReportJson",
      "summariseBook",
      "tailRisk",
      "tierMargins",
      "valueAccount",
      "wadFromNumber",
    ]);
  });

  it("formats base units as decimals for display", () => {
    expect(risk.formatUnits(43_835_617n, 6)).to.equal("43.835617");
    expect(risk.formatUnits(-7_332_800_000n, 6)).to.equal("-7332.800000");
    expect(risk.formatUnits(12n, 0)).to.equal("12");
  });
});
