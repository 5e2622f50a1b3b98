import { expect } from "chai";
import { DEV_CUSTODY, DEV_KEYS, DEV_OPERATOR_KEY, configFromEnv, parseConfig } from "../../../offchain/shared/config";

describe("settlement configuration", () => {
  it("defaults to no operator key, 100 fills, a 15M gas budget, a 2 s interval and a 5 min anchoring claim", () => {
    expect(parseConfig({}).settlement).to.deep.equal({
      maxFills: 100,
      blockGasBudget: 15_000_000n,
      intervalMs: 2000,
      anchorClaimTtlMs: 300_000,
      endIntervalMs: 30_000,
      endLeaseMs: 120_000,
      feeLedgerIntervalMs: 60_000,
    });
  });

  it("reads MB_OPERATOR_KEY and the batcher settings from the environment", () => {
    const c = configFromEnv({
      MB_OPERATOR_KEY: DEV_OPERATOR_KEY,
      MB_SETTLEMENT_MAX_FILLS: "50",
      MB_SETTLEMENT_GAS_BUDGET: "3000000",
      MB_SETTLEMENT_INTERVAL_MS: "500",
      MB_ANCHOR_CLAIM_TTL_MS: "60000",
      MB_CLOSE_OUT_KEY: DEV_KEYS.keeperKey,
      MB_AGREEMENT_END_INTERVAL_MS: "5000",
      MB_AGREEMENT_END_LEASE_MS: "20000",
      MB_FEE_LEDGER_INTERVAL_MS: "10000",
      MB_CUSTODY_ACCOUNT: JSON.stringify(DEV_CUSTODY),
    });
    expect(c.settlement).to.deep.equal({
      operatorKey: DEV_OPERATOR_KEY,
      maxFills: 50,
      blockGasBudget: 3_000_000n,
      intervalMs: 500,
      anchorClaimTtlMs: 60_000,
      closeOutKey: DEV_KEYS.keeperKey,
      endIntervalMs: 5000,
      endLeaseMs: 20_000,
      feeLedgerIntervalMs: 10_000,
      custody: DEV_CUSTODY,
    });
  });

  it("refuses a custody account that is not one (the pain.001's debtor side)", () => {
    expect(() => configFromEnv({ MB_CUSTODY_ACCOUNT: JSON.stringify({ debtor: { name: "x" } }) })).to.throw(
      /settlement\.custody/,
    );
    expect(() => configFromEnv({ MB_CUSTODY_ACCOUNT: "{not json" })).to.throw(/settlement\.custody/);
  });

  it("refuses the development operator key in production and a budget below one trade's batch", () => {
    expect(() => parseConfig({ env: "production", settlement: { operatorKey: DEV_OPERATOR_KEY } })).to.throw(
      /settlement\.operatorKey: the development key is refused in production/,
    );
    expect(() => parseConfig({ settlement: { blockGasBudget: "100000" } })).to.throw(/settlement\.blockGasBudget/);
  });
});
