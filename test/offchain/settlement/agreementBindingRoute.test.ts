import { expect } from "chai";
import { Wallet, hexlify, parseEther, randomBytes } from "ethers";
import { mkdtempSync, rmSync } from "node:fs";
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
import { hardhatDevWallets } from "../../../offchain/oracle";
import { settlementDomain } from "../../../offchain/settlement";
import { bindingReader } from "../../../offchain/settlement/readBinding";
import {
  agreementDomain,
  agreementMessage,
  agreementTypedData,
  buildAgreement,
} from "../../../offchain/settlement/legal";
import { settlementRoutes } from "../../../offchain/settlement/routes";
import { toWire } from "../../../offchain/settlement/wire";
import { acknowledgementDomain } from "../../../offchain/kyc";
import { parseConfig } from "../../../offchain/shared/config";
import { silentLogger } from "../../../offchain/shared/logger";
import { openStore, type Store } from "../../../offchain/store";
import { AgreementBinding__factory } from "../../../typechain-types";
import { TEST_SECRET_KEY } from "../../helpers/api";
import { startDevChain, type DevChain } from "../../helpers/devChain";
import { seedSummaryAcknowledged } from "../../helpers/kyc";
import { createTestDatabase, type TestPostgres } from "../../helpers/postgres";
import { seedTerms } from "./legal/seed";

const NODE_PORT = 8797;
const HTTP_PORTS = { sqlite: 18797, postgres: 18798 } as const;
const OPERATOR = hardhatDevWallets([4])[0];
const WAD = 10n ** 18n;

interface BindingAnswer {
  proposed: boolean;
  txHash: string | null;
  binding: { state: string; maxLeverage: string | null; maxPenalty: string | null; contract: string };
}
interface ErrorBody {
  error: { code: string; message: string };
}

/**
 * POST /v1/agreements/:id/binding (AgreementBinding.propose from the signed terms, operator only, claimed before it
 * is sent) and the binding state in GET /v1/agreements/:id, on SQLite and PostgreSQL against a real hardhat node.
 */
describe("agreement binding route", function () {
  this.timeout(180_000);
  let dev: DevChain;

  before(async function () {
    dev = await startDevChain(NODE_PORT);
  });
  after(async function () {
    await dev?.stop();
  });

  for (const engine of ["sqlite", "postgres"] as const) {
    describe(`on ${engine}`, function () {
      let pg: TestPostgres | undefined;
      let dir: string;
      let store: Store;
      let gateway: ChainGateway;
      let running: RunningApi;
      const keys: Record<string, NewApiKey> = {};
      const key = Wallet.createRandom();
      let client: Wallet;
      const platform = Wallet.createRandom();
      const domain = () => agreementDomain(dev.record.chainId, dev.record.contracts.AgreementRegistry);
      const as = (who: string): ApiClient => new ApiClient(running.url, keys[who]);

      before(async function () {
        client = new Wallet(key.privateKey, dev.chain.provider);
        if (engine === "postgres") {
          pg = await createTestDatabase("mb_binding_route");
          if ("skip" in pg) {
            console.log(`    skipped: ${pg.skip}`);
            return this.skip();
          }
        }
        dir = mkdtempSync(path.join(tmpdir(), "mb-binding-route-"));
        store =
          pg && "url" in pg
            ? await openStore({ engine: "postgres", url: pg.url, poolSize: 8 })
            : await openStore({ engine: "sqlite", path: path.join(dir, "api.sqlite") });
        const config = parseConfig({ env: "test", chain: { rpcUrl: dev.chain.url, confirmations: 0 } });
        gateway = createChainGateway(config.chain, dev.record, silentLogger);
        const api = createApi({
          store,
          log: silentLogger,
          secretKey: TEST_SECRET_KEY,
          timestampWindowMs: 60_000,
          rateLimitPerMinute: 100_000,
          bodyLimitBytes: 64 * 1024,
          capabilities: [
            coreRoutes({ store, secretKey: TEST_SECRET_KEY }),
            settlementRoutes({
              store,
              chain: settlementChain(gateway, OPERATOR.privateKey, silentLogger),
              agreementDomain: domain(),
              settlementDomain: settlementDomain(dev.record.chainId, dev.record.contracts.SettlementHub),
              anchorClaimTtlMs: 60_000,
              readBinding: bindingReader(gateway),
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
        keys.client = await createApiKey(store, TEST_SECRET_KEY, {
          role: "client",
          subject: client.address,
          label: "c",
        });
        keys.operator = await createApiKey(store, TEST_SECRET_KEY, { role: "operator", subject: "ops", label: "o" });
        keys.risk = await createApiKey(store, TEST_SECRET_KEY, { role: "risk_officer", subject: "risk", label: "r" });
        const kycDomain = acknowledgementDomain(dev.record.chainId, dev.record.contracts.KycRegistry);
        await seedSummaryAcknowledged(store, kycDomain, client);
        // The client accepts from its own wallet: it needs gas.
        await (await dev.signers[0].sendTransaction({ to: client.address, value: parseEther("1") })).wait();
      });
      after(async function () {
        await running?.close();
        await store?.close();
        gateway?.close();
        if (pg && "drop" in pg) await pg.drop();
        if (dir) rmSync(dir, { recursive: true, force: true });
      });

      /** A new agreement signed by both parties, in force from the chain's now (3×, 5 % penalty). */
      async function signedAgreement(): Promise<string> {
        const now = (await dev.chain.provider.getBlock("latest"))!.timestamp;
        const terms = seedTerms(client.address, platform.address, {
          agreementId: hexlify(randomBytes(32)),
          effectiveAt: now,
          expiresAt: now + 365 * 86_400,
          leverageBps: 30_000,
          financedAmount: 200_000n * 1_000_000n,
          margin: {
            initialMarginBps: 2_000,
            maintenanceMarginBps: 1_500,
            liquidationMarginBps: 1_000,
            marginCallWindowSeconds: 86_400,
          },
        });
        expect((await as("operator").post("/v1/agreements", { terms: toWire(terms) })).status).to.equal(201);
        const td = agreementTypedData(domain(), agreementMessage(buildAgreement(terms)));
        const id = terms.agreementId;
        await as("client").post(`/v1/agreements/${id}/signatures`, {
          signature: await client.signTypedData(td.domain, td.types, td.message),
        });
        const p = await as("operator").post<{ status: string }>(`/v1/agreements/${id}/signatures`, {
          signature: await platform.signTypedData(td.domain, td.types, td.message),
        });
        expect(p.body.status).to.equal("signed");
        return id;
      }
      async function anchoredAgreement(): Promise<string> {
        const id = await signedAgreement();
        const a = await as("operator").post<{ status: string }>(`/v1/agreements/${id}/anchor`);
        expect([a.status, a.body.status]).to.deep.equal([200, "anchored"]);
        return id;
      }
      const sentByOperator = () => dev.chain.provider.getTransactionCount(OPERATOR.address);
      const binding = () => AgreementBinding__factory.connect(dev.record.contracts.AgreementBinding, client);

      it("answers 404 for an unknown agreement and 409 for one not anchored, sending nothing", async function () {
        const before = await sentByOperator();
        const unknown = await as("operator").post<ErrorBody>(`/v1/agreements/${hexlify(randomBytes(32))}/binding`);
        expect([unknown.status, unknown.body.error.code]).to.deep.equal([404, "NOT_FOUND"]);
        const id = await signedAgreement();
        const early = await as("operator").post<ErrorBody>(`/v1/agreements/${id}/binding`);
        expect([early.status, early.body.error.message]).to.deep.equal([
          409,
          "the agreement is signed; only an anchored agreement is bound",
        ]);
        expect((await as("operator").get<{ binding: unknown }>(`/v1/agreements/${id}`)).body.binding).to.equal(null);
        expect(await sentByOperator()).to.equal(before);
      });

      it("is the operator's: the client and the risk officer are refused (403)", async function () {
        const id = await anchoredAgreement();
        for (const who of ["client", "risk"])
          expect((await as(who).post(`/v1/agreements/${id}/binding`)).status).to.equal(403);
        expect((await binding().proposalOf(id))[0]).to.equal(0n);
      });

      it("proposes the terms' leverage and penalty once; the client accepts them and the agreement reads bound", async function () {
        const id = await anchoredAgreement();
        const none = await as("client").get<{ binding: BindingAnswer["binding"] }>(`/v1/agreements/${id}`);
        expect(none.body.binding.state).to.equal("none");
        const before = await sentByOperator();
        const first = await as("operator").post<BindingAnswer>(`/v1/agreements/${id}/binding`);
        expect(first.status).to.equal(200);
        expect(first.body).to.deep.include({ proposed: true });
        expect(first.body.binding).to.deep.equal({
          state: "proposed",
          maxLeverage: (3n * WAD).toString(),
          maxPenalty: (WAD / 20n).toString(),
          contract: dev.record.contracts.AgreementBinding,
        });
        expect(await binding().proposalOf(id)).to.deep.equal([3n * WAD, WAD / 20n]);
        const again = await as("operator").post<BindingAnswer>(`/v1/agreements/${id}/binding`);
        expect([again.status, again.body.proposed, again.body.txHash]).to.deep.equal([200, false, null]);
        expect((await sentByOperator()) - before).to.equal(1);

        await (await binding().accept(id, 3n * WAD, WAD / 20n)).wait();
        const bound = await as("client").get<{ binding: BindingAnswer["binding"] }>(`/v1/agreements/${id}`);
        expect(bound.body.binding).to.deep.include({ state: "bound", maxLeverage: (3n * WAD).toString() });
        const after = await as("operator").post<BindingAnswer>(`/v1/agreements/${id}/binding`);
        expect([after.body.proposed, after.body.binding.state]).to.deep.equal([false, "bound"]);
        expect((await sentByOperator()) - before).to.equal(1);
      });

      it("sends one proposal for three requests fired at once (the others: 409 or the proposal already made)", async function () {
        const id = await anchoredAgreement();
        const before = await sentByOperator();
        const answers = await Promise.all(
          [1, 2, 3].map(() => as("operator").post<BindingAnswer>(`/v1/agreements/${id}/binding`)),
        );
        const sent = answers.filter((a) => a.status === 200 && a.body.proposed);
        expect(sent).to.have.length(1);
        expect(answers.every((a) => a.status === 409 || (a.status === 200 && a.body.binding.state === "proposed"))).to
          .be.true;
        expect((await sentByOperator()) - before).to.equal(1);
      });
    });
  }
});
