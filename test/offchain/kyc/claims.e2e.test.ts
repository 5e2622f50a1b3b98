import { expect } from "chai";
import { Wallet, encodeBytes32String, id as keccakId } from "ethers";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ApiClient, createApiKey } from "../../../offchain/api";
import { createChainGateway, kycRegistryWriter, type ChainGateway } from "../../../offchain/chain";
import { reconcileKyc, type KycDeps } from "../../../offchain/kyc";
import { startService, type Service } from "../../../offchain/main";
import { DEV_KEYS, parseConfig, type Config } from "../../../offchain/shared/config";
import { silentLogger } from "../../../offchain/shared/logger";
import { KycRegistry__factory, type KycRegistry } from "../../../typechain-types";
import { CutProxy } from "../../helpers/cutProxy";
import { DEV_PRIVATE_KEYS, mine, startDevChain, type DevChain } from "../../helpers/devChain";
import { acknowledge, quizAnswers } from "../../helpers/kyc";
import { createTestDatabase, type TestPostgres } from "../../helpers/postgres";

const CHAIN_PORT = 8617;
const PROXY_PORT = 8618;
const API_PORTS = { sqlite: 18131, postgres: 18132 } as const;

interface View {
  id: string;
  status: string;
  identityHash: string;
  txHash: string | null;
}
interface ErrorBody {
  error: { code: string; message: string; details: Record<string, unknown> };
}

const RICH = {
  investmentExperienceYears: 12,
  annualIncomeCny: "2000000",
  netAssetsCny: "20000000",
  lossTolerancePct: 50,
  objective: "speculation",
  understandsMarginCalls: true,
};

function application(fullName: string) {
  return {
    jurisdiction: 156,
    identity: {
      fullName,
      dateOfBirth: "1980-02-03",
      nationality: "CN",
      documentType: "passport",
      documentNumber: "E" + Math.floor(Math.random() * 1e8),
      homeAddress: "8 Century Avenue, Shanghai",
    },
    questionnaire: RICH,
    suitability: quizAnswers(),
    creditScore: 800,
  };
}

/**
 * Claim before send, on SQLite and PostgreSQL, against a real hardhat node behind a JSON-RPC proxy that can hold
 * or lose transactions: racing approvals, rejections and revocations never leave KycRegistry and the KYC records
 * disagreeing; a write whose claim was lost is compensated on-chain; the reconciliation job finishes writes whose
 * outcome was unknown and reports identities nobody approved, which an officer revokes.
 */
describe("KYC: chain writes are claimed before they are sent", function () {
  this.timeout(180_000);
  let dev: DevChain;
  let proxy: CutProxy;
  let registry: KycRegistry;

  before(async function () {
    dev = await startDevChain(CHAIN_PORT);
    proxy = new CutProxy(PROXY_PORT, dev.chain.url);
    await proxy.up();
    registry = KycRegistry__factory.connect(dev.record.contracts.KycRegistry, dev.chain.provider);
  });
  after(async function () {
    await proxy?.down();
    await dev?.stop();
  });

  for (const engine of ["sqlite", "postgres"] as const) {
    describe(`on ${engine}`, function () {
      let pg: TestPostgres | undefined;
      let dir: string;
      let config: Config;
      let service: Service;
      let direct: ChainGateway;
      let officer: ApiClient;
      let deps: KycDeps;

      before(async function () {
        if (engine === "postgres") {
          pg = await createTestDatabase("mb_kyc_claims");
          if ("skip" in pg) {
            console.log(`    skipped: ${pg.skip}`);
            return this.skip();
          }
        }
        dir = mkdtempSync(path.join(tmpdir(), "mb-kyc-claims-"));
        config = parseConfig({
          env: "test",
          dataDir: dir,
          log: { level: "silent" },
          store: pg && "url" in pg ? { engine: "postgres", url: pg.url, poolSize: 8 } : { engine: "sqlite" },
          chain: {
            rpcUrl: proxy.url,
            network: "localhost",
            deploymentsDir: dev.deploymentsDir,
            confirmations: 1,
            pollIntervalMs: 100,
            kycOfficerKey: DEV_PRIVATE_KEYS[1],
            rpcRetries: 1,
            rpcRetryBaseMs: 50,
          },
          api: { host: "127.0.0.1", port: API_PORTS[engine], secretKey: DEV_KEYS.apiSecretKey },
          kyc: {
            dataKey: DEV_KEYS.kycDataKey,
            reviewAboveTier: 3,
            validityDays: 30,
            claimTtlMs: 1000,
            reconcileIntervalMs: 3_600_000,
          },
        });
        service = await startService(config, { deployment: dev.record, demoKeys: true, log: silentLogger });
        officer = new ApiClient(service.url, service.demoKeys.kyc_officer);
        // The reconciliation job as a second instance would run it: its own connection to the node.
        direct = createChainGateway({ ...config.chain, rpcUrl: dev.chain.url }, dev.record, silentLogger);
        deps = {
          store: service.store,
          chain: kycRegistryWriter(direct),
          sanctions: [],
          settings: { ...config.kyc, claimTtlMs: 1000 },
          log: silentLogger,
        };
      });
      after(async function () {
        proxy.resume();
        await service?.stop();
        direct?.close();
        if (pg && "drop" in pg) await pg.drop();
        if (dir) rmSync(dir, { recursive: true, force: true });
      });

      /** A new client with a tier-5 application, its risk disclosure acknowledged, waiting for review. */
      async function pending(name: string): Promise<{ account: string; app: View }> {
        const wallet = Wallet.createRandom();
        const account = wallet.address;
        const key = await createApiKey(service.store, config.api.secretKey, {
          role: "client",
          subject: account,
          label: "claims test",
        });
        const api = new ApiClient(service.url, key);
        const r = await api.post<View>("/v1/kyc/applications", application(name));
        expect(r.body.status).to.equal("pending_review");
        const ack = await acknowledge<View>(api, wallet, r.body.id);
        expect([ack.status, ack.body.application.status]).to.deep.equal([200, "pending_review"]);
        return { account, app: r.body };
      }

      async function identitySets(account: string): Promise<number> {
        return (await registry.queryFilter(registry.filters.IdentitySet(account), dev.record.deployBlock)).length;
      }

      async function status(id: string): Promise<string> {
        return (await service.store.kyc.get(id))!.status;
      }

      it("sends one IdentitySet for three approvals of one application fired at once; the others are refused before sending", async function () {
        const { account, app } = await pending("Zhou Xin");
        const answers = await Promise.all(
          [1, 2, 3].map((n) =>
            officer.post<View | ErrorBody>(`/v1/kyc/applications/${app.id}/approve`, { reason: `officer ${n}` }),
          ),
        );
        expect(answers.map((a) => a.status).sort()).to.deep.equal([200, 409, 409]);
        expect(await identitySets(account)).to.equal(1);
        expect(await status(app.id)).to.equal("approved");
        expect(await registry.isVerified(account)).to.equal(true);
      });

      it("keeps KycRegistry and the records agreeing when an approval and a rejection race (6 rounds)", async function () {
        for (let round = 0; round < 6; round++) {
          const { account, app } = await pending(`Race ${round}`);
          const approve = officer.post(`/v1/kyc/applications/${app.id}/approve`, { reason: "ok" });
          const reject = officer.post(`/v1/kyc/applications/${app.id}/reject`, { reason: "no" });
          const [a, r] =
            round % 2
              ? await Promise.all([reject, approve]).then(([x, y]) => [y, x])
              : await Promise.all([approve, reject]);
          expect([a.status, r.status].sort()).to.deep.equal([200, 409]);
          const stored = await status(app.id);
          const onChain = await registry.isVerified(account);
          expect({ stored, onChain }).to.deep.equal(
            stored === "approved" ? { stored: "approved", onChain: true } : { stored: "rejected", onChain: false },
          );
          expect(await identitySets(account)).to.equal(stored === "approved" ? 1 : 0);
        }
      });

      it("undoes on-chain an approval that landed after its claim was lost and the application was rejected", async function () {
        const { account, app } = await pending("Lost Claim");
        proxy.pause((body) => body.includes("eth_sendRawTransaction"));
        const approving = officer.post<ErrorBody>(`/v1/kyc/applications/${app.id}/approve`, { reason: "slow" });
        for (let i = 0; i < 200 && proxy.heldCount === 0; i++) await new Promise((r) => setTimeout(r, 25));
        expect(proxy.heldCount).to.equal(1);
        expect(await status(app.id)).to.equal("approving");
        // A rejection while the approval is out is refused: the application is claimed.
        expect((await officer.post(`/v1/kyc/applications/${app.id}/reject`, { reason: "early" })).status).to.equal(409);
        await new Promise((r) => setTimeout(r, 1100)); // the claim's time passes
        const report = await reconcileKyc(deps);
        expect(report.claimsResolved).to.equal(1);
        expect(await status(app.id)).to.equal("pending_review"); // the chain did not show the approval
        expect((await officer.post(`/v1/kyc/applications/${app.id}/reject`, { reason: "rejected" })).status).to.equal(
          200,
        );
        proxy.resume(); // the held approval now lands on-chain
        const answer = await approving;
        expect(answer.status).to.equal(409);
        expect(answer.body.error.details.compensationTx).to.match(/^0x[0-9a-f]{64}$/);
        expect(await identitySets(account)).to.equal(1);
        expect(await registry.isVerified(account)).to.equal(false);
        expect(await status(app.id)).to.equal("rejected");
        const history = await service.store.kyc.history(app.id);
        expect(history.map((h) => h.status)).to.include.members(["approving", "pending_review", "compensated"]);
      });

      it("records an approval whose answer was lost once the reconciliation job finds it on-chain", async function () {
        const { account, app } = await pending("Lost Answer");
        proxy.mode = "lose-sends";
        proxy.afterSend = "down";
        const answer = await officer.post<ErrorBody>(`/v1/kyc/applications/${app.id}/approve`, { reason: "ok" });
        proxy.mode = "up";
        proxy.afterSend = "up";
        await proxy.up();
        expect(answer.status).to.equal(503);
        expect(await registry.isVerified(account)).to.equal(true); // mined, answer lost
        expect(await status(app.id)).to.equal("approving"); // not a rejected-looking pending_review
        // A revocation or a second approval meanwhile is refused.
        expect((await officer.post(`/v1/kyc/applications/${app.id}/approve`, { reason: "again" })).status).to.equal(
          409,
        );
        await new Promise((r) => setTimeout(r, 1100));
        await reconcileKyc(deps);
        expect(await status(app.id)).to.equal("approved");
        expect(await identitySets(account)).to.equal(1);
        const last = (await service.store.kyc.history(app.id)).at(-1)!;
        expect(last).to.include({ status: "approved", reason: "approval found on-chain by reconciliation" });
      });

      it("revokes on-chain an identity whose application was rejected (a write that outlived its process)", async function () {
        const { account, app } = await pending("Dead Process");
        expect((await officer.post(`/v1/kyc/applications/${app.id}/reject`, { reason: "no" })).status).to.equal(200);
        // What a process killed after broadcasting its approval leaves behind: the identity, and no claim.
        const asOfficer = registry.connect(dev.signers[1]);
        const now = (await dev.chain.provider.getBlock("latest"))!.timestamp;
        await (await asOfficer.setIdentity(account, 5, 156, now + 86_400, app.identityHash)).wait();
        await mine(dev.chain, 2);
        for (let i = 0; i < 100 && !(await service.store.projections.identity(account)); i++)
          await new Promise((r) => setTimeout(r, 100));
        const report = await reconcileKyc(deps);
        expect(report.compensated).to.equal(1);
        expect(await registry.isVerified(account)).to.equal(false);
        expect((await service.store.kyc.history(app.id)).at(-1)!.status).to.equal("compensated");
      });

      it("reports an identity nobody approved, which an officer revokes; an approved one is revoked through its application", async function () {
        const stranger = Wallet.createRandom().address;
        const asOfficer = registry.connect(dev.signers[1]);
        const now = (await dev.chain.provider.getBlock("latest"))!.timestamp;
        await (await asOfficer.setIdentity(stranger, 3, 156, now + 86_400, keccakId(`outside:${stranger}`))).wait();
        await mine(dev.chain, 2);
        for (let i = 0; i < 100 && !(await service.store.projections.identity(stranger)); i++)
          await new Promise((r) => setTimeout(r, 100));
        await reconcileKyc(deps);
        const found = await officer.get<{ discrepancies: { account: string; kind: string }[] }>(
          "/v1/kyc/discrepancies",
        );
        const entry = found.body.discrepancies.find((d) => d.account === stranger.toLowerCase());
        expect(entry?.kind).to.equal("unbacked-identity");
        // Two officers at once: one revocation is sent, the other is refused.
        const body = { caseRef: "CASE-17", reason: "no KYC record" };
        const answers = await Promise.all([
          officer.post<{ txHash: string }>(`/v1/kyc/identities/${stranger}/revoke`, body),
          officer.post<{ txHash: string }>(`/v1/kyc/identities/${stranger}/revoke`, body),
        ]);
        expect(answers.map((a) => a.status).sort()).to.deep.equal([200, 409]);
        expect(await registry.isVerified(stranger)).to.equal(false);
        const revokes = await registry.queryFilter(registry.filters.IdentityRevoked(stranger), dev.record.deployBlock);
        expect(revokes.map((e) => e.args.reason)).to.deep.equal([encodeBytes32String("CASE-17")]);
        const after = await officer.get<{ discrepancies: { account: string }[] }>("/v1/kyc/discrepancies");
        expect(after.body.discrepancies.map((d) => d.account)).to.not.include(stranger.toLowerCase());

        const { account, app } = await pending("Backed");
        expect((await officer.post(`/v1/kyc/applications/${app.id}/approve`, { reason: "ok" })).status).to.equal(200);
        const refused = await officer.post<ErrorBody>(`/v1/kyc/identities/${account}/revoke`, body);
        expect([refused.status, refused.body.error.details.applicationId]).to.deep.equal([409, app.id]);
        expect(await registry.isVerified(account)).to.equal(true);
        const client = new ApiClient(service.url, service.demoKeys.client);
        expect((await client.post(`/v1/kyc/identities/${account}/revoke`, body)).status).to.equal(403);
      });
    });
  }
});
