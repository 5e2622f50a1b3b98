import { expect } from "chai";
import path from "node:path";
import { practiceEnabled, practiceNetwork, practiceServiceConfig } from "../../../offchain/practice";
import { DEV_KEYS, PRACTICE_DEV_KEYS, configFromEnv, parseConfig } from "../../../offchain/shared/config";

const KEY = "0x" + "11".repeat(32);

/** The practice service's configuration is derived from the real one and shares none of its keys or its store. */
describe("practice configuration", function () {
  it("is on in development only unless MB_PRACTICE says otherwise", function () {
    expect(practiceEnabled(configFromEnv({}))).to.equal(true);
    expect(practiceEnabled(configFromEnv({ MB_PRACTICE: "0" }))).to.equal(false);
    expect(practiceEnabled(configFromEnv({ MB_ENV: "test" }))).to.equal(false);
    expect(practiceEnabled(configFromEnv({ MB_ENV: "test", MB_PRACTICE: "true" }))).to.equal(true);
  });

  it("derives its own store, port, network and keys; the keeper and the reserve publisher stay off", function () {
    const real = configFromEnv({
      MB_DATA_DIR: "/tmp/mb",
      MB_KYC_OFFICER_KEY: DEV_KEYS.kycOfficerKey,
      MB_RESERVE_PUBLISHER_KEY: DEV_KEYS.reservePublisherKey,
      MB_OPERATOR_KEY: KEY,
      MB_PRACTICE_PORT: "9091",
    });
    const p = practiceServiceConfig(real);
    expect(p.store).to.deep.equal({ engine: "sqlite", path: path.join("/tmp/mb", "marginbridge-practice.sqlite") });
    expect(p.api.port).to.equal(9091);
    expect(p.chain.network).to.equal("localhost-practice");
    expect(practiceNetwork(real)).to.equal("localhost-practice");
    expect(p.chain.kycOfficerKey).to.equal(PRACTICE_DEV_KEYS.kycOfficer);
    expect(p.chain.reservePublisherKey).to.equal(undefined);
    expect(p.settlement.operatorKey).to.equal(PRACTICE_DEV_KEYS.operator);
    expect(p.providers.queueServerKey).to.equal(PRACTICE_DEV_KEYS.queueServer);
    expect(p.keeper.enabled).to.equal(false);
    // No real key is carried over.
    const realKeys = [DEV_KEYS.kycOfficerKey, DEV_KEYS.reservePublisherKey, KEY, DEV_KEYS.queueServerKey];
    for (const k of [p.chain.kycOfficerKey, p.settlement.operatorKey, p.providers.queueServerKey])
      expect(realKeys).to.not.include(k);
  });

  it("puts the PostgreSQL store in its own schema (the connection's search_path)", function () {
    const real = configFromEnv({ MB_STORE: "postgres", MB_DATABASE_URL: "postgres://u@db/mb?sslmode=disable" });
    const p = practiceServiceConfig(real);
    expect(p.store.engine).to.equal("postgres");
    const url = new URL((p.store as { url: string }).url);
    expect(url.searchParams.get("options")).to.equal("-c search_path=practice");
    expect(url.searchParams.get("sslmode")).to.equal("disable");
    expect(() => configFromEnv({ MB_PRACTICE_PG_SCHEMA: "practice; DROP TABLE x" })).to.throw(/lower-case SQL/);
  });

  it("refuses the development practice keys in production when practice is on", function () {
    const production = {
      env: "production",
      api: { secretKey: "22".repeat(32) },
      kyc: { dataKey: "33".repeat(32) },
      keeper: { enabled: false },
    };
    expect(() => parseConfig({ ...production, practice: { enabled: true } })).to.throw(
      /practice\.custodianKey: the development key is refused in production/,
    );
    expect(() => parseConfig(production)).to.not.throw();
  });
});
