import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Wallet, parseUnits, type JsonRpcSigner } from "ethers";
import { ApiClient } from "../../../offchain/api";
import type { Service } from "../../../offchain/main";
import { DEV_KEYS } from "../../../offchain/shared/config";
import { openStore, type Store } from "../../../offchain/store";
import {
  MarginEngine__factory,
  OracleRouter__factory,
  ProtocolAccessManager__factory,
  type OracleRouter,
} from "../../../typechain-types";
import { startDevChain, type DevChain } from "../../helpers/devChain";
import { CNY, E2eStack } from "../../helpers/e2eStack";
import { createTestDatabase } from "../../helpers/postgres";

const CHAIN_PORT = 8990;
const API_PORTS = { withoutKey: 18990, withKey: 18991 };
const RISK_OFFICER_ROLE = 3n;

type ResetPath = { available: boolean; via: string | null; signer: string | null; reason: string | null };
type OracleAsset = { symbol: string; asset: string; tripped: boolean; status: string; reporters: string[] };
type OracleBody = { reset: ResetPath; assets: (OracleAsset & { lastReset: { status: string } | null })[] };
type Reset = { id: string; status: string; via: string; txHash: string };
type BoardRow = { account: string; state: string; deadline: number | null; amountToCure: string | null };
type Board = { counts: Record<string, number>; accounts: (BoardRow & { overrides: unknown[] })[] };
type Operation = {
  status: string;
  contract: string;
  caller: string;
  executableAt: number;
  call: { function: string; args: Record<string, string> } | null;
};

/**
 * The operations console's staff API over a real hardhat node with the full deployment and the service on SQLite:
 * the oracle board and the breaker re-arm (first without a key that may send it, then with the dev risk officer's,
 * which holds GUARDIAN), the margin-call board against the engine's own view, and the AccessManager's scheduled
 * operations.
 */
describe("ops console API (hardhat node)", function () {
  this.timeout(240_000);
  let dev: DevChain;
  let stack: E2eStack;
  let service: Service;
  let dir: string;
  let client: JsonRpcSigner;
  let router: OracleRouter;
  const asRole = (role: "client" | "risk_officer" | "kyc_officer" | "auditor" | "operator") =>
    new ApiClient(service.url, service.demoKeys[role]);
  const token = (symbol: string) => dev.record.contracts[symbol];

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "mb-ops-api-"));
    dev = await startDevChain(CHAIN_PORT);
    stack = new E2eStack(dev, dir);
    const p = dev.chain.provider;
    client = await p.getSigner(10);
    const lender = await p.getSigner(11);
    await stack.verify(2, [client, "ops-client"], [lender, "ops-lender"]);
    await stack.relayPrices({ mbBANK: "10", mbTECH: "50", mbSMALL: "20" });
    await stack.mint("mbCNY", lender, 1_000_000n * CNY, "ops-lender-1");
    await stack.mint("mbBANK", client, 10_000n, "ops-client-1");
    await stack.supplyPool(lender, 1_000_000n * CNY);
    await stack.deposit(client, "mbBANK", 10_000n);
    await stack.borrow(client, 50_000n * CNY, 40_000n * CNY);
    router = OracleRouter__factory.connect(dev.record.contracts.OracleRouter, dev.signers[0]);
    // the router takes the first rounds as its references (a later jump is then measured against them)
    for (const symbol of ["mbBANK", "mbTECH", "mbSMALL"]) await (await router.poke(token(symbol))).wait();
    service = await stack.startService(API_PORTS.withoutKey, await client.getAddress());
  });

  after(async () => {
    await service?.stop();
    await dev?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A price round relayed by the three reporters, then absorbed by the router (anyone may poke). */
  async function price(symbol: string, value: string): Promise<void> {
    await stack.relayPrices({ [symbol]: value });
    await (await router.poke(token(symbol))).wait();
  }

  it("without a key that may re-arm, shows the reset unavailable with the reason and answers 503, recording nothing", async () => {
    const board = await asRole("risk_officer").get<OracleBody>("/v1/risk/oracle");
    expect(board.status, JSON.stringify(board.body)).to.equal(200);
    expect(board.body.reset).to.include({ available: false, via: null, signer: null });
    expect(board.body.reset.reason).to.match(/no breaker reset key/);
    expect(board.body.assets.map((a) => a.symbol)).to.deep.equal(["mbBANK", "mbTECH", "mbSMALL"]);
    // the three dev reporters signed the first round
    expect(board.body.assets[0].reporters).to.have.length(3);

    await price("mbTECH", "80"); // +60 %: beyond the 20 % move limit, the breaker trips
    const tripped = await asRole("risk_officer").get<OracleBody>("/v1/risk/oracle");
    expect(tripped.body.assets[1]).to.include({ symbol: "mbTECH", tripped: true, status: "CircuitBroken" });
    const refused = await asRole("risk_officer").post(`/v1/risk/oracle/${token("mbTECH")}/breaker/reset`, {
      reason: "feed checked against the exchange close",
    });
    expect(refused.status, JSON.stringify(refused.body)).to.equal(503);
    expect(JSON.stringify(refused.body)).to.contain("no breaker reset key");
    expect(await service.store.ops.breakerResets()).to.deep.equal([]);
    expect((await router.assetState(token("mbTECH"))).tripped).to.equal(true);

    // the same store, now with the dev risk officer's key (it holds GUARDIAN: RiskGuardian.rearmBreaker)
    await service.stop();
    service = await stack.startService(API_PORTS.withKey, await client.getAddress(), {
      risk: { breakerResetKey: DEV_KEYS.riskOfficerKey },
    });
    const now = await asRole("risk_officer").get<OracleBody>("/v1/risk/oracle");
    expect(now.body.reset).to.include({ available: true, via: "guardian", signer: dev.record.roles.riskOfficer });
  });

  it("refuses a client (403) on every ops route, bad input (400) and a re-arm while another is in flight (409), with nothing recorded or sent", async () => {
    const c = asRole("client");
    for (const route of ["/v1/risk/margin-calls", "/v1/risk/oracle", "/v1/risk/oracle/resets", "/v1/risk/scheduled"])
      expect((await c.get(route)).status, route).to.equal(403);
    const resetPath = `/v1/risk/oracle/${token("mbTECH")}/breaker/reset`;
    for (const role of ["client", "kyc_officer", "operator", "auditor"] as const)
      expect((await asRole(role).post(resetPath, { reason: "not my call" })).status, role).to.equal(403);
    expect((await asRole("auditor").get("/v1/risk/scheduled")).status).to.equal(200);

    const officer = asRole("risk_officer");
    expect((await officer.post(resetPath, { reason: "x" })).status).to.equal(400);
    expect((await officer.post(resetPath, { reason: "fine reason", extra: 1 })).status).to.equal(400);
    expect((await officer.post("/v1/risk/oracle/0x1234/breaker/reset", { reason: "fine reason" })).status).to.equal(
      400,
    );
    expect((await officer.get("/v1/risk/margin-calls?state=Bogus")).status).to.equal(400);
    expect((await officer.get("/v1/risk/margin-calls?limit=0")).status).to.equal(400);
    const unknown = await officer.post(`/v1/risk/oracle/${Wallet.createRandom().address}/breaker/reset`, {
      reason: "not a listed security",
    });
    expect(unknown.status).to.equal(404);
    const armed = await officer.post(`/v1/risk/oracle/${token("mbBANK")}/breaker/reset`, { reason: "not tripped" });
    expect(armed.status, JSON.stringify(armed.body)).to.equal(409);
    expect(await service.store.ops.breakerResets()).to.deep.equal([]);
    expect((await router.assetState(token("mbTECH"))).tripped).to.equal(true);

    // a request still sending (another officer's, in flight) holds the asset: refused, nothing sent
    const inflight = { id: "brk-inflight", asset: token("mbTECH"), reason: "in flight", actor: "test" };
    expect(await service.store.ops.claimBreakerReset({ ...inflight, createdAt: Date.now() })).to.equal(true);
    const busy = await officer.post(resetPath, { reason: "a second officer" });
    expect(busy.status).to.equal(409);
    expect(JSON.stringify(busy.body)).to.contain("in progress");
    expect((await router.assetState(token("mbTECH"))).tripped).to.equal(true);
    await service.store.ops.finishBreakerReset(inflight.id, { status: "failed", error: "test: ended" }, Date.now());
  });

  it("re-arms a tripped breaker end to end: a lost claim settled from the chain, recorded, sent, audited; a second request at once is refused; the feed's prices are accepted again", async () => {
    const officer = asRole("risk_officer");
    const resetPath = `/v1/risk/oracle/${token("mbTECH")}/breaker/reset`;
    // a claim left sending ten minutes ago by a sender that never came back: past its TTL, settled from the chain
    const lost = { id: "brk-lost", asset: token("mbTECH"), reason: "sender crashed", actor: "test" };
    expect(await service.store.ops.claimBreakerReset({ ...lost, createdAt: Date.now() - 600_000 })).to.equal(true);
    const answers = await Promise.all([
      officer.post<Reset>(resetPath, { reason: "jump confirmed by the exchange: a real repricing" }),
      officer.post<Reset>(resetPath, { reason: "the same, from a second tab" }),
    ]);
    expect(answers.map((a) => a.status).sort()).to.deep.equal([200, 409]);
    const done = answers.find((a) => a.status === 200)!.body;
    expect(done).to.include({ status: "sent", via: "guardian" });
    const receipt = await dev.chain.provider.getTransactionReceipt(done.txHash);
    const events = receipt!.logs.map((l) => router.interface.parseLog(l)?.name).filter(Boolean);
    expect(events).to.include("CircuitBreakerReset");
    expect((await router.assetState(token("mbTECH"))).tripped).to.equal(false);
    const records = await service.store.ops.breakerResets();
    expect(records.map((r) => [r.id === done.id, r.status])).to.deep.equal([
      [true, "sent"],
      [false, "failed"], // brk-inflight
      [false, "unknown"], // brk-lost, settled: the breaker was still tripped when the new request came
    ]);
    expect(records[2].error).to.contain("still tripped");
    const audit = (await service.store.audit.list(1, 10_000)).filter((e) => e.action === "risk.breaker.reset");
    expect(audit.length).to.be.greaterThanOrEqual(1);

    // the feed's next round is absorbed again: Safe at the new price
    await price("mbTECH", "82");
    const quote = await router.getPrice(token("mbTECH"));
    expect(quote.price).to.equal(parseUnits("82", 18));
    expect(Number(quote.status)).to.equal(0); // Safe
    const board = await officer.get<OracleBody>("/v1/risk/oracle");
    expect(board.body.assets[1]).to.include({ tripped: false, status: "Safe" });
    expect(board.body.assets[1].lastReset).to.include({ status: "sent" });
  });

  it("margin board: the client's state, deadline and amount to cure as the engine reads them, with its override", async () => {
    const account = (await client.getAddress()).toLowerCase();
    const engine = MarginEngine__factory.connect(dev.record.contracts.MarginEngine, dev.signers[0]);
    // mbBANK falls 15 % a round (inside the move limit) until the engine puts the account in a margin call
    let p = 10;
    for (let i = 0; i < 8 && Number((await engine.accountView(account)).state) < 2; i++) {
      p = Math.round(p * 85) / 100;
      await price("mbBANK", String(p));
      await (await engine.poke(account)).wait();
    }
    const view = await engine.accountView(account);
    expect(Number(view.state)).to.be.greaterThanOrEqual(2);
    const officer = asRole("risk_officer");
    const paused = await officer.post("/v1/keeper/overrides", {
      scope: "account",
      target: account,
      reason: "client wiring cash today",
    });
    expect(paused.status).to.equal(201);

    const board = await officer.get<Board>("/v1/risk/margin-calls");
    expect(board.status, JSON.stringify(board.body)).to.equal(200);
    const row = board.body.accounts.find((r) => r.account === account)!;
    const STATES = ["Healthy", "Warning", "MarginCall", "Liquidatable", "Defaulted"];
    expect(row.state).to.equal(STATES[Number(view.state)]);
    expect(row.deadline).to.equal(view.callDeadline === 0n ? null : Number(view.callDeadline));
    expect(BigInt(row.amountToCure!)).to.equal(BigInt(view.maintenanceReq) - BigInt(view.equity));
    expect(row.overrides).to.have.length(1);
    expect(board.body.counts[row.state]).to.be.greaterThanOrEqual(1);
    expect(board.body.accounts[0].account).to.equal(account); // the worst first
    const healthy = await officer.get<Board>("/v1/risk/margin-calls?state=Healthy");
    expect(healthy.body.accounts.map((r) => r.account)).to.not.include(account);
  });

  it("scheduled operations: pending, ready, executed and canceled, decoded, with their ETA and caller", async () => {
    const p = dev.chain.provider;
    const officer = await p.getSigner(12);
    const officerAddress = await officer.getAddress();
    const manager = ProtocolAccessManager__factory.connect(dev.record.contracts.AccessManager, dev.signers[0]);
    await (await manager.grantRole(RISK_OFFICER_ROLE, officerAddress, 3_600)).wait();
    const asOfficer = manager.connect(officer);
    const guards = (symbol: string, staleness: number) =>
      router.interface.encodeFunctionData("setGuards", [
        token(symbol),
        staleness,
        parseUnits("0.02", 18),
        parseUnits("0.2", 18),
      ]);
    const target = dev.record.contracts.OracleRouter;
    await (await asOfficer.schedule(target, guards("mbSMALL", 3_000), 0)).wait(); // will be ready
    await (await asOfficer.schedule(target, guards("mbSMALL", 1_800), 0)).wait();
    await (await asOfficer.cancel(officerAddress, target, guards("mbSMALL", 1_800))).wait();
    await (await asOfficer.schedule(target, guards("mbBANK", 3_600), 0)).wait();
    await p.send("evm_increaseTime", [3_601]);
    await p.send("evm_mine", []);
    await (await asOfficer.execute(target, guards("mbBANK", 3_600))).wait();
    await (await asOfficer.schedule(target, guards("mbTECH", 3_000), 0)).wait(); // still pending
    const eta = (await p.getBlock("latest"))!.timestamp + 3_600;

    const body = (
      await asRole("risk_officer").get<{ riskDelaySeconds: number; operations: Operation[] }>("/v1/risk/scheduled")
    ).body;
    expect(body.riskDelaySeconds).to.equal(0);
    expect(body.operations.map((o) => o.status)).to.deep.equal(["pending", "executed", "canceled", "ready"]);
    for (const o of body.operations) {
      expect(o).to.include({ contract: "OracleRouter", caller: officerAddress });
      expect(o.call!.function).to.equal("setGuards(address,uint32,uint64,uint64)");
    }
    expect(body.operations[0].call!.args).to.deep.include({ asset: token("mbTECH"), maxStaleness: "3000" });
    expect(body.operations[0].executableAt).to.equal(eta);

    // read latency of the three boards on the local node (printed for docs/console.md, not asserted)
    const timed = async (route: string): Promise<number> => {
      const t0 = performance.now();
      for (let i = 0; i < 5; i++) expect((await asRole("risk_officer").get(route)).status).to.equal(200);
      return Math.round((performance.now() - t0) / 5);
    };
    console.log(
      `      read latency (mean of 5): /v1/risk/margin-calls ${await timed("/v1/risk/margin-calls")} ms, ` +
        `/v1/risk/oracle ${await timed("/v1/risk/oracle")} ms, /v1/risk/scheduled ${await timed("/v1/risk/scheduled")} ms`,
    );
  });
});

/** The claim is the partial unique index: of requests fired at once for one asset, one records itself. */
for (const engine of ["sqlite", "postgres"] as const) {
  describe(`breaker re-arm claims fired at once (${engine})`, function () {
    let store: Store;
    let dir: string;
    let drop: (() => Promise<void>) | undefined;

    before(async function () {
      dir = mkdtempSync(path.join(tmpdir(), "mb-ops-claims-"));
      if (engine === "postgres") {
        const db = await createTestDatabase("mb_ops_claims");
        if ("skip" in db) {
          console.log(`    skipping on PostgreSQL: ${db.skip}`);
          this.skip();
        }
        drop = db.drop;
        store = await openStore({ engine: "postgres", url: db.url });
      } else store = await openStore({ engine: "sqlite", path: path.join(dir, "ops.sqlite") });
    });
    after(async () => {
      await store?.close();
      await drop?.();
      rmSync(dir, { recursive: true, force: true });
    });

    it("lets exactly one of eight concurrent requests claim the asset, and frees it once that one ends", async () => {
      const asset = Wallet.createRandom().address;
      const claims = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          store.ops.claimBreakerReset({ id: `brk-${i}`, asset, reason: "race", actor: "t", createdAt: i }),
        ),
      );
      expect(claims.filter(Boolean)).to.have.length(1);
      const winner = (await store.ops.sendingBreakerReset(asset))!;
      expect(await store.ops.finishBreakerReset(winner.id, { status: "failed", error: "refused" }, 100)).to.equal(true);
      expect(await store.ops.finishBreakerReset(winner.id, { status: "sent" }, 101)).to.equal(false);
      expect(
        await store.ops.claimBreakerReset({ id: "brk-next", asset, reason: "again", actor: "t", createdAt: 200 }),
      ).to.equal(true);
      expect((await store.ops.breakerResets({ asset })).map((r) => r.status)).to.deep.equal(["sending", "failed"]);
    });
  });
}
