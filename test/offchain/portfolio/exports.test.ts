import { expect } from "chai";
import * as portfolio from "../../../offchain/portfolio";
import * as web from "../../../offchain/web";

/** The console's capabilities expose exactly these runtime names (index.ts is the whole surface). */
describe("public surfaces of the portfolio read model and the web console", function () {
  it("exports exactly the documented runtime names", function () {
    expect(Object.keys(portfolio).sort()).to.deep.equal([
      "DEFAULT_TRADE_FEES",
      "EPOCHS_SHOWN",
      "PRICE_STATUSES",
      "RESERVE_RULE",
      "STRESS_RUN",
      "accountSummarySchema",
      "disclosureSchema",
      "marginModesSchema",
      "poolSummarySchema",
      "portfolioChain",
      "portfolioRoutes",
      "publicConfigSchema",
      "readAccount",
      "readBook",
      "readDisclosures",
      "readMarginModes",
      "readPool",
      "readStress",
      "reserveAdequacySchema",
      "reserveOf",
      "simulate",
      "simulationSchema",
      "sizePosition",
      "stressOf",
      "stressRun",
      "stressSummarySchema",
      "tradeCosts",
    ]);
    expect(Object.keys(web).sort()).to.deep.equal([
      "CONSOLE_CSP",
      "CONSOLE_PATH",
      "WEB_STATIC_DIR",
      "consoleCsp",
      "webConsoleMounts",
    ]);
  });

  it("mounts the console's files and ethers' browser build, both under the console's CSP", function () {
    const mounts = web.webConsoleMounts("http://rpc.example:8545/path?x=1");
    expect(mounts.map((m) => m.urlPath)).to.deep.equal(["/console/vendor", "/console"]);
    expect(mounts.every((m) => m.contentSecurityPolicy === web.consoleCsp("http://rpc.example:8545"))).to.equal(true);
  });

  it("lets the console connect to the API and the configured JSON-RPC URL only", function () {
    const connect = (csp: string) => csp.split("; ").find((d) => d.startsWith("connect-src"));
    expect(connect(web.consoleCsp("http://127.0.0.1:8545/"))).to.equal("connect-src 'self' http://127.0.0.1:8545");
    expect(connect(web.consoleCsp("https://rpc.example.com/besu"))).to.equal(
      "connect-src 'self' https://rpc.example.com",
    );
    expect(connect(web.CONSOLE_CSP)).to.equal("connect-src 'self'");
  });
});
