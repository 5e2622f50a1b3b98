import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ApiClient } from "../../../offchain/api";
import { startService, type Service } from "../../../offchain/main";
import { DEV_KEYS, parseConfig, type Config } from "../../../offchain/shared/config";
import { createLogger } from "../../../offchain/shared/logger";
import { startDevChain, type DevChain } from "../../../fixtures/devChain";

const CHAIN_PORT = 8661;
const API_PORT = 18661;

type States = Record<string, { available: boolean; reason?: string; partial?: string }>;

/**
 * The service is a list of capabilities (docs/architecture.md): one whose needs are not met is not built and says
 * why, once in the log at start-up and in GET /v1/status, instead of silently disappearing.
 */
describe("capabilities say why they are unavailable", function () {
  this.timeout(120_000);
  let dir: string;
  let dev: DevChain | undefined;
  let service: Service | undefined;
  const lines: string[] = [];

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "mb-capabilities-"));
  });
  afterEach(async () => {
    await service?.stop();
    service = undefined;
    lines.length = 0;
  });
  after(async () => {
    await dev?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function config(sub: string, chain: Partial<Config["chain"]>): Config {
    return parseConfig({
      env: "development",
      dataDir: path.join(dir, sub),
      log: { level: "info" },
      store: { engine: "sqlite" },
      chain,
      api: { host: "127.0.0.1", port: API_PORT, secretKey: DEV_KEYS.apiSecretKey },
    });
  }

  async function states(s: Service): Promise<States> {
    const status = await new ApiClient(s.url, s.demoKeys.operator!).get<{ capabilities: States }>("/v1/status");
    expect(status.status).to.equal(200);
    return status.body.capabilities;
  }

  const logged = (msg: string): { capability: string; reason: string }[] =>
    lines.map((l) => JSON.parse(l) as { msg: string; capability: string; reason: string }).filter((l) => l.msg === msg);

  it("without a deployment: the chain's capabilities are unavailable, the others run (some in part)", async () => {
    service = await startService(config("none", { deploymentsDir: dir }), {
      demoKeys: true,
      log: createLogger({ level: "info", sink: (l) => lines.push(l) }),
    });
    const s = await states(service);
    expect(Object.keys(s)).to.deep.equal([
      "core",
      "kyc",
      "reserves",
      "portfolio",
      "providers",
      "settlement",
      "keeper",
      "orderbook",
      "options",
      "surveillance",
      "ops",
      "practice",
      "web",
    ]);
    expect(s.core).to.deep.equal({ available: true });
    expect(s.surveillance).to.deep.equal({ available: true });
    expect(s.ops).to.deep.equal({ available: true, partial: "no margin deployment: the ops reads answer 503" });
    expect(s.providers.available).to.equal(false);
    expect(s.providers.reason).to.match(
      /no deployment record \(needs CapitalPool, SeniorTranche, JuniorTranche, AccessManager\)/,
    );
    expect(s.portfolio).to.deep.equal({ available: true });
    expect(s.reserves.available).to.equal(false);
    expect(s.reserves.reason).to.match(/no deployment record \(needs MarginEngine, ReserveLedger\)/);
    expect(s.settlement.available).to.equal(false);
    expect(s.settlement.reason).to.match(/no deployment record \(needs SettlementHub, AgreementRegistry\)/);
    expect(s.orderbook.available).to.equal(false);
    expect(s.orderbook.reason).to.match(/no deployment record/);
    expect(s.options.available).to.equal(false);
    expect(s.options.reason).to.match(/no deployment record \(needs OptionMarket, MarginEngine, OracleRouter\)/);
    expect(s.kyc.available).to.equal(true);
    expect(s.kyc.partial).to.match(/not written to the KycRegistry/);
    expect(s.keeper).to.deep.equal({ available: true, partial: "no chain: no keeper" });
    expect(s.practice).to.deep.equal({ available: false, reason: "not the practice service" });
    // Once each, at start-up: the missing ones as warnings.
    expect(logged("capability unavailable").map((l) => l.capability)).to.deep.equal([
      "reserves",
      "providers",
      "settlement",
      "orderbook",
      "options",
    ]);
    // Their routes are not served.
    const client = new ApiClient(service.url, service.demoKeys.operator!);
    expect((await client.get("/v1/agreements?party=0x0000000000000000000000000000000000000001")).status).to.equal(404);
  });

  it("with a deployment that lacks a contract: that capability names it; the others run", async () => {
    dev = await startDevChain(CHAIN_PORT);
    const { AgreementRegistry: _dropped, ...contracts } = dev.record.contracts;
    service = await startService(
      config("partial", { rpcUrl: dev.chain.url, network: "localhost", deploymentsDir: dev.deploymentsDir }),
      {
        demoKeys: true,
        deployment: { ...dev.record, contracts },
        orderbook: {},
        log: createLogger({ level: "info", sink: (l) => lines.push(l) }),
      },
    );
    const s = await states(service);
    expect(s.settlement).to.deep.equal({ available: false, reason: "the deployment has no AgreementRegistry" });
    expect(s.reserves).to.deep.equal({ available: true });
    expect(s.orderbook).to.deep.equal({ available: true });
    expect(s.options).to.deep.equal({ available: true }); // development: the dev settler key settles expired series
    expect(s.ops).to.deep.equal({ available: true }); // development: the dev risk officer's key re-arms breakers
    expect(logged("capability unavailable")).to.have.length(1);
    expect(logged("capability unavailable")[0]).to.include({
      capability: "settlement",
      reason: "the deployment has no AgreementRegistry",
    });
    expect(service.orderbook).to.not.equal(undefined);
    expect(service.reservesIndexer).to.not.equal(undefined);
  });
});
