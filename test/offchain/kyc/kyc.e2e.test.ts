import { expect } from "chai";
import { Wallet, ethers } from "ethers";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ApiClient, createApiKey, type NewApiKey } from "../../../offchain/api";
import { expireApprovals, loadSdnFile } from "../../../offchain/kyc";
import { kycRegistryWriter } from "../../../offchain/chain";
import { startService, type Service } from "../../../offchain/main";
import { DEV_KEYS, parseConfig, type Config } from "../../../offchain/shared/config";
import { createLogger } from "../../../offchain/shared/logger";
import { DEV_PRIVATE_KEYS, mine, startDevChain, type DevChain } from "../../helpers/devChain";
import { acknowledge, quizAnswers } from "../../helpers/kyc";

const CHAIN_PORT = 8613;
const API_PORT = 18120;

interface View {
  id: string;
  status: string;
  tier: number;
  maxLeverage: string;
  identityHash: string;
  reviewReasons: string[];
  screening: { entNum: string }[];
  expiresAt: number | null;
  txHash: string | null;
  identity?: { fullName: string };
}

const QUESTIONNAIRE = {
  investmentExperienceYears: 2,
  annualIncomeCny: "150000",
  netAssetsCny: "300000",
  lossTolerancePct: 20,
  objective: "growth",
  understandsMarginCalls: true,
};
const RICH = {
  ...QUESTIONNAIRE,
  investmentExperienceYears: 12,
  netAssetsCny: "20000000",
  annualIncomeCny: "2000000",
  lossTolerancePct: 50,
  objective: "speculation",
};

function application(fullName: string, questionnaire = QUESTIONNAIRE) {
  return {
    jurisdiction: 156,
    identity: {
      fullName,
      dateOfBirth: "1985-04-12",
      nationality: "CN",
      documentType: "passport",
      documentNumber: "E" + Math.floor(Math.random() * 1e8),
      homeAddress: "1 Century Avenue, Pudong, Shanghai",
    },
    questionnaire,
    suitability: quizAnswers(),
    creditScore: 700,
  };
}

describe("KYC end to end: API → store → KycRegistry on a real hardhat node → indexer", function () {
  let dev: DevChain;
  let service: Service;
  let config: Config;
  let dir: string;
  let officer: ApiClient;
  let auditor: ApiClient;
  const logLines: string[] = [];

  async function clientFor(account: string): Promise<ApiClient> {
    const key: NewApiKey = await createApiKey(service.store, config.api.secretKey, {
      role: "client",
      subject: account,
      label: "e2e client",
    });
    return new ApiClient(service.url, key);
  }

  /** A new client applies and acknowledges the risk disclosure (which approves a clean low tier at once). */
  async function applyAndAcknowledge(fullName: string, questionnaire = QUESTIONNAIRE) {
    const wallet = Wallet.createRandom();
    const client = await clientFor(wallet.address);
    const r = await client.post<View>("/v1/kyc/applications", application(fullName, questionnaire));
    expect(r.status).to.equal(201);
    expect(r.body.status).to.equal("pending_review");
    const ack = await acknowledge<View>(client, wallet, r.body.id);
    expect(ack.status, JSON.stringify(ack.body)).to.equal(200);
    return { account: wallet.address, client, r: { status: r.status, body: ack.body.application } };
  }

  before(async function () {
    dev = await startDevChain(CHAIN_PORT);
    dir = mkdtempSync(path.join(tmpdir(), "mb-kyc-"));
    config = parseConfig({
      env: "test",
      dataDir: dir,
      log: { level: "info" },
      chain: {
        rpcUrl: dev.chain.url,
        network: "localhost",
        deploymentsDir: dev.deploymentsDir,
        confirmations: 1,
        pollIntervalMs: 100,
        kycOfficerKey: DEV_PRIVATE_KEYS[1],
      },
      api: { host: "127.0.0.1", port: API_PORT, secretKey: DEV_KEYS.apiSecretKey },
      kyc: { dataKey: DEV_KEYS.kycDataKey, reviewAboveTier: 3, validityDays: 30 },
    });
    service = await startService(config, {
      demoKeys: true,
      log: createLogger({ level: "debug", sink: (l) => logLines.push(l) }),
    });
    officer = new ApiClient(service.url, service.demoKeys.kyc_officer);
    auditor = new ApiClient(service.url, service.demoKeys.auditor);
  });

  after(async function () {
    await service?.stop();
    await dev?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("approves a clean low-tier applicant automatically and writes the identity hash on-chain", async function () {
    const { account, client, r } = await applyAndAcknowledge("Li Wei");
    expect(r.body).to.include({ status: "approved", tier: 2, maxLeverage: "2" });
    expect(r.body.identity).to.equal(undefined);
    expect(await service.chain!.kycRegistry.isVerified(account)).to.equal(true);
    const onChain = await service.chain!.kycRegistry.identityOf(account);
    expect(onChain.identityHash).to.equal(r.body.identityHash);
    expect(onChain.tier).to.equal(2n);
    expect(onChain.jurisdiction).to.equal(156n);
    expect(Number(onChain.expiresAt)).to.equal(r.body.expiresAt);
    const history = await client.get<{ history: { status: string }[] }>(`/v1/kyc/applications/${r.body.id}/history`);
    // The risk disclosure's acknowledgement approves it; the approval is claimed (approving) before
    // KycRegistry.setIdentity is sent, then recorded.
    expect(history.body.history.map((h) => h.status)).to.deep.equal([
      "submitted",
      "pending_review",
      "acknowledged",
      "approving",
      "approved",
    ]);
    // The indexer follows the registry into the store.
    await mine(dev.chain, 2);
    for (let i = 0; i < 150 && !(await service.store.projections.identity(account)); i++)
      await new Promise((res) => setTimeout(res, 100));
    expect(await service.store.projections.identity(account)).to.include({
      tier: 2,
      identityHash: r.body.identityHash,
      revoked: false,
    });
  });

  it("queues a high tier for officer review, who approves it on-chain (and may lower the tier)", async function () {
    const { account, r } = await applyAndAcknowledge("Zhou Min", RICH as typeof QUESTIONNAIRE);
    expect(r.body).to.include({ status: "pending_review", tier: 5 });
    expect(r.body.reviewReasons).to.deep.equal(["tier 5 is above the auto-approval limit 3"]);
    expect(await service.chain!.kycRegistry.isVerified(account)).to.equal(false);
    const client = await clientFor(account);

    const queue = await officer.get<{ applications: View[] }>("/v1/kyc/applications?status=pending_review");
    expect(queue.body.applications.map((a) => a.id)).to.include(r.body.id);
    const seen = await officer.get<View>(`/v1/kyc/applications/${r.body.id}`);
    expect(seen.body.identity?.fullName).to.equal("Zhou Min");
    expect((await client.get<View>(`/v1/kyc/applications/${r.body.id}`)).body.identity).to.equal(undefined);

    const tooHigh = await officer.post(`/v1/kyc/applications/${r.body.id}/approve`, {
      reason: "documents checked",
      tier: 6,
    });
    expect(tooHigh.status).to.equal(400);
    const approved = await officer.post<View>(`/v1/kyc/applications/${r.body.id}/approve`, {
      reason: "documents checked",
      tier: 4,
    });
    expect(approved.status).to.equal(200);
    expect(approved.body).to.include({ status: "approved", tier: 4, maxLeverage: "4" });
    expect(await service.chain!.kycRegistry.maxLeverageOf(account)).to.equal(4n * 10n ** 18n);
    const again = await officer.post(`/v1/kyc/applications/${r.body.id}/approve`, { reason: "twice" });
    expect(again.status).to.equal(409);
  });

  it("sends a sanctions near match to review and lets the officer reject it; nothing reaches the chain", async function () {
    const account = Wallet.createRandom().address;
    const client = await clientFor(account);
    const r = await client.post<View>("/v1/kyc/applications", application("Ivan Petrov"));
    expect(r.body.status).to.equal("pending_review");
    expect(r.body.screening[0].entNum).to.equal("4410");
    expect(r.body.reviewReasons[0]).to.match(/^sanctions near match: SDN 4410/);
    const rejected = await officer.post<View>(`/v1/kyc/applications/${r.body.id}/reject`, {
      reason: "confirmed list match",
    });
    expect(rejected.body.status).to.equal("rejected");
    expect((await service.chain!.kycRegistry.identityOf(account)).registered).to.equal(false);
  });

  it("revokes an approval on-chain at once", async function () {
    const { account, r } = await applyAndAcknowledge("Chen Jie");
    expect(await service.chain!.kycRegistry.isVerified(account)).to.equal(true);
    const bad = await officer.post(`/v1/kyc/applications/${r.body.id}/revoke`, {
      caseRef: "x".repeat(32),
      reason: "too long",
    });
    expect(bad.status).to.equal(400);
    expect((bad.body as { error: { message: string } }).error.message).to.match(/^body\.caseRef:/);
    const revoked = await officer.post<View>(`/v1/kyc/applications/${r.body.id}/revoke`, {
      caseRef: "CASE-2026-001",
      reason: "fraud report",
    });
    expect(revoked.body.status).to.equal("revoked");
    expect(await service.chain!.kycRegistry.isVerified(account)).to.equal(false);
    const receipt = await dev.chain.provider.getTransactionReceipt(revoked.body.txHash!);
    const log = service.chain!.kycRegistry.interface.parseLog(receipt!.logs[0]);
    expect(log?.name).to.equal("IdentityRevoked");
    expect(log?.args.reason).to.equal(ethers.encodeBytes32String("CASE-2026-001"));
    const history = await auditor.get<{ history: { status: string; txHash: string | null }[] }>(
      `/v1/kyc/applications/${r.body.id}/history`,
    );
    expect(history.body.history.at(-1)).to.deep.include({ status: "revoked", txHash: revoked.body.txHash });
  });

  it("expires approvals when chain time passes their on-chain expiry", async function () {
    const { account, client, r } = await applyAndAcknowledge("Huang Lei");
    expect(r.body.status).to.equal("approved");
    await dev.chain.provider.send("evm_increaseTime", [31 * 86_400]);
    await mine(dev.chain, 1);
    expect(await service.chain!.kycRegistry.isVerified(account)).to.equal(false);
    const deps = {
      store: service.store,
      chain: kycRegistryWriter(service.chain!),
      sanctions: loadSdnFile(),
      settings: {
        dataKey: config.kyc.dataKey,
        fuzzyThreshold: 0.85,
        reviewAboveTier: 3,
        validityDays: 30,
        claimTtlMs: 60_000,
      },
      log: service.log,
    };
    const expired = await expireApprovals(deps);
    expect(expired).to.include(r.body.id);
    expect((await client.get<View>(`/v1/kyc/applications/${r.body.id}`)).body.status).to.equal("expired");
    expect(await expireApprovals(deps)).to.deep.equal([]);
  });

  it("refuses a second open application, other clients' applications and other roles", async function () {
    const account = Wallet.createRandom().address;
    const client = await clientFor(account);
    const first = await client.post<View>("/v1/kyc/applications", application("Xu Ming"));
    const second = await client.post("/v1/kyc/applications", application("Xu Ming"));
    expect(second.status).to.equal(409);
    const stranger = await clientFor(Wallet.createRandom().address);
    expect((await stranger.get(`/v1/kyc/applications/${first.body.id}`)).status).to.equal(404);
    expect((await officer.post("/v1/kyc/applications", application("Officer Self"))).status).to.equal(403);
    expect(
      (await client.post(`/v1/kyc/applications/${first.body.id}/revoke`, { caseRef: "c", reason: "r" })).status,
    ).to.equal(403);
  });

  it("never writes identity data to the logs or, unsealed, to the database", async function () {
    const names = ["Li Wei", "Zhou Min", "Ivan Petrov", "Chen Jie", "Huang Lei", "Century Avenue"];
    const logs = logLines.join("\n");
    expect(logs.length).to.be.greaterThan(0);
    for (const n of names) expect(logs).to.not.contain(n);
    const db = path.join(dir, "marginbridge.sqlite");
    const bytes = [db, db + "-wal"]
      .filter(existsSync)
      .map((f) => readFileSync(f).toString("latin1"))
      .join("");
    expect(bytes.length).to.be.greaterThan(0);
    for (const n of names) expect(bytes).to.not.contain(n);
  });

  it("audits every write and officer view in a chain that verifies", async function () {
    const entries = (await auditor.get<{ entries: { action: string }[] }>("/v1/audit?limit=1000")).body.entries.map(
      (e) => e.action,
    );
    expect(entries).to.include.members(["kyc.submit", "kyc.approve", "kyc.reject", "kyc.revoke", "kyc.view"]);
    expect((await auditor.get<{ ok: boolean }>("/v1/audit/verify")).body.ok).to.equal(true);
  });
});
