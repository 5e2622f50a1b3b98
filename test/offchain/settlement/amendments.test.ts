import { expect } from "chai";
import { Wallet, hexlify, keccak256, randomBytes, toUtf8Bytes, type JsonRpcSigner } from "ethers";
import { verifyTyped } from "micro-eth-signer/typed-data";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  ApiClient,
  coreRoutes,
  createApi,
  createApiKey,
  listen,
  type NewApiKey,
  type RunningApi,
} from "../../../offchain/api";
import { createChainGateway, type ChainGateway } from "../../../offchain/chain";
import { settlementChain } from "../../../offchain/chain/settlementHubWriter";
import { acknowledgementDomain } from "../../../offchain/kyc";
import { hardhatDevWallets } from "../../../offchain/oracle";
import { providersChainAt } from "../../../offchain/providers/chain";
import { readScheduled } from "../../../offchain/providers/scheduled";
import { settlementDomain } from "../../../offchain/settlement";
import { issueAmendments, type PendingOperationsReader } from "../../../offchain/settlement/issueAmendments";
import {
  AGREEMENT_AMENDMENT_TYPES,
  TRANSLATION_HEADING,
  agreementDomain,
  agreementMessage,
  agreementTypedData,
  buildAgreement,
  verifyEvidenceBundle,
  type AmendmentRecord,
  type ChainTermsRequest,
  type EvidenceBundle,
  type FinancingTerms,
} from "../../../offchain/settlement/legal";
import { chainScheduleReader } from "../../../offchain/settlement/readChainSchedule";
import { settlementRoutes } from "../../../offchain/settlement/routes";
import { fromWire, toWire } from "../../../offchain/settlement/wire";
import { parseConfig } from "../../../offchain/shared/config";
import { silentLogger } from "../../../offchain/shared/logger";
import { openStore, type Store } from "../../../offchain/store";
import { webConsoleMounts } from "../../../offchain/web";
import { KycRegistry__factory, MarginEngine__factory, ProtocolAccessManager__factory } from "../../../typechain-types";
import { TEST_SECRET_KEY } from "../../helpers/api";
import { startDevChain, type DevChain } from "../../helpers/devChain";
import { seedSummaryAcknowledged } from "../../helpers/kyc";
import { CHROMIUM, launchChromium } from "../../helpers/e2eStack";
import { createTestDatabase, type TestPostgres } from "../../helpers/postgres";
import { CNY, END, START, seedTerms } from "./legal/seed";

const NODE_PORT = 8764;
const HTTP_PORTS = { sqlite: 18764, postgres: 18765 } as const;
const OPERATOR = hardhatDevWallets([4])[0];
const RISK_OFFICER = 3n;
/** The risk officer's execution delay: the notice period every amendment gives. */
const NOTICE = 172_800;
const pct = (n: number): bigint => (BigInt(n) * 10n ** 18n) / 100n;

type View = Omit<AmendmentRecord, "revision"> & {
  countersignature: string | null;
  typedData: { domain: Record<string, unknown>; message: Record<string, unknown> };
};
interface ErrorBody {
  error: { code: string; message: string };
}

/**
 * Amendments on a real hardhat node with the full deployment: the risk officer (with a two-day execution delay)
 * schedules MarginEngine.setTierRisk and setParams through the AccessManager; the scan reads them with the
 * service's own reader and issues amendments to the live agreements generated from the chain, which their client
 * countersigns or exits from, on SQLite and PostgreSQL.
 */
describe("amendments: scheduled parameter changes issued to the agreements they change", function () {
  this.timeout(300_000);
  let dev: DevChain;
  let gateway: ChainGateway;
  let readOperations: PendingOperationsReader;
  const client = Wallet.createRandom();
  const other = Wallet.createRandom();
  const platform = Wallet.createRandom();
  /** The operations the risk officer scheduled: a no-op, a tier-3 margin change, a longer margin call. */
  const ops = { tier: "", params: "", noop: "" };
  const eta: Record<string, number> = {};
  let tier3Symbols: string[];

  before(async () => {
    dev = await startDevChain(NODE_PORT);
    const [admin, kycOfficer] = dev.signers;
    const c = dev.record.contracts;
    const now = (await dev.chain.provider.getBlock("latest"))!.timestamp;
    const kyc = KycRegistry__factory.connect(c.KycRegistry, kycOfficer);
    for (const w of [client, other])
      await (await kyc.setIdentity(w.address, 3, 156, now + 365 * 86_400, keccak256(toUtf8Bytes("id")))).wait();
    const manager = ProtocolAccessManager__factory.connect(c.AccessManager, admin);
    await (await manager.grantRole(RISK_OFFICER, dev.record.roles.riskOfficer, NOTICE)).wait();
    const config = parseConfig({ env: "test", chain: { rpcUrl: dev.chain.url, confirmations: 0 } });
    gateway = createChainGateway(config.chain, dev.record, silentLogger);
    readOperations = async () => (await readScheduled(providersChainAt(dev.chain.provider, dev.record))).changes;
    tier3Symbols = dev.record.tokens.filter((t) => t.kind === "security" && t.liquidityTier === 3).map((t) => t.symbol);
    expect(tier3Symbols.length).to.be.greaterThan(0);
  });

  function riskOfficerManager() {
    const officer = dev.signers.find((s) => s.address === dev.record.roles.riskOfficer) as JsonRpcSigner;
    return ProtocolAccessManager__factory.connect(dev.record.contracts.AccessManager, officer);
  }

  /** Schedules the three operations (after the agreements exist, as in production: changes come later). */
  async function scheduleChanges(): Promise<void> {
    if (ops.tier) return;
    const manager = riskOfficerManager();
    const engine = MarginEngine__factory.connect(dev.record.contracts.MarginEngine, dev.chain.provider);
    const r = await engine.tierRisk(3);
    const tier3 = {
      liquidityAddOn: r.liquidityAddOn,
      volatilityMultiplier: r.volatilityMultiplier,
      floor: r.floor,
      cap: r.cap,
      initialBuffer: r.initialBuffer,
      fixedVolatility: r.fixedVolatility,
    };
    const p = await engine.params();
    const params = {
      warningBuffer: p.warningBuffer,
      hardFloorFactor: p.hardFloorFactor,
      targetBuffer: p.targetBuffer,
      liquidatorShare: p.liquidatorShare,
      gracePeriod: p.gracePeriod + 3_600n,
      oracleGrace: p.oracleGrace,
      liquidationWindow: p.liquidationWindow,
      dustValue: p.dustValue,
    };
    const iface = engine.interface;
    const calls = {
      tier: iface.encodeFunctionData("setTierRisk", [3, { ...tier3, floor: tier3.floor + pct(5) }]),
      params: iface.encodeFunctionData("setParams", [params]),
      noop: iface.encodeFunctionData("setTierRisk", [3, tier3]),
    };
    // The no-op first: a change is diffed against the terms in force once the earlier scheduled ones took effect, so
    // the same call scheduled after the tier change would undo it (and be an amendment of its own).
    for (const key of ["noop", "tier", "params"] as const) {
      const target = dev.record.contracts.MarginEngine;
      await (await manager.schedule(target, calls[key], 0)).wait();
      ops[key] = await manager.hashOperation(dev.record.roles.riskOfficer, target, calls[key]);
      eta[key] = Number(await manager.getSchedule(ops[key]));
    }
  }

  after(async () => {
    gateway?.close();
    await dev?.stop();
  });

  for (const engine of ["sqlite", "postgres"] as const) {
    describe(`on ${engine}`, function () {
      let pg: TestPostgres | undefined;
      let dir: string;
      let store: Store;
      let running: RunningApi;
      const keys: Record<string, NewApiKey> = {};
      /** The service's clock (the scan, answers and lapses follow it); moved past the changes' time at the end. */
      let clock = (): Date => new Date();
      const exits: string[] = [];
      const domain = () => agreementDomain(BigInt(dev.record.chainId), dev.record.contracts.AgreementRegistry);
      const as = (who: string): ApiClient => new ApiClient(running.url, keys[who]);
      const live: string[] = [];
      let pending: string;
      let unscheduled: string;

      before(async function () {
        if (engine === "postgres") {
          pg = await createTestDatabase("mb_amendments");
          if ("skip" in pg) {
            console.log(`    skipped: ${pg.skip}`);
            return this.skip();
          }
        }
        dir = mkdtempSync(path.join(tmpdir(), "mb-amendments-"));
        store =
          pg && "url" in pg
            ? await openStore({ engine: "postgres", url: pg.url, poolSize: 8 })
            : await openStore({ engine: "sqlite", path: path.join(dir, "api.sqlite") });
        const api = createApi({
          store,
          log: silentLogger,
          secretKey: TEST_SECRET_KEY,
          timestampWindowMs: 60_000,
          rateLimitPerMinute: 100_000,
          bodyLimitBytes: 64 * 1024,
          staticMounts: webConsoleMounts(),
          capabilities: [
            coreRoutes({ store, secretKey: TEST_SECRET_KEY }),
            settlementRoutes({
              store,
              chain: settlementChain(gateway, OPERATOR.privateKey, silentLogger),
              agreementDomain: domain(),
              settlementDomain: settlementDomain(dev.record.chainId, dev.record.contracts.SettlementHub),
              readSchedule: chainScheduleReader(gateway),
              readOperations,
              deployment: dev.record,
              onAmendmentExit: async (agreementId) => {
                exits.push(agreementId);
              },
              now: () => clock(),
            }),
          ],
        });
        running = await listen(api, {
          host: "127.0.0.1",
          port: HTTP_PORTS[engine],
          store,
          secretKey: TEST_SECRET_KEY,
          timestampWindowMs: 60_000,
          log: silentLogger,
        });
        for (const [who, w] of [
          ["client", client],
          ["other", other],
        ] as const)
          keys[who] = await createApiKey(store, TEST_SECRET_KEY, { role: "client", subject: w.address, label: who });
        keys.operator = await createApiKey(store, TEST_SECRET_KEY, { role: "operator", subject: "ops", label: "o" });
        await seedSummaryAcknowledged(
          store,
          acknowledgementDomain(dev.record.chainId, dev.record.contracts.KycRegistry),
          client,
        );
        // Three live agreements generated from the chain, one generated but not signed, one without a schedule.
        for (let i = 0; i < 3; i++) live.push(await anchoredAgreement(await generated()));
        pending = await generated();
        unscheduled = await anchoredAgreement(await prepared());
        await scheduleChanges();
      });
      after(async function () {
        await running?.close();
        await store?.close();
        if (pg && "drop" in pg) await pg.drop();
        if (dir) rmSync(dir, { recursive: true, force: true });
      });

      async function generated(): Promise<string> {
        const req: ChainTermsRequest = {
          agreementId: hexlify(randomBytes(32)),
          client: { address: client.address, name: "Client A", accountRef: "MB-000001" },
          platform: { address: platform.address, name: "MarginBridge Platform Ltd." },
          currency: { symbol: "mbCNY", iso4217: "CNY", decimals: 6 },
          ownFunds: 100_000n * CNY,
          leverageBps: 20_000,
          fees: [{ code: "COMMISSION", label: "Brokerage commission", kind: "per-trade", bps: 3, minimum: 5n * CNY }],
          effectiveAt: START,
          expiresAt: END,
          governingLaw: "Governed by the laws of the People's Republic of China",
          disputeResolution: "Disputes go first to the MarginBridge dispute desk, then to arbitration in Shanghai.",
        };
        const res = await as("operator").post("/v1/agreements/generate", toWire(req));
        expect(res.status, JSON.stringify(res.body)).to.equal(201);
        return req.agreementId;
      }

      async function prepared(): Promise<string> {
        const terms = seedTerms(client.address, platform.address, { agreementId: hexlify(randomBytes(32)) });
        expect((await as("operator").post("/v1/agreements", { terms: toWire(terms) })).status).to.equal(201);
        return terms.agreementId;
      }

      async function anchoredAgreement(id: string): Promise<string> {
        const read = await as("operator").get<{ document: { terms: unknown } }>(`/v1/agreements/${id}`);
        const terms = fromWire<FinancingTerms>(read.body.document.terms);
        const td = agreementTypedData(domain(), agreementMessage(buildAgreement(terms)));
        for (const [who, w] of [
          ["client", client],
          ["operator", platform],
        ] as const) {
          const signature = await w.signTypedData(td.domain, td.types, td.message);
          expect((await as(who).post(`/v1/agreements/${id}/signatures`, { signature })).status).to.equal(200);
        }
        const anchored = await as("operator").post<{ status: string }>(`/v1/agreements/${id}/anchor`);
        expect(anchored.body.status, JSON.stringify(anchored.body)).to.equal("anchored");
        return id;
      }

      const amendmentsOf = async (id: string, who = "client"): Promise<View[]> =>
        (await as(who).get<{ amendments: View[] }>(`/v1/agreements/${id}/amendments`)).body.amendments;
      const of = async (id: string, op: string): Promise<View> =>
        (await amendmentsOf(id)).find((a) => a.operationId === op)!;
      const sign = (w: Pick<Wallet, "signTypedData">, a: View) =>
        w.signTypedData(a.typedData.domain, AGREEMENT_AMENDMENT_TYPES, a.typedData.message);

      it("issues an amendment to each live agreement a scheduled change moves, and to no other", async () => {
        const scan = await as("operator").post<{ issued: View[]; agreements: number; operations: number }>(
          "/v1/agreements/amendments/scan",
        );
        expect(scan.status, JSON.stringify(scan.body)).to.equal(200);
        expect(scan.body.operations).to.equal(3);
        // Live: the three anchored chain agreements (the unscheduled one is anchored too, but states no schedule).
        expect(scan.body.agreements).to.equal(3);
        const issued = scan.body.issued;
        expect(issued).to.have.length(6);
        expect(new Set(issued.map((a) => a.agreementId))).to.deep.equal(new Set(live));
        expect(new Set(issued.map((a) => a.operationId))).to.deep.equal(new Set([ops.tier, ops.params]));
        expect(await amendmentsOf(pending, "operator")).to.deep.equal([]);
        expect(await amendmentsOf(unscheduled, "operator")).to.deep.equal([]);

        const tier = await of(live[0], ops.tier);
        expect(tier).to.include({ status: "issued", effectiveAt: eta.tier, contract: "MarginEngine" });
        expect(tier.client.toLowerCase()).to.equal(client.address.toLowerCase());
        expect(tier.function).to.match(/^setTierRisk\(/);
        expect(tier.changes).to.deep.equal(
          [...tier3Symbols].sort().map((s) => ({
            path: `schedule.assets.${s}.tier.floor`,
            from: pct(25).toString(),
            to: pct(30).toString(),
          })),
        );
        const params = await of(live[0], ops.params);
        expect(params.changes.map((c) => c.path)).to.deep.equal([
          "margin.marginCallWindowSeconds",
          "schedule.params.gracePeriod",
        ]);
        expect(Number(params.changes[0].to) - Number(params.changes[0].from)).to.equal(3_600);
        expect(params.effectiveAt).to.equal(eta.params);
      });

      it("writes the amendment in Chinese and English under one text hash: what changes, from when, the exit right", async () => {
        const a = await of(live[0], ops.tier);
        expect(a.textHash).to.equal(keccak256(toUtf8Bytes(a.text)));
        const [zh, en] = a.text.split(TRANSLATION_HEADING);
        const when = new Date(eta.tier * 1000).toISOString().slice(0, 19).replace("T", " ");
        expect(zh).to.contain(`融资合同修订 ${a.id}`);
        expect(zh).to.contain(`自 ${when} UTC`);
        expect(zh).to.contain(`维持保证金率下限（schedule.assets.${tier3Symbols[0]}.tier.floor）：25.00% → 30.00%`);
        expect(zh).to.contain("客户就本修订享有的退出权随之终止");
        expect(en).to.contain(`AMENDMENT ${a.id}`);
        expect(en).to.contain(`From ${when} UTC (unix ${eta.tier})`);
        expect(en).to.contain(
          `maintenance margin floor (schedule.assets.${tier3Symbols[0]}.tier.floor): 25.00% → 30.00%`,
        );
        expect(en).to.contain("the Client's right to exit on account of this amendment ends");
      });

      it("issues nothing new on a re-scan, nor from two more scans run at once", async () => {
        const before = (await store.legal.listAmendments()).length;
        const again = await as("operator").post<{ issued: View[] }>("/v1/agreements/amendments/scan");
        expect(again.body.issued).to.deep.equal([]);
        const deps = { store: store.legal, domain: domain(), deployment: dev.record, readOperations, now: clock };
        const twice = await Promise.all([issueAmendments(deps), issueAmendments(deps)]);
        expect(twice.map((s) => s.issued.length)).to.deep.equal([0, 0]);
        expect((await store.legal.listAmendments()).length).to.equal(before);
      });

      it("shows the amendments in the agreement's record; a client sees its own only, staff list them by status", async () => {
        const rec = await as("client").get<{ amendments: View[] }>(`/v1/agreements/${live[0]}`);
        expect(rec.status).to.equal(200);
        expect(rec.body.amendments.map((a) => [a.operationId, a.status])).to.have.deep.members([
          [ops.tier, "issued"],
          [ops.params, "issued"],
        ]);
        expect((await as("other").get(`/v1/agreements/${live[0]}/amendments`)).status).to.equal(403);
        const issued = await as("operator").get<{ amendments: View[] }>("/v1/agreements/amendments?status=issued");
        expect(issued.body.amendments).to.have.length(6);
        expect((await as("client").get("/v1/agreements/amendments")).status).to.equal(403);
        expect((await as("operator").get("/v1/agreements/amendments?status=maybe")).status).to.equal(400);
      });

      it("refuses a countersignature that is not the client's, or of another amendment, and records the client's", async () => {
        const a = await of(live[0], ops.tier);
        const url = `/v1/agreements/${live[0]}/amendments/${a.id}/countersign`;
        const byOther = await as("client").post<ErrorBody>(url, { signature: await sign(other, a) });
        expect(byOther.status).to.equal(400);
        expect(byOther.body.error.message).to.contain("not the client's signature");
        const wrongText = await sign(client, {
          ...a,
          typedData: { ...a.typedData, message: { ...a.typedData.message, textHash: keccak256("0x01") } },
        });
        expect((await as("client").post(url, { signature: wrongText })).status).to.equal(400);
        const params = await of(live[0], ops.params);
        expect((await as("client").post(url, { signature: await sign(client, params) })).status).to.equal(400);
        expect((await of(live[0], ops.tier)).status).to.equal("issued");

        const signature = await sign(client, a);
        const ok = await as("client").post<View>(url, { signature });
        expect(ok.status, JSON.stringify(ok.body)).to.equal(200);
        expect(ok.body).to.include({ status: "countersigned", countersignature: signature });
        // The signature checks out with a second, independent EIP-712 implementation too.
        const typed = {
          types: AGREEMENT_AMENDMENT_TYPES as never,
          primaryType: "AgreementAmendment" as never,
          domain: { ...a.typedData.domain, chainId: Number(a.typedData.domain.chainId) } as never,
          message: { ...a.typedData.message } as never,
        };
        expect(verifyTyped(signature, typed, client.address)).to.equal(true);
        expect(verifyTyped(signature, typed, other.address)).to.equal(false);

        const twice = await as("client").post<ErrorBody>(url, { signature });
        expect(twice.status).to.equal(409);
        expect(twice.body.error.message).to.contain("already countersigned");
        expect((await as("client").post(`/v1/agreements/${live[0]}/amendments/${a.id}/exit`)).status).to.equal(409);
      });

      it("answers 404 for an unknown amendment or one of another agreement, 403 for another client", async () => {
        const a = await of(live[1], ops.tier);
        const unknown = `/v1/agreements/${live[1]}/amendments/${keccak256("0x02")}/exit`;
        expect((await as("client").post(unknown)).status).to.equal(404);
        expect((await as("client").post(`/v1/agreements/${live[0]}/amendments/${a.id}/exit`)).status).to.equal(404);
        expect((await as("other").post(`/v1/agreements/${live[1]}/amendments/${a.id}/exit`)).status).to.equal(403);
        expect((await as("operator").post(`/v1/agreements/${live[1]}/amendments/${a.id}/exit`)).status).to.equal(403);
        expect((await of(live[1], ops.tier)).status).to.equal("issued");
      });

      it("records an exit before the change takes effect and calls the exit hook once", async () => {
        const a = await of(live[0], ops.params);
        const res = await as("client").post<View>(`/v1/agreements/${live[0]}/amendments/${a.id}/exit`);
        expect(res.status, JSON.stringify(res.body)).to.equal(200);
        expect(res.body).to.include({ status: "exited", answeredBy: client.address, countersignature: null });
        expect(exits).to.deep.equal([live[0]]);
      });

      it("of a countersignature and an exit sent at once, records exactly one; the others get 409", async () => {
        for (const op of [ops.tier, ops.params]) {
          const a = await of(live[1], op);
          const signature = await sign(client, a);
          const base = `/v1/agreements/${live[1]}/amendments/${a.id}`;
          const answers = await Promise.all([
            as("client").post<View>(`${base}/countersign`, { signature }),
            as("client").post<View>(`${base}/exit`),
            as("client").post<View>(`${base}/countersign`, { signature }),
            as("client").post<View>(`${base}/exit`),
          ]);
          expect(answers.map((r) => r.status).sort()).to.deep.equal([200, 409, 409, 409]);
          const winner = answers.find((r) => r.status === 200)!.body;
          expect((await of(live[1], op)).status).to.equal(winner.status);
          if (winner.status === "exited") break; // an agreement the client leaves gets no further answers
        }
      });

      it("lapses what was not answered once the change takes effect: answers are refused, the exit right has ended", async () => {
        const a = await of(live[2], ops.tier);
        clock = () => new Date((eta.params + 1) * 1000);
        try {
          const late = await as("client").post<ErrorBody>(`/v1/agreements/${live[2]}/amendments/${a.id}/countersign`, {
            signature: await sign(client, a),
          });
          expect(late.status).to.equal(409);
          expect(late.body.error.message).to.contain("took effect");
          expect((await of(live[2], ops.tier)).status).to.equal("lapsed");
          const scan = await as("operator").post<{ lapsed: number; issued: View[] }>("/v1/agreements/amendments/scan");
          expect(scan.body.issued).to.deep.equal([]);
          expect(scan.body.lapsed).to.be.greaterThanOrEqual(1);
          expect((await of(live[2], ops.params)).status).to.equal("lapsed");
          expect((await store.legal.listAmendments("issued")).length).to.equal(0);
        } finally {
          clock = () => new Date();
        }
      });

      it("puts the agreement's amendment history, texts, hashes and countersignature, in a dispute's evidence", async () => {
        const opened = await as("operator").post<{ id: string }>("/v1/disputes", {
          subject: { kind: "trade", ref: "T-amended", account: client.address, agreementId: live[0] },
          reason: "the margin applied after the amendment",
        });
        expect(opened.status, JSON.stringify(opened.body)).to.equal(201);
        const id = opened.body.id;
        expect(
          (await as("operator").post(`/v1/disputes/${id}/actions`, { action: "collect-evidence" })).status,
        ).to.equal(200);
        const read = await as("operator").get<{ evidence: EvidenceBundle }>(`/v1/disputes/${id}`);
        const bundle = read.body.evidence;
        const items = bundle.items.filter((i) => i.kind === "amendment");
        const history = await amendmentsOf(live[0]);
        expect(items.map((i) => i.id).sort()).to.deep.equal(history.map((a) => a.id).sort());
        for (const item of items) {
          const want = history.find((a) => a.id === item.id)!;
          expect(item.data).to.deep.include({ text: want.text, textHash: want.textHash, status: want.status });
        }
        const signed = items.find((i) => (i.data as View).status === "countersigned")!;
        expect(signed.signed).to.have.length(1);
        const report = verifyEvidenceBundle(bundle);
        expect(report.valid, JSON.stringify(report.checks.filter((c) => !c.ok))).to.equal(true);
        expect(report.checks.some((c) => c.check.startsWith(`signature 0 on amendment/${signed.id}`))).to.equal(true);
      });

      it("withdraws the amendments of an operation cancelled before it takes effect, and amends no exited agreement", async () => {
        const manager = riskOfficerManager();
        const target = dev.record.contracts.MarginEngine;
        const margin = MarginEngine__factory.connect(target, dev.chain.provider);
        const r = await margin.tierRisk(2);
        const risk = {
          liquidityAddOn: r.liquidityAddOn,
          volatilityMultiplier: r.volatilityMultiplier,
          floor: r.floor,
          cap: r.cap + pct(engine === "sqlite" ? 1 : 2),
          initialBuffer: r.initialBuffer,
          fixedVolatility: r.fixedVolatility,
        };
        const data = margin.interface.encodeFunctionData("setTierRisk", [2, risk]);
        await (await manager.schedule(target, data, 0)).wait();
        const op = await manager.hashOperation(dev.record.roles.riskOfficer, target, data);
        const scan = await as("operator").post<{ issued: View[] }>("/v1/agreements/amendments/scan");
        const exited = new Set((await store.legal.listAmendments("exited")).map((a) => a.agreementId));
        expect(exited.has(live[0])).to.equal(true);
        const amended = live.filter((id) => !exited.has(id));
        expect(scan.body.issued.map((a) => [a.agreementId, a.operationId])).to.have.deep.members(
          amended.map((id) => [id, op]),
        );

        await (await manager.cancel(dev.record.roles.riskOfficer, target, data)).wait();
        const after = await as("operator").post<{ withdrawn: number; issued: View[] }>(
          "/v1/agreements/amendments/scan",
        );
        expect(after.body).to.deep.include({ withdrawn: amended.length, issued: [] });
        for (const id of amended) expect((await of(id, op)).status).to.equal("withdrawn");
        const a = await of(amended[0], op);
        const late = await as("client").post<ErrorBody>(`/v1/agreements/${amended[0]}/amendments/${a.id}/exit`);
        expect(late.status).to.equal(409);
        expect(late.body.error.message).to.contain("already withdrawn");

        // The same call scheduled again (same operation id, a new nonce): the amendment is issued again, its earlier
        // issue kept; cancelled once more, it is withdrawn again (and the next engine's scans never see it).
        await (await manager.schedule(target, data, 0)).wait();
        const eta2 = Number(await manager.getSchedule(op));
        const again = await as("operator").post<{ issued: View[] }>("/v1/agreements/amendments/scan");
        expect(again.body.issued.map((x) => x.agreementId)).to.have.members(amended);
        const reissued = await of(amended[0], op);
        expect(reissued).to.include({ id: a.id, status: "issued", effectiveAt: eta2 });
        expect(reissued.reissues).to.deep.equal([
          { effectiveAt: a.effectiveAt, textHash: a.textHash, issuedAt: a.issuedAt, withdrawnAt: a.withdrawnAt },
        ]);
        expect(reissued.textHash).to.not.equal(a.textHash); // the text states the new time
        await (await manager.cancel(dev.record.roles.riskOfficer, target, data)).wait();
        const cancelled = await as("operator").post<{ withdrawn: number }>("/v1/agreements/amendments/scan");
        expect(cancelled.body.withdrawn).to.equal(amended.length);
      });

      // The page is the same whatever the engine: checked once, with an operation of its own, cancelled afterwards.
      if (engine === "sqlite")
        it("the client page shows an issued amendment in Chinese and English; the wallet countersigns it", async function () {
          if (!existsSync(CHROMIUM)) return this.skip();
          const manager = riskOfficerManager();
          const target = dev.record.contracts.MarginEngine;
          const margin = MarginEngine__factory.connect(target, dev.chain.provider);
          const r = await margin.tierRisk(1);
          const risk = {
            liquidityAddOn: r.liquidityAddOn,
            volatilityMultiplier: r.volatilityMultiplier,
            floor: r.floor,
            cap: r.cap - pct(1),
            initialBuffer: r.initialBuffer,
            fixedVolatility: r.fixedVolatility,
          };
          const data = margin.interface.encodeFunctionData("setTierRisk", [1, risk]);
          await (await manager.schedule(target, data, 0)).wait();
          const browser = await launchChromium();
          try {
            const op = await manager.hashOperation(dev.record.roles.riskOfficer, target, data);
            expect((await as("operator").post("/v1/agreements/amendments/scan")).status).to.equal(200);
            const a = await of(live[2], op);
            expect(a.status).to.equal("issued");
            const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
            // A scripted EIP-1193 wallet holding the client's key (as test/e2e/clientTicket.test.ts does).
            const asked: string[] = [];
            await page.exposeFunction("__mbWallet", async (method: string, params: unknown[]) => {
              asked.push(method);
              if (method === "eth_requestAccounts") return [client.address];
              if (method !== "eth_signTypedData_v4") throw new Error(`the scripted wallet does not do ${method}`);
              const typed = JSON.parse(String(params[1]));
              expect(typed.primaryType).to.equal("AgreementAmendment");
              delete typed.types.EIP712Domain;
              return client.signTypedData(typed.domain, typed.types, typed.message);
            });
            await page.addInitScript(() => {
              const bridge = (window as unknown as { __mbWallet(m: string, p: unknown[]): Promise<unknown> })
                .__mbWallet;
              (window as unknown as { ethereum: unknown }).ethereum = {
                request: ({ method, params }: { method: string; params?: unknown[] }) => bridge(method, params ?? []),
              };
            });
            const card = `#amendments [data-amendment='${a.id}']`;
            for (const lang of ["zh-CN", "en"] as const) {
              await page.goto(`${running.url}/console/client.html${lang === "en" ? "?lang=en" : ""}`);
              await page.evaluate(() => sessionStorage.clear());
              await page.reload();
              await page.fill("input[name=keyId]", keys.client.keyId);
              await page.fill("input[name=secret]", keys.client.secret);
              await page.click("#key-form button[type=submit]");
              // No margin account in this test's service: the section is in the page, not shown; its text is.
              await page.waitForSelector(`${card}[data-status='issued']`, { state: "attached", timeout: 20_000 });
              const text = (await page.textContent(`${card} pre`))!;
              const label = (await page.textContent(`${card} .label`))!;
              if (lang === "zh-CN") {
                expect(text).to.contain(`融资合同修订 ${a.id}`);
                expect(text).to.contain("维持保证金率上限");
                expect(text).to.not.contain("AMENDMENT");
                expect(label).to.contain("待答复");
              } else {
                expect(text).to.contain(`AMENDMENT ${a.id}`);
                expect(text).to.contain("maintenance margin cap");
                expect(text).to.not.match(/[\u4e00-\u9fff]/);
                expect(label).to.contain("awaiting your answer");
              }
              expect(await page.isDisabled(`${card} [data-exit]`)).to.equal(false);
            }
            // The wallet signs the typed data the service gave; the API records the countersignature.
            await page.evaluate(
              (sel) => (document.querySelector(sel) as HTMLButtonElement).click(),
              `${card} [data-countersign]`,
            );
            await page.waitForSelector(`${card}[data-status='countersigned']`, { state: "attached", timeout: 20_000 });
            expect(asked).to.deep.equal(["eth_requestAccounts", "eth_signTypedData_v4"]);
            const signed = await of(live[2], op);
            expect(signed.status).to.equal("countersigned");
            expect(await page.textContent(`${card} .label`)).to.contain("countersigned");
          } finally {
            await browser.close();
            // Cancelled, so the next engine's scans do not see it.
            await (await manager.cancel(dev.record.roles.riskOfficer, target, data)).wait();
          }
        });
    });
  }
});
