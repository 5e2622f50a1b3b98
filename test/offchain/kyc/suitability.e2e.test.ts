import { expect } from "chai";
import { Wallet, hexlify, randomBytes, type JsonRpcSigner, type TypedDataDomain } from "ethers";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { keccak_256 } from "@noble/hashes/sha3";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { verifyTyped } from "micro-eth-signer/typed-data";
import { ApiClient, createApiKey } from "../../../offchain/api";
import { ACKNOWLEDGEMENT_TYPES, QUIZ } from "../../../offchain/kyc";
import { startService, type Service } from "../../../offchain/main";
import { DEV_KEYS, parseConfig, type Config } from "../../../offchain/shared/config";
import { silentLogger } from "../../../offchain/shared/logger";
import { KycRegistry__factory, type KycRegistry } from "../../../typechain-types";
import { DEV_PRIVATE_KEYS, startDevChain, type DevChain } from "../../helpers/devChain";
import { CNY, E2eStack } from "../../helpers/e2eStack";
import {
  acknowledge,
  acknowledgementDomainOf,
  acknowledgementFields,
  quizAnswers,
  signedAcknowledgement,
} from "../../helpers/kyc";
import { createTestDatabase, type TestPostgres } from "../../helpers/postgres";

const CHAIN_PORT = 8623;
const API_PORTS = { sqlite: 18143, postgres: 18144 } as const;

interface View {
  id: string;
  account: string;
  status: string;
  tier: number;
  score: number;
  maxLeverage: string;
  suitability: {
    quizVersion: number;
    score: number;
    total: number;
    correct: Record<string, boolean>;
    quizTier: number;
    riskTier: number;
    tier: number;
  } | null;
  acknowledgements?: {
    documentId: string;
    version: number;
    contentHash: string;
    language: string;
    acknowledgedAt: number;
    signature: string;
    signer: string;
  }[];
}
interface ErrorBody {
  error: { code: string; message: string };
}
interface Documents {
  documents: {
    id: string;
    version: number;
    hashAlgorithm: string;
    text: Record<string, string>;
    title: Record<string, string>;
    contentHash: Record<string, string>;
  }[];
  eip712: { domain: TypedDataDomain; primaryType: string; types: Record<string, { name: string; type: string }[]> };
}

/** A rich client's questionnaire (tier 5 on its own); only `objective` varies below. */
const RICH = {
  investmentExperienceYears: 12,
  annualIncomeCny: "2000000",
  netAssetsCny: "20000000",
  lossTolerancePct: 50,
  objective: "growth",
  understandsMarginCalls: true,
};

function application(fullName: string, suitability: unknown = quizAnswers(), questionnaire: object = RICH) {
  return {
    jurisdiction: 156,
    identity: {
      fullName,
      dateOfBirth: "1979-09-09",
      nationality: "CN",
      documentType: "passport",
      documentNumber: "E" + Math.floor(Math.random() * 1e8),
      homeAddress: "99 Nanjing Road, Shanghai",
    },
    questionnaire,
    suitability,
    creditScore: 780,
  };
}

/** keccak256 by @noble/hashes (not ethers): the documents' published hashes are of the exact UTF-8 bytes. */
function keccakUtf8(text: string): string {
  return "0x" + Buffer.from(keccak_256(Buffer.from(text, "utf8"))).toString("hex");
}

/**
 * Suitability and disclosures through the API, on SQLite and PostgreSQL, against a real hardhat node: the quiz caps
 * the tier the approval writes to KycRegistry (and the chain then caps the borrow), the approval waits for the
 * signed risk disclosure, and acknowledgements are checked, bound to their application and kept once.
 */
describe("KYC suitability quiz and signed disclosures (e2e)", function () {
  this.timeout(180_000);
  let dev: DevChain;
  let registry: KycRegistry;
  let stack: E2eStack;
  let dir: string;
  const lenderAt = 12;

  before(async function () {
    dev = await startDevChain(CHAIN_PORT);
    dir = mkdtempSync(path.join(tmpdir(), "mb-suitability-"));
    stack = new E2eStack(dev, dir);
    registry = KycRegistry__factory.connect(dev.record.contracts.KycRegistry, dev.chain.provider);
    // Cash to lend: a capital provider (verified directly, as the deployment's e2e helpers do) funds the pool.
    const lender = await dev.chain.provider.getSigner(lenderAt);
    await stack.verify(2, [lender, "suitability-lender"]);
    await stack.mint("mbCNY", lender, 1_000_000n * CNY, "suitability-lender");
    await stack.supplyPool(lender, 1_000_000n * CNY);
  });
  after(async function () {
    await dev?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const engine of ["sqlite", "postgres"] as const) {
    describe(`on ${engine}`, function () {
      let pg: TestPostgres | undefined;
      let service: Service;
      let officer: ApiClient;
      let riskOfficer: ApiClient;
      let engineDir: string;
      let config: Config;

      before(async function () {
        if (engine === "postgres") {
          pg = await createTestDatabase("mb_kyc_suitability");
          if ("skip" in pg) {
            console.log(`    skipped: ${pg.skip}`);
            return this.skip();
          }
        }
        engineDir = mkdtempSync(path.join(tmpdir(), `mb-suitability-${engine}-`));
        config = parseConfig({
          env: "test",
          dataDir: engineDir,
          log: { level: "silent" },
          store: pg && "url" in pg ? { engine: "postgres", url: pg.url, poolSize: 8 } : { engine: "sqlite" },
          chain: {
            rpcUrl: dev.chain.url,
            network: "localhost",
            deploymentsDir: dev.deploymentsDir,
            confirmations: 1,
            pollIntervalMs: 100,
            kycOfficerKey: DEV_PRIVATE_KEYS[1],
          },
          api: { host: "127.0.0.1", port: API_PORTS[engine], secretKey: DEV_KEYS.apiSecretKey },
          kyc: { dataKey: DEV_KEYS.kycDataKey, reviewAboveTier: 1, validityDays: 30 },
        });
        service = await startService(config, { deployment: dev.record, demoKeys: true, log: silentLogger });
        officer = new ApiClient(service.url, service.demoKeys.kyc_officer);
        riskOfficer = new ApiClient(service.url, service.demoKeys.risk_officer);
      });
      after(async function () {
        await service?.stop();
        if (pg && "drop" in pg) await pg.drop();
        if (engineDir) rmSync(engineDir, { recursive: true, force: true });
      });

      async function clientFor(account: string): Promise<ApiClient> {
        const key = await createApiKey(service.store, config.api.secretKey, {
          role: "client",
          subject: account,
          label: "suitability test",
        });
        return new ApiClient(service.url, key);
      }

      it("serves the quiz in both languages without its answers, and the documents with keccak256 of their UTF-8 text", async function () {
        const quiz = await new ApiClient(service.url).get<{ questions: Record<string, unknown>[] }>(
          "/v1/kyc/suitability",
        );
        expect(quiz.status).to.equal(200);
        expect(quiz.body.questions.map((q) => q.id)).to.deep.equal(QUIZ.map((q) => q.id));
        expect(JSON.stringify(quiz.body)).to.not.match(/"correct"/);
        for (const q of quiz.body.questions as { prompt: Record<string, string> }[]) {
          expect(q.prompt["zh-CN"]).to.match(/[\u4e00-\u9fff]/);
          expect(q.prompt.en).to.not.match(/[\u4e00-\u9fff]/);
        }
        const docs = await new ApiClient(service.url).get<Documents>("/v1/kyc/documents");
        expect(docs.body.documents.map((d) => d.id)).to.deep.equal(["risk-disclosure", "financing-summary"]);
        for (const d of docs.body.documents) {
          expect(d.hashAlgorithm).to.equal("keccak256-utf8");
          for (const lang of ["zh-CN", "en"]) expect(d.contentHash[lang]).to.equal(keccakUtf8(d.text[lang]));
        }
        expect(docs.body.documents[0].title["zh-CN"]).to.equal("风险揭示书");
        expect(docs.body.eip712.domain).to.deep.equal({
          name: "MarginBridge KYC",
          version: "1",
          chainId: dev.record.chainId,
          verifyingContract: dev.record.contracts.KycRegistry,
        });
      });

      it("refuses malformed quiz answers with 400 and stores nothing", async function () {
        const wallet = Wallet.createRandom();
        const client = await clientFor(wallet.address);
        const good = quizAnswers();
        const { "margin-call": _dropped, ...missing } = good.answers;
        const bad: [unknown, RegExp][] = [
          [undefined, /^body\.suitability: Required/],
          [{ ...good, answers: missing }, /^body\.suitability\.answers\.margin-call/],
          [{ ...good, answers: { ...good.answers, extra: "a" } }, /^body\.suitability\.answers: Unrecognized key/],
          [{ ...good, answers: { ...good.answers, interest: "d" } }, /^body\.suitability\.answers\.interest/],
          [{ ...good, quizVersion: 2 }, /must be the current quiz version 1/],
          [{ ...good, score: 7 }, /^body\.suitability: Unrecognized key/],
        ];
        for (const [suitability, message] of bad) {
          const { suitability: _given, ...body } = application("Bad Input");
          const r = await client.post<ErrorBody>(
            "/v1/kyc/applications",
            suitability === undefined ? body : { ...body, suitability },
          );
          expect(r.status, JSON.stringify(r.body)).to.equal(400);
          expect(r.body.error.message).to.match(message);
        }
        expect(await service.store.kyc.list({ account: wallet.address })).to.deep.equal([]);
      });

      it("a client who fails the tier-3 questions is approved at tier 2 at most, and the chain refuses a borrow above 2×", async function () {
        const signer: JsonRpcSigner = await dev.chain.provider.getSigner(engine === "sqlite" ? 13 : 14);
        const account = await signer.getAddress();
        const client = await clientFor(account);
        const r = await client.post<View>(
          "/v1/kyc/applications",
          application("Tan Yu", quizAnswers(["loss-beyond-deposit"])),
        );
        expect(r.status).to.equal(201);
        expect(r.body).to.include({ status: "pending_review", tier: 2, maxLeverage: "2" });
        expect(r.body.suitability).to.deep.include({ score: 6, total: 7, quizTier: 2, riskTier: 5, tier: 2 });
        expect(r.body.suitability!.correct).to.deep.include({ "loss-beyond-deposit": false, liquidation: true });

        // The approval waits for the risk disclosure: refused, and nothing changes.
        const historyBefore = await service.store.kyc.history(r.body.id);
        const early = await officer.post<ErrorBody>(`/v1/kyc/applications/${r.body.id}/approve`, { reason: "ok" });
        expect(early.status).to.equal(409);
        expect(early.body.error.message).to.match(/has not acknowledged the risk disclosure \(风险揭示书\) v1/);
        expect((await service.store.kyc.get(r.body.id))!.status).to.equal("pending_review");
        expect(await service.store.kyc.history(r.body.id)).to.deep.equal(historyBefore);
        expect((await registry.identityOf(account)).registered).to.equal(false);

        // Acknowledged in English; the officer's view shows it; tier 3 is refused, tier 2 is written on-chain.
        const ack = await acknowledge<View>(client, signer, r.body.id, "risk-disclosure", "en");
        expect([ack.status, ack.body.created, ack.body.application.status]).to.deep.equal([
          200,
          true,
          "pending_review",
        ]);
        const seen = await officer.get<View>(`/v1/kyc/applications/${r.body.id}`);
        expect(seen.body.acknowledgements).to.have.length(1);
        expect(seen.body.acknowledgements![0]).to.deep.include({
          documentId: "risk-disclosure",
          version: 1,
          language: "en",
          signer: account.toLowerCase(),
        });
        const tooHigh = await officer.post<ErrorBody>(`/v1/kyc/applications/${r.body.id}/approve`, {
          reason: "asks for more",
          tier: 3,
        });
        expect([tooHigh.status, tooHigh.body.error.message]).to.deep.equal([
          400,
          "body.tier: may not exceed the assessed tier 2",
        ]);
        const approved = await officer.post<View>(`/v1/kyc/applications/${r.body.id}/approve`, { reason: "checked" });
        expect(approved.body).to.include({ status: "approved", tier: 2 });
        expect((await registry.identityOf(account)).tier).to.equal(2n);
        expect(await registry.maxLeverageOf(account)).to.equal(2n * 10n ** 18n);

        // 10,000 of own cash: borrowing 15,000 would be 2.5×, refused on-chain; 9,990 (just under 2×) goes through.
        await stack.mint("mbCNY", signer, 10_000n * CNY, `suitability-${engine}`);
        await stack.deposit(signer, "mbCNY", 10_000n * CNY);
        const marginEngine = stack.engine(signer);
        await stack.bindAgreement(signer); // its agreement states the verified 2×; the engine holds it to both
        await expect(marginEngine.borrow(15_000n * CNY))
          .to.be.revertedWithCustomError(marginEngine, "MarginLeverageExceeded")
          .withArgs(account, 25_000n * CNY, anyValue, 2n * 10n ** 18n); // equity: 10,000 less a unit of rounded-up debt
        await stack.borrow(signer, 9_990n * CNY);
        const [debt] = await marginEngine.debtOf(account);
        expect(debt).to.be.gte(9_990n * CNY);
      });

      it("speculation as an objective earns no more tier than preservation, and less than growth", async function () {
        const tierOf = async (objective: string): Promise<number> => {
          const client = await clientFor(Wallet.createRandom().address);
          // 56 points without the objective: tier 3; growth's 7 points make it tier 4.
          const questionnaire = {
            ...RICH,
            investmentExperienceYears: 3,
            netAssetsCny: "600000",
            annualIncomeCny: "150000",
            objective,
          };
          const r = await client.post<View>(
            "/v1/kyc/applications",
            application("Objective", quizAnswers(), questionnaire),
          );
          expect(r.status).to.equal(201);
          expect(r.body.suitability!.quizTier).to.equal(5);
          return r.body.tier;
        };
        const [speculation, preservation, growth] = [
          await tierOf("speculation"),
          await tierOf("preservation"),
          await tierOf("growth"),
        ];
        expect(speculation).to.equal(preservation);
        expect(speculation).to.be.lessThan(growth);
      });

      it("refuses bad signatures, another document's hash, stale times and an acknowledgement replayed from another application", async function () {
        const wallet = Wallet.createRandom();
        const client = await clientFor(wallet.address);
        const domain = await acknowledgementDomainOf(client);
        const first = (await client.post<View>("/v1/kyc/applications", application("Replay Source"))).body;
        const kept = await signedAcknowledgement(domain, wallet, first.id, "risk-disclosure");
        expect((await client.post(`/v1/kyc/applications/${first.id}/acknowledgements`, kept)).status).to.equal(200);
        expect((await officer.post(`/v1/kyc/applications/${first.id}/reject`, { reason: "redo" })).status).to.equal(
          200,
        );
        const second = (await client.post<View>("/v1/kyc/applications", application("Replay Target"))).body;
        const post = (body: object) =>
          client.post<ErrorBody>(`/v1/kyc/applications/${second.id}/acknowledgements`, body);

        const { body: fields, message } = acknowledgementFields(second.id, wallet.address, "risk-disclosure");
        const other = Wallet.createRandom();
        const refusals: [object, RegExp][] = [
          // The first application's signature, replayed onto the second.
          [kept, /^body\.signature: not signed by the application's wallet/],
          // Signed by another wallet.
          [
            { ...fields, signature: await other.signTypedData(domain, ACKNOWLEDGEMENT_TYPES, message) },
            /^body\.signature: not signed/,
          ],
          // Not a signature at all (r, s of zero bytes).
          [{ ...fields, signature: "0x" + "00".repeat(65) }, /^body\.signature: not a valid signature/],
          // The hash of another document (the financing summary's) for the risk disclosure.
          [
            {
              ...(await signedAcknowledgement(domain, wallet, second.id, "financing-summary")),
              documentId: "risk-disclosure",
            },
            /^body\.contentHash: not the hash of risk-disclosure v1 \(zh-CN\)/,
          ],
          // A text the service never served.
          [
            {
              ...fields,
              contentHash: hexlify(randomBytes(32)),
              signature: await wallet.signTypedData(domain, ACKNOWLEDGEMENT_TYPES, message),
            },
            /^body\.contentHash: not the hash/,
          ],
          // Signed for another chain's registry.
          [
            {
              ...fields,
              signature: await wallet.signTypedData({ ...domain, chainId: 1 }, ACKNOWLEDGEMENT_TYPES, message),
            },
            /^body\.signature: not signed by the application's wallet/,
          ],
          // An hour old.
          [
            await (async () => {
              const stale = acknowledgementFields(
                second.id,
                wallet.address,
                "risk-disclosure",
                "zh-CN",
                fields.acknowledgedAt - 3600,
              );
              return {
                ...stale.body,
                signature: await wallet.signTypedData(domain, ACKNOWLEDGEMENT_TYPES, stale.message),
              };
            })(),
            /^body\.acknowledgedAt: must be within 600 s/,
          ],
          // An old version, and an unknown field.
          [{ ...fields, version: 0 }, /^body\.version/],
          [{ ...kept, applicationId: second.id }, /^body: Unrecognized key/],
        ];
        for (const [body, reason] of refusals) {
          const r = await post(body);
          expect(r.status, JSON.stringify(r.body)).to.equal(400);
          expect(r.body.error.message).to.match(reason);
        }
        expect(await service.store.kyc.acknowledgements(second.id)).to.deep.equal([]);
        // Another client cannot acknowledge for this application.
        const stranger = await clientFor(other.address);
        const theirs = await signedAcknowledgement(domain, other, second.id, "risk-disclosure");
        expect((await stranger.post(`/v1/kyc/applications/${second.id}/acknowledgements`, theirs)).status).to.equal(
          404,
        );
        // The second application's own acknowledgement is kept.
        const good = await post(await signedAcknowledgement(domain, wallet, second.id, "risk-disclosure"));
        expect(good.status).to.equal(200);
      });

      it("keeps one acknowledgement for five sent at once; the risk officer sees it, and a third-party EIP-712 verifier agrees", async function () {
        const wallet = Wallet.createRandom();
        const client = await clientFor(wallet.address);
        const domain = await acknowledgementDomainOf(client);
        const app = (await client.post<View>("/v1/kyc/applications", application("Same Time"))).body;
        const body = await signedAcknowledgement(domain, wallet, app.id, "risk-disclosure");
        const answers = await Promise.all(
          Array.from({ length: 5 }, () =>
            client.post<{ created: boolean }>(`/v1/kyc/applications/${app.id}/acknowledgements`, body),
          ),
        );
        expect(answers.map((a) => a.status)).to.deep.equal([200, 200, 200, 200, 200]);
        expect(answers.filter((a) => a.body.created)).to.have.length(1);
        const history = await service.store.kyc.history(app.id);
        expect(history.filter((h) => h.status === "acknowledged")).to.have.length(1);

        const seen = await riskOfficer.get<View>(`/v1/kyc/applications/${app.id}`);
        expect(seen.status).to.equal(200);
        const [ack] = seen.body.acknowledgements!;
        expect(ack).to.deep.include({ contentHash: body.contentHash, acknowledgedAt: body.acknowledgedAt });
        const typed = {
          types: ACKNOWLEDGEMENT_TYPES as never,
          primaryType: "DocumentAcknowledgement" as never,
          domain: { ...domain, chainId: Number(domain.chainId) } as never,
          message: {
            applicationId: app.id,
            account: wallet.address,
            documentId: ack.documentId,
            version: ack.version,
            contentHash: ack.contentHash,
            language: ack.language,
            acknowledgedAt: ack.acknowledgedAt,
          } as never,
        };
        expect(verifyTyped(ack.signature, typed, wallet.address)).to.equal(true);
        expect(verifyTyped(ack.signature, typed, Wallet.createRandom().address)).to.equal(false);
      });
    });
  }
});
