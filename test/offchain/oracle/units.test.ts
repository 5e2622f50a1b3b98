import { expect } from "chai";
import http from "node:http";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import * as oracle from "../../../offchain/oracle";
import {
  DEMO_ASSETS,
  JsonPriceSource,
  MarketSimulator,
  OracleReporterError,
  SimulatedSource,
  VOLATILITY_SUFFIX,
  formatDecimal,
  medianOf,
  parseDecimal,
  pushReason,
} from "../../../offchain/oracle";

describe("oracle reporter (units)", () => {
  it("exports exactly its public surface", () => {
    expect(Object.keys(oracle).sort()).to.deep.equal(
      [
        "DEMO_ASSETS",
        "DEV_REPORTER_INDICES",
        "FEED_DECIMALS",
        "FEED_DOMAIN_NAME",
        "FEED_DOMAIN_VERSION",
        "HARDHAT_DEV_MNEMONIC",
        "JsonPriceSource",
        "MarketSimulator",
        "OBSERVATION_TYPES",
        "OracleReporterError",
        "PriceDocument",
        "PriceReporterService",
        "SeededRandom",
        "SimulatedSource",
        "VOLATILITY_SUFFIX",
        "chainClock",
        "feedDomain",
        "formatDecimal",
        "hardhatDevWallets",
        "marketSimulatorRoutes",
        "medianOf",
        "noopLogger",
        "parseDecimal",
        "pushReason",
        "reporterFromDeployment",
        "reportFeed",
        "revertName",
        "signObservation",
      ].sort(),
    );
  });

  describe("decimals", () => {
    it("parses decimal strings exactly into feed units and formats them back", () => {
      expect(parseDecimal("10.25", 8)).to.equal(1_025_000_000n);
      expect(parseDecimal("0.00000001", 8)).to.equal(1n);
      expect(parseDecimal("123456789.12345678", 8)).to.equal(12345678912345678n);
      expect(formatDecimal(1_025_000_000n, 8)).to.equal("10.25");
      expect(formatDecimal(1n, 8)).to.equal("0.00000001");
    });

    it("rejects negatives, exponents and excess precision with SOURCE_INVALID", () => {
      for (const bad of ["-1", "1e3", "1.123456789", "abc", ""]) {
        expect(() => parseDecimal(bad, 8), bad)
          .to.throw(OracleReporterError)
          .with.property("code", "SOURCE_INVALID");
      }
    });

    it("takes the median like the feed: middle value, or the mean of the two middle values toward zero", () => {
      expect(medianOf([3n, 1n, 2n])).to.equal(2n);
      expect(medianOf([4n, 1n, 3n, 2n])).to.equal(2n); // (2 + 3) / 2 = 2.5 → 2
    });
  });

  describe("push policy", () => {
    const policy = { heartbeatSeconds: 600, deviationBps: 50 };
    const state = { latestRound: 5n, answer: 1_000_000_000n, updatedAt: 1_000 };

    it("pushes the first round, on heartbeat, and on a move of at least the deviation threshold", () => {
      expect(pushReason({ latestRound: 0n, answer: 0n, updatedAt: 0 }, 1n, 1_000, policy)).to.equal("first");
      expect(pushReason(state, 1_000_000_000n, 1_600, policy)).to.equal("heartbeat");
      expect(pushReason(state, 1_005_000_000n, 1_100, policy)).to.equal("deviation"); // exactly 0.5%
      expect(pushReason(state, 995_000_000n, 1_100, policy)).to.equal("deviation");
    });

    it("does not push a move below the threshold before the heartbeat", () => {
      expect(pushReason(state, 1_004_999_999n, 1_599, policy)).to.equal(undefined);
    });
  });

  describe("market simulator (GBM with jumps)", () => {
    const run = (seed: number, steps: number): bigint[] => {
      const sim = new MarketSimulator({ seed, assets: DEMO_ASSETS, stepSeconds: 60 });
      const out: bigint[] = [];
      for (let i = 0; i < steps; i++) {
        sim.step();
        out.push(sim.feedPrice("mbTECH")!);
      }
      return out;
    };

    it("is deterministic for a seed and differs across seeds", () => {
      expect(run(42, 50)).to.deep.equal(run(42, 50));
      expect(run(42, 50)).not.to.deep.equal(run(43, 50));
    });

    it("has the configured diffusion volatility when jumps are off (σ√Δt within 3%)", () => {
      const asset = { ...DEMO_ASSETS[0], jumpIntensity: 0, drift: 0 };
      const stepSeconds = 3600;
      const sim = new MarketSimulator({ seed: 1, assets: [asset], stepSeconds });
      const returns: number[] = [];
      let prev = sim.price(asset.symbol)!;
      for (let i = 0; i < 20_000; i++) {
        sim.step();
        const p = sim.price(asset.symbol)!;
        returns.push(Math.log(p / prev));
        prev = p;
      }
      const mean = returns.reduce((a, b) => a + b, 0) / returns.length;
      const sd = Math.sqrt(returns.reduce((a, r) => a + (r - mean) ** 2, 0) / (returns.length - 1));
      const expected = asset.volatility * Math.sqrt(stepSeconds / (365 * 24 * 3600));
      expect(Math.abs(sd / expected - 1)).to.be.lessThan(0.03);
    });

    it("produces jumps at about the configured intensity", () => {
      const asset = { ...DEMO_ASSETS[2], volatility: 1e-9, jumpIntensity: 365, jumpMean: -0.05, jumpStdDev: 0.001 };
      const sim = new MarketSimulator({ seed: 9, assets: [asset], stepSeconds: 24 * 3600 }); // λΔt = 1 a day
      // The drift compensates the expected jump (−λk·Δt, k = e^{μ_J+σ_J²/2} − 1) so that E[S] grows at μ.
      const compensation = -(Math.exp(-0.05 + 0.001 ** 2 / 2) - 1) + asset.drift / 365;
      let jumps = 0;
      let prev = sim.price(asset.symbol)!;
      for (let i = 0; i < 2_000; i++) {
        sim.step();
        const p = sim.price(asset.symbol)!;
        jumps += Math.round((compensation - Math.log(p / prev)) / 0.05);
        prev = p;
      }
      expect(jumps / 2_000).to.be.within(0.9, 1.1);
    });

    it("quotes every known symbol in feed decimals at the read time", async () => {
      const source = new SimulatedSource(new MarketSimulator({ seed: 5, assets: DEMO_ASSETS, stepSeconds: 60 }));
      const quotes = await source.read(["mbBANK", "mbTECH", "NOPE"], 1_700_000_000);
      expect(quotes.map((q) => [q.symbol, q.observedAt])).to.deep.equal([
        ["mbBANK", 1_700_000_000],
        ["mbTECH", 1_700_000_000],
      ]);
      expect(quotes[0].price).to.be.closeTo(1_000_000_000n, 10_000_000n);
    });

    it("quotes implied volatility for `<symbol>.IV`: the model's total volatility, raised by half a coming move", async () => {
      const sim = new MarketSimulator({ seed: 5, assets: DEMO_ASSETS, stepSeconds: 60 });
      const source = new SimulatedSource(sim);
      // mbBANK: σ 20%, λ 2 jumps a year of mean −2% and deviation 3%: √(0.04 + 2 × (0.0004 + 0.0009)) = 20.64%
      const total = Math.sqrt(0.04 + 2 * (0.0004 + 0.0009));
      const [iv] = await source.read(["mbBANK" + VOLATILITY_SUFFIX, "NOPE.IV"], 1_700_000_000);
      expect(iv.symbol).to.equal("mbBANK.IV");
      expect(iv.price).to.equal(BigInt(Math.round(total * 1e8)));
      sim.shock("mbBANK", -2_500, 1_000);
      expect(sim.impliedVolatility("mbBANK")).to.be.closeTo(total + 0.125, 1e-12);
      expect(sim.impliedVolatility("NOPE")).to.equal(undefined);
    });

    it("applies a scheduled move over the next steps, none larger than the step limit either way", () => {
      // No drift, volatility or jumps: the price moves only by the shock.
      const flat = { ...DEMO_ASSETS[0], drift: 0, volatility: 0, jumpIntensity: 0 };
      const sim = new MarketSimulator({ seed: 3, assets: [flat], stepSeconds: 60 });
      sim.shock("mbBANK", -4_000, 1_500);
      expect(sim.pendingMoveBps("mbBANK")).to.equal(-4_000);
      const path: number[] = [sim.price("mbBANK")!];
      for (let i = 0; i < 5; i++) {
        sim.step();
        path.push(sim.price("mbBANK")!);
      }
      const steps = path.slice(1).map((p, i) => p / path[i] - 1);
      expect(steps.slice(0, 3).every((r) => Math.abs(r + 0.15) < 1e-9)).to.equal(true); // −15%, −15%, −15% ...
      expect(steps[3]).to.be.closeTo(0.6 / 0.85 ** 3 - 1, 1e-9); // ... then the rest of the −40%
      expect(steps[4]).to.equal(0);
      expect(path[5] / path[0]).to.be.closeTo(0.6, 1e-9);
      expect(sim.pendingMoveBps("mbBANK")).to.equal(0);

      // A rise is bounded by +maxStep (not by the log size of a fall); a new shock replaces what is left.
      sim.shock("mbBANK", 5_000, 2_000);
      sim.step();
      expect(sim.price("mbBANK")! / path[5] - 1).to.be.closeTo(0.2, 1e-9);
      sim.shock("mbBANK", 0);
      expect(sim.pendingMoveBps("mbBANK")).to.equal(0);

      expect(() => sim.shock("NOPE", -100)).to.throw(RangeError, /unknown symbol/);
      expect(() => sim.shock("mbBANK", -10_000)).to.throw(RangeError, /moveBps/);
      expect(() => sim.shock("mbBANK", 1.5)).to.throw(RangeError, /moveBps/);
      expect(() => sim.shock("mbBANK", -100, 10_000)).to.throw(RangeError, /maxStepBps/);
    });
  });

  describe("JSON price source", () => {
    const doc = {
      observedAt: 1_700_000_000,
      prices: { mbBANK: "10.25", mbTECH: { price: "51.2", observedAt: 1_699_999_990 } },
    };

    it("reads a file: shared and per-entry observation times, exact prices, unknown symbols omitted", async () => {
      const dir = mkdtempSync(path.join(tmpdir(), "mb-oracle-"));
      const file = path.join(dir, "prices.json");
      writeFileSync(file, JSON.stringify(doc));
      const quotes = await new JsonPriceSource({ location: file }).read(["mbBANK", "mbTECH", "mbSMALL"], 1);
      expect(quotes).to.deep.equal([
        { symbol: "mbBANK", price: 1_025_000_000n, observedAt: 1_700_000_000 },
        { symbol: "mbTECH", price: 5_120_000_000n, observedAt: 1_699_999_990 },
      ]);
    });

    it("reads over HTTP and reports an unreachable or invalid document with a code", async () => {
      let body: unknown = doc;
      const server = http.createServer((_req, res) => {
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify(body));
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/prices`;
      try {
        const quotes = await new JsonPriceSource({ location: url }).read(["mbBANK"], 1);
        expect(quotes[0].price).to.equal(1_025_000_000n);
        body = { prices: { mbBANK: 10.25 } }; // a JSON number: refused, prices are decimal strings
        await new JsonPriceSource({ location: url }).read(["mbBANK"], 1).then(
          () => expect.fail("accepted a float price"),
          (err: OracleReporterError) => expect(err.code).to.equal("SOURCE_INVALID"),
        );
        body = { prices: {}, extra: 1 };
        await new JsonPriceSource({ location: url }).read(["mbBANK"], 1).then(
          () => expect.fail("accepted an unknown field"),
          (err: OracleReporterError) => expect(err.code).to.equal("SOURCE_INVALID"),
        );
      } finally {
        await new Promise((r) => server.close(r));
      }
      await new JsonPriceSource({ location: url, timeoutMs: 500 }).read(["mbBANK"], 1).then(
        () => expect.fail("read from a closed server"),
        (err: OracleReporterError) => expect(err.code).to.equal("SOURCE_UNAVAILABLE"),
      );
    });
  });
});
