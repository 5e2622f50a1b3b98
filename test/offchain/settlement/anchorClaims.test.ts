import { expect } from "chai";
import { Wallet, hexlify, randomBytes } from "ethers";
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
import { reconcileAnchors } from "../../../offchain/settlement/anchorAgreement";
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
import { AgreementRegistry__factory } from "../../../typechain-types";
import { TEST_SECRET_KEY } from "../../helpers/api";
import { CutProxy } from "../../helpers/cutProxy";
import { startDevChain, type DevChain } from "../../helpers/devChain";
import { seedSummaryAcknowledged } from "../../helpers/kyc";
import { createTestDatabase, type TestPostgres } from "../../helpers/postgres";
import { seedTerms } from "./legal/seed";

const NODE_PORT = 8721;
const PROXY_PORT = 8722;
const HTTP_PORTS = { sqlite: 18721, postgres: 18722 } as const;
const OPERATOR = hardhatDevWallets([4])[0];

interface ErrorBody {
  error: { code: string; details: Record<string, unknown> };
}

/**
 * AgreementRegistry.anchor from the API, claimed before it is sent, on SQLite and PostgreSQL against a real
 * hardhat node behind a proxy that can hold or lose transactions.
 */
describe("agreement anchoring is claimed before it is sent", function () {
  this.timeout(180_000);
  let dev: DevChain;
  let proxy: CutProxy;

  before(async function () {
    dev = await startDevChain(NODE_PORT);
    proxy = new CutProxy(PROXY_PORT, dev.chain.url);
    await proxy.up();
  });
  after(async function () {
    await proxy?.down();
    await dev?.stop();
  });

  for (const engine of ["sqlite", "postgres"] as const) {
    describe(`on ${engine}`, function () {
      let pg: TestPostgres | undefined;
      let dir: string;
      let store: Store;
      let viaProxy: ChainGateway;
      let direct: ChainGateway;
      let running: RunningApi;
      /** The claim the anchor route takes (short, so that the recovery cases can let it expire). */
      let routeClaimTtlMs = 1000;
      const keys: Record<string, NewApiKey> = {};
      const client = Wallet.createRandom();
      const platform = Wallet.createRandom();
      const domain = () => agreementDomain(dev.record.chainId, dev.record.contracts.AgreementRegistry);
      const as = (who: string): ApiClient => new ApiClient(running.url, keys[who]);

      before(async function () {
        if (engine === "postgres") {
          pg = await createTestDatabase("mb_anchor_claims");
          if ("skip" in pg) {
            console.log(`    skipped: ${pg.skip}`);
            return this.skip();
          }
        }
        dir = mkdtempSync(path.join(tmpdir(), "mb-anchor-claims-"));
        store =
          pg && "url" in pg
            ? await openStore({ engine: "postgres", url: pg.url, poolSize: 8 })
            : await openStore({ engine: "sqlite", path: path.join(dir, "api.sqlite") });
        const config = parseConfig({
          env: "test",
          chain: { rpcUrl: proxy.url, confirmations: 0, rpcRetries: 1, rpcRetryBaseMs: 50 },
        });
        viaProxy = createChainGateway(config.chain, dev.record, silentLogger);
        direct = createChainGateway({ ...config.chain, rpcUrl: dev.chain.url }, dev.record, silentLogger);
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
              chain: settlementChain(viaProxy, OPERATOR.privateKey, silentLogger),
              agreementDomain: domain(),
              settlementDomain: settlementDomain(dev.record.chainId, dev.record.contracts.SettlementHub),
              get anchorClaimTtlMs() {
                return routeClaimTtlMs;
              },
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
        const kycDomain = acknowledgementDomain(dev.record.chainId, dev.record.contracts.KycRegistry);
        await seedSummaryAcknowledged(store, kycDomain, client);
      });
      after(async function () {
        proxy.resume();
        await running?.close();
        await store?.close();
        viaProxy?.close();
        direct?.close();
        if (pg && "drop" in pg) await pg.drop();
        if (dir) rmSync(dir, { recursive: true, force: true });
      });

      /** A new agreement signed by both parties, ready to anchor. */
      async function signedAgreement(): Promise<string> {
        const terms = seedTerms(client.address, platform.address, { agreementId: hexlify(randomBytes(32)) });
        expect((await as("operator").post("/v1/agreements", { terms: toWire(terms) })).status).to.equal(201);
        const td = agreementTypedData(domain(), agreementMessage(buildAgreement(terms)));
        const id = terms.agreementId;
        const c = await as("client").post(`/v1/agreements/${id}/signatures`, {
          signature: await client.signTypedData(td.domain, td.types, td.message),
        });
        const p = await as("operator").post<{ status: string }>(`/v1/agreements/${id}/signatures`, {
          signature: await platform.signTypedData(td.domain, td.types, td.message),
        });
        expect([c.status, p.body.status]).to.deep.equal([200, "signed"]);
        return id;
      }

      const sentByOperator = () => dev.chain.provider.getTransactionCount(OPERATOR.address);
      const anchoringDeps = () => ({
        store,
        chain: settlementChain(direct, OPERATOR.privateKey, silentLogger),
        domain: domain(),
        claimTtlMs: 1000,
        log: silentLogger,
      });
      const registry = () =>
        AgreementRegistry__factory.connect(dev.record.contracts.AgreementRegistry, dev.chain.provider);

      it("sends one anchor transaction for three anchor requests fired at once", async function () {
        const id = await signedAgreement();
        const before = await sentByOperator();
        // The claim must outlive the three requests: with the 1 s claim of the recovery cases below, a loaded machine
        // can serve the last request after the first claim has expired, and a takeover is then correct behaviour.
        routeClaimTtlMs = 60_000;
        const answers = await Promise.all(
          [1, 2, 3].map(() => as("operator").post<{ status: string }>(`/v1/agreements/${id}/anchor`)),
        ).finally(() => {
          routeClaimTtlMs = 1000;
        });
        expect(answers.map((a) => a.status).sort()).to.deep.equal([200, 409, 409]);
        expect((await sentByOperator()) - before).to.equal(1);
        expect(await registry().isAnchored(id)).to.equal(true);
        expect((await store.legal.getAgreement(id))!.status).to.equal("anchored");
      });

      it("records an anchor whose answer was lost once reconciliation finds it on-chain", async function () {
        const id = await signedAgreement();
        proxy.mode = "lose-sends";
        proxy.afterSend = "down";
        const answer = await as("operator").post<ErrorBody>(`/v1/agreements/${id}/anchor`);
        proxy.mode = "up";
        proxy.afterSend = "up";
        await proxy.up();
        expect(answer.status).to.equal(503);
        expect(await registry().isAnchored(id)).to.equal(true);
        expect((await store.legal.getAgreement(id))!.status).to.equal("anchoring");
        expect((await as("operator").post(`/v1/agreements/${id}/anchor`)).status).to.equal(409); // still claimed
        await new Promise((r) => setTimeout(r, 1100));
        expect(await reconcileAnchors(anchoringDeps())).to.deep.include({ resolved: 1, adopted: 1 });
        const rec = (await store.legal.getAgreement(id))!;
        expect(rec.status).to.equal("anchored");
        expect(rec.anchor!.txHash).to.match(/^0x[0-9a-f]{64}$/);
      });

      it("follows the chain when the claim was lost after the send (an anchor cannot be undone)", async function () {
        const id = await signedAgreement();
        proxy.pause((body) => body.includes("eth_sendRawTransaction"));
        const pending = as("operator").post<{ status: string; anchor: { txHash: string } }>(
          `/v1/agreements/${id}/anchor`,
        );
        for (let i = 0; i < 200 && proxy.heldCount === 0; i++) await new Promise((r) => setTimeout(r, 25));
        expect(proxy.heldCount).to.equal(1);
        await new Promise((r) => setTimeout(r, 1100));
        expect(await reconcileAnchors(anchoringDeps())).to.deep.include({ resolved: 1, adopted: 0 });
        expect((await store.legal.getAgreement(id))!.status).to.equal("signed"); // not on-chain yet: released
        proxy.resume();
        const answer = await pending;
        expect([answer.status, answer.body.status]).to.deep.equal([200, "anchored"]);
        expect(await registry().isAnchored(id)).to.equal(true);
        expect((await store.legal.getAgreement(id))!.anchor!.txHash).to.equal(answer.body.anchor.txHash);
      });
    });
  }
});
