import { expect } from "chai";
import { Wallet, keccak256, toUtf8Bytes } from "ethers";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ApiClient, coreRoutes, createApi, createApiKey, listen, type RunningApi } from "../../../../offchain/api";
import { createChainGateway, type ChainGateway } from "../../../../offchain/chain";
import { settlementDomain } from "../../../../offchain/settlement";
import {
  agreementDomain,
  agreementIsIntact,
  buildAgreement,
  percentText,
  termsFromChain,
  TRANSLATION_HEADING,
  wadDecimal,
  wadPercent,
  wadToBpsUp,
  type ChainSchedule,
  type ChainTermsRequest,
  type FinancingTerms,
} from "../../../../offchain/settlement/legal";
import { chainScheduleReader } from "../../../../offchain/settlement/readChainSchedule";
import { settlementRoutes } from "../../../../offchain/settlement/routes";
import { fromWire, toWire } from "../../../../offchain/settlement/wire";
import { parseConfig } from "../../../../offchain/shared/config";
import { silentLogger } from "../../../../offchain/shared/logger";
import { openStore, type Store } from "../../../../offchain/store";
import {
  CapitalPool__factory,
  KycRegistry__factory,
  MarginEngine__factory,
  ProtocolAccessManager__factory,
} from "../../../../typechain-types";
import { TEST_SECRET_KEY } from "../../../helpers/api";
import { startDevChain, type DevChain } from "../../../helpers/devChain";
import { CNY, END, START } from "./seed";

const NODE_PORT = 8791;
const HTTP_PORT = 18791;
const RISK_OFFICER = 3n;
const NOTICE = 172_800;

function request(client: string, platform: string, over: Partial<ChainTermsRequest> = {}): ChainTermsRequest {
  return {
    agreementId: "0x" + "c3".repeat(32),
    client: { address: client, name: "Client A", accountRef: "MB-000001" },
    platform: { address: platform, name: "MarginBridge Platform Ltd." },
    currency: { symbol: "mbCNY", iso4217: "CNY", decimals: 6 },
    ownFunds: 100_000n * CNY,
    leverageBps: 20_000,
    fees: [{ code: "COMMISSION", label: "Brokerage commission", kind: "per-trade", bps: 3, minimum: 5n * CNY }],
    performanceFee: { rateBps: 2_000, hurdleAnnualBps: 600, platformBps: 5_000, capitalProvidersBps: 5_000 },
    marginMode: { chosen: "dynamic", fixedUntil: null },
    effectiveAt: START,
    expiresAt: END,
    governingLaw: "Governed by the laws of the People's Republic of China",
    disputeResolution: "Disputes go first to the MarginBridge dispute desk, then to arbitration in Shanghai.",
    ...over,
  };
}

/**
 * The agreement generated from the chain states what the chain applies: every number of the signed text (Chinese
 * and English) is checked against MarginEngine.assetConfig / tierRisk / params, CapitalPool.borrowRate / rateModel,
 * KycRegistry.maxLeverageOf and the AccessManager's delay, read here directly from a real hardhat node.
 */
describe("financing agreement generated from the chain", function () {
  this.timeout(180_000);
  let dev: DevChain;
  let gateway: ChainGateway;
  let schedule: ChainSchedule;
  let terms: FinancingTerms;
  const client = Wallet.createRandom();
  const platform = Wallet.createRandom();

  before(async () => {
    dev = await startDevChain(NODE_PORT);
    const [admin, kycOfficer] = dev.signers;
    const c = dev.record.contracts;
    const kyc = KycRegistry__factory.connect(c.KycRegistry, kycOfficer);
    const now = (await dev.chain.provider.getBlock("latest"))!.timestamp;
    await (await kyc.setIdentity(client.address, 3, 156, now + 365 * 86_400, keccak256(toUtf8Bytes("a")))).wait();
    // A notice period on the risk officer's role, as production has: the agreement must state it.
    const manager = ProtocolAccessManager__factory.connect(c.AccessManager, admin);
    await (await manager.grantRole(RISK_OFFICER, dev.record.roles.riskOfficer, NOTICE)).wait();
    const config = parseConfig({ env: "test", chain: { rpcUrl: dev.chain.url, confirmations: 0 } });
    gateway = createChainGateway(config.chain, dev.record, silentLogger);
    schedule = await chainScheduleReader(gateway)(client.address);
    terms = termsFromChain(schedule, request(client.address, platform.address));
  });
  after(async () => {
    gateway?.close();
    await dev?.stop();
  });

  it("renders every per-asset number of assetConfig and tierRisk, in both languages", async () => {
    const engine = MarginEngine__factory.connect(dev.record.contracts.MarginEngine, dev.chain.provider);
    const at = { blockTag: schedule.block };
    const listed = await engine.listedAssets(at);
    expect(listed.length).to.be.greaterThan(0);
    expect(schedule.assets.map((a) => a.address)).to.deep.equal([...listed]);
    const doc = buildAgreement(terms);
    const [zh, en] = doc.text.split(TRANSLATION_HEADING);
    for (const address of listed) {
      const cfg = await engine.assetConfig(address, at);
      const r = await engine.tierRisk(cfg.liquidityTier, at);
      const sym = dev.record.tokens.find((t) => t.address === address)!.symbol;
      const decimals = dev.record.tokens.find((t) => t.address === address)!.decimals;
      const cap = (cfg.windowCap / 10n ** BigInt(decimals)).toString();
      const margin = `max(${wadPercent(r.floor)}, ${wadPercent(r.liquidityAddOn)} + ${wadDecimal(r.volatilityMultiplier)} ×`;
      expect(en).to.contain(
        `${sym} (${address}): liquidity tier ${cfg.liquidityTier}; haircut ${wadPercent(cfg.haircut)};`,
      );
      expect(en).to.contain(`maintenance margin = ${margin} daily volatility), at most ${wadPercent(r.cap)}`);
      expect(en).to.contain(`initial margin = maintenance + ${wadPercent(r.initialBuffer)}`);
      expect(en).to.contain(`fixed mode at a daily volatility of ${wadPercent(r.fixedVolatility)}`);
      expect(en).to.contain(`liquidation penalty ${wadPercent(cfg.liquidationPenalty)}; at most ${cap} units`);
      expect(zh).to.contain(
        `${sym}（${address}）：流动性等级 ${cfg.liquidityTier}；折算率扣减（haircut）${wadPercent(cfg.haircut)}`,
      );
      expect(zh).to.contain(`维持保证金率 = ${margin} 日波动率)，上限 ${wadPercent(r.cap)}`);
      expect(zh).to.contain(`强制平仓罚金 ${wadPercent(cfg.liquidationPenalty)}；每`);
    }
  });

  it("renders the engine's params, the pool's rate, the leverage limit and the notice period as read", async () => {
    const c = dev.record.contracts;
    const at = { blockTag: schedule.block };
    const p = await MarginEngine__factory.connect(c.MarginEngine, dev.chain.provider).params(at);
    const pool = CapitalPool__factory.connect(c.CapitalPool, dev.chain.provider);
    const [rate, model] = await Promise.all([pool.borrowRate(at), pool.rateModel(at)]);
    const maxLeverage = await KycRegistry__factory.connect(c.KycRegistry, dev.chain.provider).maxLeverageOf(
      client.address,
      at,
    );
    const [zh, en] = buildAgreement(terms).text.split(TRANSLATION_HEADING);
    expect(en).to.contain(`maintenance requirement plus ${wadPercent(p.warningBuffer)} of the position value`);
    expect(en).to.contain(`liquidated at once below ${wadPercent(p.hardFloorFactor)} of the maintenance requirement`);
    expect(en).to.contain(`a margin call gives ${p.gracePeriod} seconds`);
    expect(en).to.contain(`plus ${wadPercent(p.targetBuffer)} of the position value (the liquidation target)`);
    expect(en).to.contain(`the liquidator keeps ${wadPercent(p.liquidatorShare)} of the penalty`);
    expect(en).to.contain(`safe for ${p.oracleGrace} seconds`);
    expect(en).to.contain(`per ${p.liquidationWindow} seconds`);
    expect(en).to.contain(`verified leverage limit is ${wadDecimal(maxLeverage)}x`);
    expect(en).to.contain(`${wadPercent(model.base)} + ${wadPercent(model.slope1)} × U / kink`);
    expect(en).to.contain(`utilisation U of ${wadPercent(model.kink)}`);
    expect(en).to.contain(`plus ${wadPercent(model.slope2)} × (U − kink)`);
    expect(en).to.contain(`${wadPercent(rate)} a year at signing`);
    expect(en).to.contain(`no earlier than ${NOTICE} seconds after it is scheduled`);
    expect(en).to.contain(`3. Interest. ${percentText(wadToBpsUp(rate))} a year`);
    expect(en).to.contain(
      `Below maintenance the account is in margin call: new risk is blocked and the Client has ${p.gracePeriod} seconds`,
    );
    expect(zh).to.contain(`追加保证金通知给予 ${p.gracePeriod} 秒补足`);
    expect(zh).to.contain(`签署时为年化 ${wadPercent(rate)}`);
    expect(zh).to.contain(`最早在排期后 ${NOTICE} 秒生效`);
    expect(zh).to.contain(`杠杆上限为 ${wadDecimal(maxLeverage)} 倍`);
    expect(schedule.noticePeriodSeconds).to.equal(NOTICE);
  });

  it("derives the headline clauses from the schedule: lowest margins, largest penalty, the engine's split, no close factor", () => {
    const floors = schedule.assets.map((a) => a.tier.floor);
    const lowest = floors.reduce((m, f) => (f < m ? f : m));
    expect(terms.margin.maintenanceMarginBps).to.equal(wadToBpsUp(lowest));
    expect(terms.margin.marginCallWindowSeconds).to.equal(Number(schedule.params.gracePeriod));
    const penalties = schedule.assets.map((a) => wadToBpsUp(a.liquidationPenalty));
    expect(terms.liquidation.penaltyBps).to.equal(Math.max(...penalties));
    expect(terms.liquidation.penaltyToLiquidatorBps).to.equal(wadToBpsUp(schedule.params.liquidatorShare));
    expect(terms.liquidation.closeFactorBps).to.equal(10_000);
    // least liquid first
    const tiers = terms.liquidation.assetOrder.map((s) => schedule.assets.find((a) => a.symbol === s)!.liquidityTier);
    expect(tiers).to.deep.equal([...tiers].sort((a, b) => b - a));
    const en = buildAgreement(terms).text.split(TRANSLATION_HEADING)[1];
    expect(en).to.not.contain("segments of at most");
    expect(en).to.contain("only until the liquidation target (clause 4c) is reached");
  });

  it("hashes the Chinese text and the English translation together: changing either breaks the document", () => {
    const doc = buildAgreement(terms);
    expect(doc.text.startsWith(`融资协议 ${terms.agreementId}`)).to.equal(true);
    expect(doc.text).to.contain(`${TRANSLATION_HEADING}\n\nFINANCING AGREEMENT ${terms.agreementId}`);
    expect(agreementIsIntact(doc)).to.equal(true);
    expect(agreementIsIntact({ ...doc, text: doc.text.replace("融资协议", "借款协议") })).to.equal(false);
    expect(agreementIsIntact({ ...doc, text: doc.text.replace("FINANCING AGREEMENT", "LOAN AGREEMENT") })).to.equal(
      false,
    );
    expect(doc.text).to.contain("7a. Performance fee. 20.00% of the Client's funds above the higher of the hurdle");
    expect(doc.text).to.contain("7a. 业绩报酬。仅就客户资金超过以下两者中较高者的部分收取 20.00%");
  });

  it("refuses a leverage above the client's verified limit", () => {
    const over = Number(schedule.maxLeverage / 10n ** 14n) + 1;
    expect(() => termsFromChain(schedule, request(client.address, platform.address, { leverageBps: over })))
      .to.throw("above the client's verified leverage limit")
      .with.property("code", "LEGAL_INVALID_TERMS");
    // And a terms object edited after generation is refused by validation.
    expect(() =>
      buildAgreement({
        ...terms,
        leverageBps: over,
        financedAmount: (terms.ownFunds * BigInt(over - 10_000)) / 10_000n,
      }),
    ).to.throw("leverageBps");
  });

  describe("POST /v1/agreements/generate", () => {
    let store: Store;
    let dir: string;
    let running: RunningApi;
    let operator: ApiClient;

    before(async () => {
      dir = mkdtempSync(path.join(tmpdir(), "mb-chain-terms-"));
      store = await openStore({ engine: "sqlite", path: path.join(dir, "api.sqlite") });
      const c = dev.record.contracts;
      const api = createApi({
        store,
        log: silentLogger,
        secretKey: TEST_SECRET_KEY,
        timestampWindowMs: 60_000,
        rateLimitPerMinute: 100_000,
        bodyLimitBytes: 64 * 1024,
        capabilities: [
          coreRoutes({ store, secretKey: TEST_SECRET_KEY, status: () => ({}) }),
          settlementRoutes({
            store,
            agreementDomain: agreementDomain(dev.record.chainId, c.AgreementRegistry),
            settlementDomain: settlementDomain(dev.record.chainId, c.SettlementHub),
            readSchedule: chainScheduleReader(gateway),
          }),
        ],
      });
      running = await listen(api, {
        host: "127.0.0.1",
        port: HTTP_PORT,
        store,
        secretKey: TEST_SECRET_KEY,
        timestampWindowMs: 60_000,
        log: silentLogger,
      });
      const key = await createApiKey(store, TEST_SECRET_KEY, { role: "operator", subject: "ops-1", label: "ops" });
      operator = new ApiClient(running.url, key);
    });
    after(async () => {
      await running?.close();
      await store?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("prepares the agreement from the chain, awaiting both signatures", async () => {
      const res = await operator.post<{
        status: string;
        termsHash: string;
        document: { terms: { schedule: { block: string } }; text: string };
      }>("/v1/agreements/generate", toWire(request(client.address, platform.address)));
      expect(res.status).to.equal(201);
      expect(res.body.status).to.equal("awaiting-signatures");
      expect(BigInt(res.body.document.terms.schedule.block)).to.be.greaterThanOrEqual(BigInt(schedule.block));
      expect(res.body.document.text).to.contain("4b. 分资产保证金表");
      expect(res.body.document.text).to.contain(`no earlier than ${NOTICE} seconds`);
    });

    it("answers 400 naming the field for a leverage above the limit, and stores nothing", async () => {
      const body = toWire(
        request(client.address, platform.address, { agreementId: "0x" + "d4".repeat(32), leverageBps: 40_000 }),
      );
      const res = await operator.post<{ error: { message: string; details: { field: string } } }>(
        "/v1/agreements/generate",
        body,
      );
      expect(res.status).to.equal(400);
      expect(res.body.error.details.field).to.equal("leverageBps");
      expect(await store.legal.getAgreement("0x" + "d4".repeat(32))).to.equal(undefined);
    });

    it("refuses terms with a schedule typed into POST /v1/agreements: a schedule comes from the chain only", async () => {
      const res = await operator.post<{ error: { message: string } }>("/v1/agreements", {
        terms: toWire({ ...terms, agreementId: "0x" + "e5".repeat(32) }),
      });
      expect(res.status).to.equal(400);
      expect(res.body.error.message).to.contain("POST /v1/agreements/generate");
    });

    it("carries generated terms over the wire unchanged (statements and settlements take them back)", () => {
      const back = fromWire<FinancingTerms>(JSON.parse(JSON.stringify(toWire(terms))));
      expect(buildAgreement(back).termsHash).to.equal(buildAgreement(terms).termsHash);
      expect(back.schedule!.assets[0].tier.floor).to.equal(terms.schedule!.assets[0].tier.floor);
      expect(typeof back.schedule!.maxLeverage).to.equal("bigint");
    });

    it("rejects a schedule typed by the caller (unknown field)", async () => {
      const body = { ...(toWire(request(client.address, platform.address)) as object), schedule: toWire(schedule) };
      const res = await operator.post("/v1/agreements/generate", body);
      expect(res.status).to.equal(400);
    });
  });
});
