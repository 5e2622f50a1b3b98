/**
 * Proof of reserves from the indexed state, against a real `hardhat node` (port 8741) and the service (HTTP
 * 18801): the MarginEngine account indexer, the snapshot at a block, publishing through the API, a client's own
 * proof and secret, and the auditor's verify command.
 */
import { expect } from "chai";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { encodeBytes32String, id, type JsonRpcSigner } from "ethers";
import { ApiClient, createApiKey, type Role } from "../../../offchain/api";
import { startService, type Service } from "../../../offchain/main";
import {
  IndexedLiabilitySource,
  ReservesError,
  inclusionProofOf,
  toContractProof,
  verifyClientProofOffline,
  type ClientProofFile,
  type LiabilitySet,
} from "../../../offchain/reserves";
import { DEV_KEYS, parseConfig } from "../../../offchain/shared/config";
import {
  TrancheVault__factory,
  InsuranceFund__factory,
  CollateralToken__factory,
  KycRegistry__factory,
  MarginEngine__factory,
  ReserveLedger__factory,
  type CollateralToken,
  type MarginEngine,
  type ReserveLedger,
} from "../../../typechain-types";
import { startDevChain, type DevChain } from "../../helpers/devChain";
import { supplyBothTranches } from "../../../scripts/deploy/providers";
import { bindAgreement } from "../../../scripts/lib/bindAgreement";

const RPC_PORT = 8741;
const API_PORT = 18801;
const CNY = 10n ** 6n;
const ROOT = path.join(__dirname, "..", "..", "..");

describe("proof of reserves from the indexed state (hardhat node + service)", function () {
  this.timeout(120_000);

  let dev: DevChain;
  let service: Service;
  let dataDir: string;
  let engine: MarginEngine;
  let ledger: ReserveLedger;
  let cash: CollateralToken;
  let bank: CollateralToken;
  let tech: CollateralToken;
  let small: CollateralToken;
  let assets: string[];
  let A: JsonRpcSigner, B: JsonRpcSigner, C: JsonRpcSigner, D: JsonRpcSigner, E: JsonRpcSigner;
  let block1: number;
  let block2: number;
  const api: Partial<Record<"A" | "B" | "E" | Role, ApiClient>> = {};

  const tokenAt = (symbol: string, runner: JsonRpcSigner): CollateralToken =>
    CollateralToken__factory.connect(dev.record.tokens.find((t) => t.symbol === symbol)!.address, runner);
  const idx = (token: CollateralToken): number => assets.indexOf(String(token.target).toLowerCase());

  // eth_blockNumber raw: ethers caches identical reads for 250 ms, which can return the block before the last tx.
  const head = async (): Promise<number> => Number(await dev.chain.provider.send("eth_blockNumber", []));

  async function waitIndexed(block: number): Promise<void> {
    for (const deadline = Date.now() + 20_000; Date.now() < deadline;) {
      const c = await service.store.chain.cursor("reserves");
      if (c && c.blockNumber >= block) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`reserves indexer did not reach block ${block}`);
  }

  async function deposit(user: JsonRpcSigner, token: CollateralToken, amount: bigint): Promise<void> {
    const custodian = dev.signers[2];
    await (
      await token.connect(custodian).mint(user.address, amount, id(`deposit-${user.address}-${amount}-${Date.now()}`))
    ).wait();
    await (await token.connect(user).approve(engine.target, amount)).wait();
    await (await engine.connect(user).deposit(token.target, amount)).wait();
  }

  async function snapshot(
    block: number,
    pending?: Map<string, { owed: bigint[]; debt: bigint[] }>,
  ): Promise<LiabilitySet> {
    return new IndexedLiabilitySource({
      store: service.store,
      engine,
      assets,
      cashAsset: String(cash.target),
      snapshotBlock: BigInt(block),
      secretKey: Buffer.from(DEV_KEYS.apiSecretKey, "hex"),
      pending: pending ? async () => pending : undefined,
      concurrency: 2,
    }).load();
  }

  const byAccount = (set: LiabilitySet, who: JsonRpcSigner) =>
    set.accounts.find((a) => a.accountId === who.address.toLowerCase());

  before(async function () {
    dev = await startDevChain(RPC_PORT);
    const more = await Promise.all([10, 11, 12, 13, 14, 15].map((i) => dev.chain.provider.getSigner(i)));
    const lp = more[3];
    [A, B, C, , D, E] = more;
    const [admin, kycOfficer] = dev.signers;
    const c = dev.record.contracts;
    engine = MarginEngine__factory.connect(c.MarginEngine, admin);
    ledger = ReserveLedger__factory.connect(c.ReserveLedger, dev.chain.provider);
    assets = (await ledger.assets()).map((a) => a.toLowerCase());
    [cash, bank, tech, small] = ["mbCNY", "mbBANK", "mbTECH", "mbSMALL"].map((s) => tokenAt(s, admin));

    const kyc = KycRegistry__factory.connect(c.KycRegistry, kycOfficer);
    const expires = (await dev.chain.provider.getBlock("latest"))!.timestamp + 365 * 86_400;
    for (const [u, tier] of [
      [A, 2],
      [B, 3],
      [C, 2],
      [lp, 1],
      [D, 2],
      [E, 2],
    ] as const) {
      await (await kyc.setIdentity(u.address, tier, 156, expires, id(`identity-${u.address}`))).wait();
    }
    // The capital pool lends what the LP deposited; A borrows against its cash.
    await (await cash.connect(dev.signers[2]).mint(lp.address, 1_000_000n * CNY, id("lp-funding"))).wait();
    await supplyBothTranches((name) => TrancheVault__factory.connect(c[name], lp), lp, cash, 1_000_000n * CNY);
    // The insurance fund holds a donation, so all three reserve holders carry cash.
    await (await cash.connect(dev.signers[2]).mint(lp.address, 2_500n * CNY, id("fund-donation"))).wait();
    await (await cash.connect(lp).approve(c.InsuranceFund, 2_500n * CNY)).wait();
    await (
      await InsuranceFund__factory.connect(c.InsuranceFund, lp).receiveIncome(
        2_500n * CNY,
        encodeBytes32String("donation"),
      )
    ).wait();

    await deposit(A, cash, 100_000n * CNY);
    await bindAgreement(dev.record, dev.signers[4], A);
    await (await engine.connect(A).borrow(50_000n * CNY)).wait();
    await deposit(B, cash, 1_000n * CNY);
    await deposit(B, bank, 500n);
    await deposit(C, tech, 20n);
    block1 = await head();

    dataDir = mkdtempSync(path.join(tmpdir(), "mb-reserves-e2e-"));
    const config = parseConfig({
      env: "test",
      dataDir,
      log: { level: "silent" },
      store: { engine: "sqlite" },
      chain: {
        rpcUrl: dev.chain.url,
        network: "localhost",
        deploymentsDir: dev.deploymentsDir,
        confirmations: 0,
        pollIntervalMs: 50,
        reservePublisherKey: DEV_KEYS.reservePublisherKey,
      },
      api: { port: API_PORT, secretKey: DEV_KEYS.apiSecretKey },
    });
    service = await startService(config, { deployment: dev.record });
    const key = Buffer.from(DEV_KEYS.apiSecretKey, "hex");
    for (const [name, role, subject] of [
      ["A", "client", A.address],
      ["B", "client", B.address],
      ["E", "client", E.address],
      ["operator", "operator", "ops-1"],
      ["auditor", "auditor", "audit-1"],
    ] as const) {
      api[name] = new ApiClient(service.url, await createApiKey(service.store, key, { role, subject, label: name }));
    }
    await waitIndexed(block1);

    // Activity after the first snapshot block: A repays from its cash, B withdraws shares, D opens an account.
    await (await engine.connect(A).repay(10_000n * CNY)).wait();
    await (await engine.connect(B).withdraw(bank.target, 100n)).wait();
    await deposit(D, small, 7n);
    block2 = await head();
    await waitIndexed(block2);
  });

  after(async function () {
    await service?.stop();
    await dev?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  describe("IndexedLiabilitySource", function () {
    it("reads each account's engine balances and debt at the snapshot block, not at the head", async function () {
      // The indexer created D's secret when it first saw D (no snapshot or request has asked for it yet).
      expect(await service.store.reserves.secret(D.address)).to.match(/^v1\./);
      const set = await snapshot(block1);
      expect(set.snapshotBlock).to.equal(BigInt(block1));
      expect(set.assets).to.deep.equal(assets);
      expect(set.accounts.map((a) => a.accountId).sort()).to.deep.equal(
        [A.address, B.address, C.address].map((a) => a.toLowerCase()).sort(),
      );
      const a = byAccount(set, A)!;
      const [debtAtBlock1] = await engine.debtOf(A.address, { blockTag: block1 });
      expect(debtAtBlock1).to.be.gte(50_000n * CNY);
      expect(a.owed[idx(cash)]).to.equal(150_000n * CNY);
      expect(a.debt[idx(cash)]).to.equal(debtAtBlock1);
      expect(a.debt.filter((_, i) => i !== idx(cash))).to.deep.equal([0n, 0n, 0n]);
      const b = byAccount(set, B)!;
      expect(b.owed[idx(cash)]).to.equal(1_000n * CNY);
      expect(b.owed[idx(bank)]).to.equal(500n);
      expect(b.debt).to.deep.equal([0n, 0n, 0n, 0n]);
      expect(byAccount(set, C)!.owed[idx(tech)]).to.equal(20n);
      // The head has moved on: B now holds 400 shares, yet the snapshot keeps block1's 500.
      expect(await engine.balanceOf(B.address, bank.target)).to.equal(400n);
      for (const acc of set.accounts) {
        for (let i = 0; i < assets.length; i++) {
          expect(acc.owed[i]).to.equal(await engine.balanceOf(acc.accountId, assets[i], { blockTag: block1 }));
        }
      }
    });

    it("includes later activity and new accounts at a later block", async function () {
      const set = await snapshot(block2);
      expect(set.accounts).to.have.length(4);
      expect(byAccount(set, A)!.owed[idx(cash)]).to.equal(140_000n * CNY);
      const [debtNow] = await engine.debtOf(A.address, { blockTag: block2 });
      expect(byAccount(set, A)!.debt[idx(cash)]).to.equal(debtNow);
      expect(debtNow).to.be.lt(41_000n * CNY);
      expect(byAccount(set, B)!.owed[idx(bank)]).to.equal(400n);
      expect(byAccount(set, D)!.owed[idx(small)]).to.equal(7n);
    });

    it("adds the off-chain ledger's pending amounts to the account's columns", async function () {
      const pending = new Map([[B.address.toLowerCase(), { owed: [5n, 0n, 0n, 0n], debt: [0n, 3n, 0n, 0n] }]]);
      const b = byAccount(await snapshot(block1, pending), B)!;
      expect(b.owed[idx(cash)]).to.equal(1_000n * CNY + 5n);
      expect(b.debt[idx(bank)]).to.equal(3n);
    });

    it("refuses a snapshot block above the indexed head", async function () {
      const cursor = (await service.store.chain.cursor("reserves"))!;
      const err = await snapshot(cursor.blockNumber + 1000).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(ReservesError);
      expect((err as ReservesError).code).to.equal("INVALID_INPUT");
      expect((err as ReservesError).details).to.deep.equal({
        snapshotBlock: String(cursor.blockNumber + 1000),
        indexedHead: cursor.blockNumber,
      });
    });
  });

  describe("API", function () {
    let proofA: ClientProofFile;
    let publishBlock: number;

    it("lists no epoch before the first publish", async function () {
      const r = await api.auditor!.get<{ latest: string; epochs: unknown[] }>("/v1/reserves/epochs");
      expect(r.status).to.equal(200);
      expect(r.body).to.deep.equal({ latest: "0", epochs: [] });
      const doc = await new ApiClient(service.url).get<{ paths: Record<string, unknown> }>("/openapi.json");
      expect(Object.keys(doc.body.paths)).to.include.members([
        "/v1/reserves/epochs",
        "/v1/reserves/epochs/{epoch}",
        "/v1/reserves/me/proof",
        "/v1/reserves/me/secret",
        "/v1/reserves/publish",
      ]);
    });

    it("publishes once from the operator's request, refuses a concurrent one, and replays the same key", async function () {
      const op = api.operator!;
      const [first, second] = await Promise.all([
        op.request("POST", "/v1/reserves/publish", { body: {}, idempotencyKey: "publish-1" }),
        op.request("POST", "/v1/reserves/publish", { body: {}, idempotencyKey: "publish-2" }),
      ]);
      const statuses = [first.status, second.status].sort();
      expect(statuses).to.deep.equal([201, 409]);
      const refused = (first.status === 409 ? first : second) as { body: { error: { code: string; message: string } } };
      expect(refused.body.error.code).to.equal("CONFLICT");
      expect(refused.body.error.message).to.equal("another proof-of-reserves publish is running");
      const ok = (first.status === 201 ? first : second) as {
        body: { epoch: string; txHash: string; snapshotBlock: string };
      };
      expect(ok.body.epoch).to.equal("1");
      expect(Number(ok.body.snapshotBlock)).to.be.gte(block2);
      // No path of the server, neither in the answer nor in the URI published on-chain.
      expect(ok.body).to.not.have.property("dir");
      expect(JSON.stringify(ok.body)).to.not.contain(dataDir);
      expect((ok.body as unknown as { uri: string }).uri).to.equal("31337/epoch-1/");
      expect((await ledger.getEpoch(1)).uri).to.equal("31337/epoch-1/");
      publishBlock = (await dev.chain.provider.getTransactionReceipt(ok.body.txHash))!.blockNumber;

      const okKey = first.status === 201 ? "publish-1" : "publish-2";
      const again = await op.request("POST", "/v1/reserves/publish", { body: {}, idempotencyKey: okKey });
      expect(again.status).to.equal(201);
      expect(again.headers.get("idempotent-replayed")).to.equal("true");
      expect(again.body).to.deep.equal(ok.body);
      expect(await ledger.latestEpoch()).to.equal(1n);

      const byClient = await api.A!.request("POST", "/v1/reserves/publish", { body: {} });
      expect(byClient.status).to.equal(403);
    });

    it("gives a client its own secret and its own proof, which verifies offline and on-chain", async function () {
      const secret = await api.A!.get<{ account: string; secret: string }>("/v1/reserves/me/secret");
      expect(secret.status).to.equal(200);
      expect(secret.body.account).to.equal(A.address.toLowerCase());
      const r = await api.A!.get<ClientProofFile>("/v1/reserves/me/proof?epoch=1");
      expect(r.status).to.equal(200);
      proofA = r.body;
      expect(proofA.account.accountId).to.equal(A.address.toLowerCase());
      expect(proofA.account.secret).to.equal(secret.body.secret);
      expect(proofA.leaf.owed[idx(cash)]).to.equal((140_000n * CNY).toString());
      expect(BigInt(proofA.leaf.debt[idx(cash)])).to.be.gt(0n);
      expect(() => verifyClientProofOffline(proofA)).to.not.throw();
      const p = toContractProof(inclusionProofOf(proofA));
      expect(await ledger.verifyInclusion(1, p)).to.match(/^0x[0-9a-f]{64}$/);
      const latest = await api.A!.get<ClientProofFile>("/v1/reserves/me/proof");
      expect(latest.body).to.deep.equal(proofA);
    });

    it("never shows a client another client's proof", async function () {
      const other = await api.B!.get<{ error: { code: string } }>(`/v1/reserves/me/proof?epoch=1&account=${A.address}`);
      expect(other.status).to.equal(403);
      expect(other.body.error.code).to.equal("FORBIDDEN");
      const own = await api.B!.get<ClientProofFile>("/v1/reserves/me/proof?epoch=1");
      expect(own.body.account.accountId).to.equal(B.address.toLowerCase());
      expect(own.body.account.secret).to.not.equal(proofA.account.secret);
      expect((await api.auditor!.get("/v1/reserves/me/proof?epoch=1")).status).to.equal(403);
      // E is verified but has no margin account: nothing to show.
      expect((await api.E!.get("/v1/reserves/me/proof?epoch=1")).status).to.equal(404);
      expect((await api.A!.get("/v1/reserves/me/proof?epoch=2")).status).to.equal(404);
    });

    it("shows the epoch's reserve ratio from the engine, pool and insurance fund balances", async function () {
      const r = await api.auditor!.get<{
        assets: { asset: string; liabilities: string; debt: string; reserves: string; ratio: string }[];
      }>("/v1/reserves/epochs/1");
      expect(r.status).to.equal(200);
      const c = dev.record.contracts;
      const held = async (token: CollateralToken): Promise<bigint> => {
        let sum = 0n;
        for (const h of [c.MarginEngine, c.CapitalPool, c.InsuranceFund])
          sum += await token.balanceOf(h, { blockTag: publishBlock });
        return sum;
      };
      const set = await snapshot(Number((await ledger.getEpoch(1)).snapshotBlock));
      for (const token of [cash, bank, tech, small]) {
        const row = r.body.assets[idx(token)];
        const liabilities = set.accounts.reduce((s, a) => s + a.owed[idx(token)], 0n);
        expect(row.asset.toLowerCase()).to.equal(assets[idx(token)]);
        expect(BigInt(row.liabilities)).to.equal(liabilities);
        expect(BigInt(row.reserves)).to.equal(await held(token));
        expect(BigInt(row.ratio)).to.equal((BigInt(row.reserves) * 10n ** 18n) / liabilities);
      }
      // Cash reserves: the clients' cash in the engine (A's 140,000 incl. borrowed cash, B's 1,000), the pool's
      // unlent cash (1,000,000 − 50,000 lent + 10,000 repaid) and the insurance fund's 2,500.
      expect(BigInt(r.body.assets[idx(cash)].reserves)).to.equal((141_000n + 960_000n + 2_500n) * CNY);
      expect(BigInt(r.body.assets[idx(cash)].debt)).to.equal(BigInt(proofA.leaf.debt[idx(cash)]));
      // The epoch list is public: anyone can read the same record.
      const list = await new ApiClient(service.url).get<{ latest: string; epochs: { root: string }[] }>(
        "/v1/reserves/epochs",
      );
      expect(list.status).to.equal(200);
      expect(list.body.latest).to.equal("1");
      expect(list.body.epochs[0].root).to.equal((await ledger.getEpoch(1)).root);
      expect(JSON.stringify(list.body)).to.not.contain(dataDir);
    });

    it("passes the auditor's verify command on the published data set", async function () {
      const dir = path.join(dataDir, "reserves", "31337", "epoch-1");
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [
          require.resolve("ts-node/dist/bin.js"),
          "--transpile-only",
          "scripts/reserves-verify.ts",
          "--data",
          dir,
          "--rpc",
          dev.chain.url,
          "--threads",
          "1",
        ],
        { cwd: ROOT, timeout: 60_000 },
      );
      expect(stdout).to.include("RESULT: PASS");
      expect(stdout).to.not.include("FAIL ");
    });
  });

  describe("reorg", function () {
    it("drops an account seen only on the abandoned fork from the set and keeps its secret", async function () {
      const fork = await dev.chain.provider.send("evm_snapshot", []);
      await deposit(E, cash, 3n * CNY);
      const seen = await head();
      await waitIndexed(seen);
      expect(await service.store.reserves.accountsAt(seen)).to.include(E.address.toLowerCase());
      const sealed = await service.store.reserves.secret(E.address);
      expect(sealed).to.match(/^v1\./);

      await dev.chain.provider.send("evm_revert", [fork]);
      await dev.chain.provider.send("hardhat_mine", ["0x8"]);
      const after = await head();
      for (const deadline = Date.now() + 20_000; ;) {
        const c = await service.store.chain.cursor("reserves");
        const onChain = await dev.chain.provider.send("eth_getBlockByNumber", ["0x" + after.toString(16), false]);
        if (c && c.blockNumber === after && c.blockHash === onChain.hash) break;
        if (Date.now() > deadline) throw new Error("reserves indexer did not follow the new fork");
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(service.reservesIndexer!.status.rewinds).to.be.gte(1);
      expect(await service.store.reserves.accountsAt(after)).to.not.include(E.address.toLowerCase());
      expect(await service.store.reserves.accountsAt(after)).to.include(A.address.toLowerCase());
      expect(await service.store.reserves.secret(E.address)).to.equal(sealed);
    });
  });
});
