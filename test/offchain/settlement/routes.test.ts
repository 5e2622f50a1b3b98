import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Wallet, type Signer } from "ethers";
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
import { parseConfig } from "../../../offchain/shared/config";
import { silentLogger } from "../../../offchain/shared/logger";
import { openStore, type Store } from "../../../offchain/store";
import { hardhatDevWallets } from "../../../offchain/oracle";
import { enqueueTrade, settlementDomain } from "../../../offchain/settlement";
import { orderId, signOrder, type SignedOrderFields } from "../../../offchain/settlement/orders";
import {
  agreementDomain,
  agreementMessage,
  agreementTypedData,
  buildAgreement,
  validatePain001,
  verifyEvidenceBundle,
  ZERO_ACCRUAL,
} from "../../../offchain/settlement/legal";
import { settlementRoutes } from "../../../offchain/settlement/routes";
import { toWire } from "../../../offchain/settlement/wire";
import { AgreementRegistry__factory } from "../../../typechain-types";
import { startDevChain, type DevChain } from "../../helpers/devChain";
import { TEST_SECRET_KEY } from "../../helpers/api";
import { seedSummaryAcknowledged } from "../../helpers/kyc";
import { acknowledgementDomain } from "../../../offchain/kyc";
import { CNY, START, seedTerms } from "./legal/seed";

const NODE_PORT = 8713;
const HTTP_PORT = 18711;

describe("settlement API: agreements, statements, final settlement, pain.001, disputes", function () {
  this.timeout(120_000);
  let dev: DevChain;
  let gateway: ChainGateway;
  let store: Store;
  let dir: string;
  let running: RunningApi;
  const client = Wallet.createRandom();
  const platform = Wallet.createRandom();
  const keys: Record<string, NewApiKey> = {};
  const as = (who: string): ApiClient => new ApiClient(running.url, keys[who]);
  const terms = seedTerms(client.address, platform.address);
  const id = terms.agreementId;

  before(async () => {
    dev = await startDevChain(NODE_PORT);
    dir = mkdtempSync(path.join(tmpdir(), "mb-settle-api-"));
    store = await openStore({ engine: "sqlite", path: path.join(dir, "api.sqlite") });
    const config = parseConfig({ env: "test", chain: { rpcUrl: dev.chain.url, confirmations: 0 } });
    gateway = createChainGateway(config.chain, dev.record, silentLogger);
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
          chain: settlementChain(gateway, hardhatDevWallets([4])[0].privateKey, silentLogger),
          agreementDomain: agreementDomain(dev.record.chainId, c.AgreementRegistry),
          settlementDomain: settlementDomain(dev.record.chainId, c.SettlementHub),
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
    const mk = async (name: string, role: "client" | "operator" | "auditor", subject: string): Promise<void> => {
      keys[name] = await createApiKey(store, TEST_SECRET_KEY, { role, subject, label: name });
    };
    await mk("client", "client", client.address);
    await mk("outsider", "client", Wallet.createRandom().address);
    await mk("operator", "operator", "ops-1");
    await mk("auditor", "auditor", "audit-1");
  });

  after(async () => {
    await running?.close();
    await store?.close();
    gateway?.close();
    await dev?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("takes an agreement from terms to an on-chain anchor: client signs, operator signs for the platform and anchors", async () => {
    const prepared = await as("operator").post<{ status: string; termsHash: string }>("/v1/agreements", {
      terms: toWire(terms),
    });
    expect(prepared.status).to.equal(201);
    expect(prepared.body.status).to.equal("awaiting-signatures");
    expect(prepared.body.termsHash).to.equal(buildAgreement(terms).termsHash);
    expect((await as("client").post("/v1/agreements", { terms: toWire(terms) })).status).to.equal(403);

    const domain = agreementDomain(dev.record.chainId, dev.record.contracts.AgreementRegistry);
    const td = agreementTypedData(domain, agreementMessage(buildAgreement(terms)));
    const clientSig = await client.signTypedData(td.domain, td.types, td.message);
    const platformSig = await platform.signTypedData(td.domain, td.types, td.message);
    expect((await as("outsider").post(`/v1/agreements/${id}/signatures`, { signature: clientSig })).status).to.equal(
      403,
    );
    const early = await as("operator").post<{ error: { code: string } }>(`/v1/agreements/${id}/anchor`);
    expect([early.status, early.body.error.code]).to.deep.equal([400, "VALIDATION_FAILED"]); // not signed yet
    const bad = await as("client").post<{ error: { details: { legalCode: string } } }>(
      `/v1/agreements/${id}/signatures`,
      { signature: await Wallet.createRandom().signTypedData(td.domain, td.types, td.message) },
    );
    expect([bad.status, bad.body.error.details.legalCode]).to.deep.equal([400, "LEGAL_BAD_SIGNATURE"]);
    expect(
      (await as("client").post<{ status: string }>(`/v1/agreements/${id}/signatures`, { signature: clientSig })).body
        .status,
    ).to.equal("awaiting-signatures");
    const signed = await as("operator").post<{ status: string }>(`/v1/agreements/${id}/signatures`, {
      signature: platformSig,
    });
    expect(signed.body.status).to.equal("signed");

    // Not anchored before the client acknowledged the financing summary in an approved KYC file; nothing changes.
    const unacknowledged = await as("operator").post<{ error: { code: string; message: string } }>(
      `/v1/agreements/${id}/anchor`,
    );
    expect([unacknowledged.status, unacknowledged.body.error.code]).to.deep.equal([409, "CONFLICT"]);
    expect(unacknowledged.body.error.message).to.match(/financing agreement summary \(融资合同摘要\) v1/);
    expect((await store.legal.getAgreement(id))!.status).to.equal("signed");
    await seedSummaryAcknowledged(
      store,
      acknowledgementDomain(dev.record.chainId, dev.record.contracts.KycRegistry),
      client,
    );

    const anchored = await as("operator").post<{ status: string; anchor: { txHash: string } }>(
      `/v1/agreements/${id}/anchor`,
    );
    expect(anchored.status).to.equal(200);
    expect(anchored.body.status).to.equal("anchored");
    const registry = AgreementRegistry__factory.connect(dev.record.contracts.AgreementRegistry, dev.chain.provider);
    expect(await registry.isAnchored(id)).to.equal(true);
    expect(await registry.matchesTerms(id, buildAgreement(terms).termsHash)).to.equal(true);

    const read = await as("client").get<{ status: string; anchor: { txHash: string } }>(`/v1/agreements/${id}`);
    expect(read.body.anchor.txHash).to.equal(anchored.body.anchor.txHash);
    expect((await as("outsider").get(`/v1/agreements/${id}`)).status).to.equal(403);
    const mine = await as("client").get<{ agreements: unknown[] }>("/v1/agreements");
    expect(mine.body.agreements).to.have.length(1);
  });

  it("issues a daily statement once and serves it as JSON, CSV and HTML to its client only", async () => {
    const input = {
      terms,
      period: { from: "2027-01-01", to: "2027-01-01" },
      assetDecimals: { mbBANK: 0 },
      openingCash: 200_000n * CNY,
      openingPositions: [],
      trades: [{ tradeId: "T-1", at: START + 7200, asset: "mbBANK", side: "buy", quantity: 1000n, price: 150n * CNY }],
      dailyPrincipal: [{ date: "2027-01-01", principal: 100_000n * CNY }],
      openingAccruals: { interest: ZERO_ACCRUAL, fees: {} },
      closingPrices: { mbBANK: 155n * CNY },
      generatedAt: START + 86400,
    };
    const issued = await as("operator").post<{ hash: string }>("/v1/statements", { input: toWire(input) });
    expect(issued.status).to.equal(201);
    const again = await as("operator").post("/v1/statements", { input: toWire({ ...input, generatedAt: START + 1 }) });
    expect(again.status).to.equal(409); // a different statement for an issued day

    const url = `/v1/statements/${id}/2027-01-01`;
    const json = await as("client").get<{ hash: string; body: string }>(url);
    expect(json.body.hash).to.equal(issued.body.hash);
    expect(JSON.parse(json.body.body).period).to.deep.equal({ from: "2027-01-01", to: "2027-01-01" });
    const csv = await as("client").get<{ contentType: string; body: string }>(`${url}?format=csv`);
    expect(csv.body.contentType).to.equal("text/csv; charset=utf-8");
    expect(csv.body.body.split("\r\n")[0].startsWith("statement,")).to.equal(true);
    const html = await as("auditor").get<{ body: string }>(`${url}?format=html`);
    expect(html.body.body).to.match(/^<!doctype html>/i);
    expect((await as("outsider").get(url)).status).to.equal(404);
  });

  it("computes a final settlement and exports its cash legs as a valid pain.001, message ids single-use", async () => {
    const input = {
      terms,
      settledOn: "2028-01-01",
      closingCash: 220_000n * CNY,
      principal: 100_000n * CNY,
      interestDue: 8_000n * CNY,
      feesDue: [],
      insuranceFundAvailable: 0n,
    };
    const computed = await as("operator").post<{ hash: string; settlement: { payouts: Record<string, string> } }>(
      "/v1/settlements/compute",
      { input: toWire(input) },
    );
    expect(computed.status).to.equal(200);
    const payouts = computed.body.settlement.payouts;
    expect(BigInt(payouts.client) + BigInt(payouts.capitalProviders) + BigInt(payouts.platform)).to.equal(
      220_000n * CNY,
    );
    const payee = (name: string) => ({ name, account: { other: "6222020200000001" } });
    const body = {
      input: toWire(input),
      messageId: "MB-FS-API-1",
      createdAt: "2028-01-01T09:00:00+08:00",
      requestedExecutionDate: "2028-01-02",
      initiatingParty: { name: "MarginBridge Platform Ltd." },
      debtor: { name: "MarginBridge Custody Account" },
      debtorAccount: { other: "31009999999999" },
      debtorAgent: { clearingMemberId: "102100099996", clearingSystem: "CNAPS" },
      payees: { client: payee("Client A"), capitalProviders: payee("Pool"), platform: payee("Platform") },
    };
    // A time zone the ISO schema does not allow (beyond ±14:00) passes the request's format check; the schema
    // refuses the file, the answer says why, and nothing is stored (the same message id is still free).
    const refused = await as("operator").post<{ error: { details: { legalCode: string; issues: unknown[] } } }>(
      "/v1/settlements/pain001",
      { ...body, createdAt: "2028-01-01T09:00:00+15:00" },
    );
    expect(refused.status).to.equal(400);
    expect(refused.body.error.details.legalCode).to.equal("LEGAL_XML");
    expect(refused.body.error.details.issues).to.have.length.above(0);
    const exported = await as("operator").post<{ xml: string }>("/v1/settlements/pain001", body);
    expect(exported.status).to.equal(201);
    expect((await validatePain001(exported.body.xml)).issues).to.deep.equal([]);
    expect((await as("operator").post("/v1/settlements/pain001", body)).status).to.equal(409);
  });

  /** A trade of `buyer` against `seller` in the settlement queue, both orders signed (EIP-712 compact). */
  async function queueTrade(
    tradeId: string,
    buyer: Signer & { address: string },
    seller: Signer & { address: string },
  ): Promise<void> {
    const domain = settlementDomain(dev.record.chainId, dev.record.contracts.SettlementHub);
    const base = {
      instrument: dev.record.contracts.mbBANK,
      expiry: 1_900_000_000n,
      limitPrice: 10_000_000n,
      quantity: 5n,
    };
    const buy: SignedOrderFields = { ...base, account: buyer.address, side: 0, nonce: 1n };
    const sell: SignedOrderFields = { ...base, account: seller.address, side: 1, nonce: 1n };
    await enqueueTrade(store, {
      tradeId,
      instrument: base.instrument,
      buy,
      sell,
      buySig: await signOrder(buyer, domain, buy),
      sellSig: await signOrder(seller, domain, sell),
      buyOrderHash: orderId(buy),
      sellOrderHash: orderId(sell),
      quantity: 5n,
      price: 10_000_000n,
    });
  }

  it("runs a client's dispute to resolution and serves a bundle a third party can verify", async () => {
    const seller = Wallet.createRandom();
    await queueTrade("T-17-own", client, seller);
    await queueTrade("T-17-others", Wallet.createRandom(), Wallet.createRandom());
    // Another pair's trade under the client's own account: not a party, so not found (nothing about it leaks).
    const onOthers = await as("client").post<{ error: { code: string } }>("/v1/disputes", {
      subject: { kind: "trade", ref: "T-17-others", account: client.address },
      reason: "someone else's trade",
    });
    expect([onOthers.status, onOthers.body.error.code]).to.deep.equal([404, "NOT_FOUND"]);
    const unknown = await as("client").post("/v1/disputes", {
      subject: { kind: "trade", ref: "T-404", account: client.address },
      reason: "no such trade",
    });
    expect(unknown.status).to.equal(404);
    const opened = await as("client").post<{ id: string; status: string }>("/v1/disputes", {
      subject: { kind: "trade", ref: "T-17-own", account: client.address },
      reason: "I did not place this order",
    });
    expect(opened.status).to.equal(201);
    const forOther = await as("outsider").post("/v1/disputes", {
      subject: { kind: "trade", ref: "T-17-own", account: client.address },
      reason: "x",
    });
    expect(forOther.status).to.equal(403);
    const d = opened.body.id;
    expect((await as("client").post(`/v1/disputes/${d}/actions`, { action: "collect-evidence" })).status).to.equal(403);
    await as("operator").post(`/v1/disputes/${d}/actions`, { action: "collect-evidence" });
    await as("operator").post(`/v1/disputes/${d}/actions`, { action: "start-review" });
    const resolved = await as("operator").post<{ status: string; outcome: { adjustment: string } }>(
      `/v1/disputes/${d}/actions`,
      { action: "resolve", decision: "rejected", summary: "no such trade", adjustment: "0" },
    );
    expect(resolved.body.status).to.equal("resolved");
    type Item = { kind: string; id: string; redacted?: boolean; data: { account?: string } | null };
    const read = await as("client").get<{ dispute: { status: string }; evidence: { items: Item[] } }>(
      `/v1/disputes/${d}`,
    );
    expect(read.body.dispute.status).to.equal("resolved");
    // The client's own signed order in full; the seller's withheld, yet committed by the root.
    const orders = read.body.evidence.items.filter((i) => i.kind === "order");
    expect(orders.find((o) => !o.redacted)!.data!.account).to.equal(client.address);
    expect(orders.filter((o) => o.redacted)).to.have.length(1);
    expect(JSON.stringify(read.body).toLowerCase()).to.not.contain(seller.address.slice(2).toLowerCase());
    expect(verifyEvidenceBundle(read.body.evidence as never).valid).to.equal(true);
    const staff = await as("auditor").get<{ evidence: { items: Item[] } }>(`/v1/disputes/${d}`);
    expect(staff.body.evidence.items.filter((i) => i.kind === "order" && !i.redacted)).to.have.length(2);
    expect((await as("outsider").get(`/v1/disputes/${d}`)).status).to.equal(403);
  });
});
