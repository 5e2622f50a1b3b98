import { expect } from "chai";
import {
  Wallet,
  hexlify,
  keccak256,
  parseEther,
  randomBytes,
  toUtf8Bytes,
  type HDNodeWallet,
  type JsonRpcProvider,
} from "ethers";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ApiClient, coreRoutes, createApi, createApiKey, listen, type NewApiKey } from "../../../offchain/api";
import { createChainGateway, type ChainGateway } from "../../../offchain/chain";
import { agreementEndChain, feeRef } from "../../../offchain/chain/agreementEndChain";
import { settlementChain, type SettlementChain } from "../../../offchain/chain/settlementHubWriter";
import { hardhatDevWallets } from "../../../offchain/oracle";
import { anchorAgreement } from "../../../offchain/settlement/anchorAgreement";
import type { AgreementEndRecord } from "../../../offchain/settlement/agreementEnd/port";
import {
  advanceDueEnds,
  advanceEnd,
  chargeDailyFees,
  endOnExit,
  finalSettlementOf,
  recordBankConfirmation,
  requestEnd,
  type AgreementEndDeps,
} from "../../../offchain/settlement/agreementEnd/workflow";
import {
  AgreementService,
  agreementDomain,
  agreementMessage,
  agreementTypedData,
  buildAgreement,
  validatePain001,
} from "../../../offchain/settlement/legal";
import { DEV_CUSTODY, DEV_KEYS, parseConfig } from "../../../offchain/shared/config";
import { silentLogger } from "../../../offchain/shared/logger";
import { openStore, type Store } from "../../../offchain/store";
import {
  AgreementBinding__factory,
  AgreementRegistry__factory,
  AgreementSettlement__factory,
  CollateralToken__factory,
  MarginEngine__factory,
} from "../../../typechain-types";
import { startDevChain, type DevChain } from "../../helpers/devChain";
import { prepareKeeperChain, type KeeperChain, CNY } from "../../../fixtures/keeperChain";
import { createTestDatabase, type TestPostgres } from "../../helpers/postgres";
import { seedTerms } from "./legal/seed";
import { settlementDomain } from "../../../offchain/settlement";
import { settlementRoutes } from "../../../offchain/settlement/routes";
import { TEST_SECRET_KEY } from "../../helpers/api";

const NODE_PORT = 8959;
const HTTP_PORT = 18959;
const OPERATOR = hardhatDevWallets([4])[0];
const WAD = 10n ** 18n;
const PAYEE = { name: "Client A", account: { other: "6222020200000001" } };

/**
 * The agreement-end workflow against a real hardhat node and the deployed contracts, on SQLite and PostgreSQL:
 * a client's early termination executed to the end (frozen, force-closed after the deadline, repaid, fees on the
 * chain's ledger, the waterfall on-chain with the providers' share in the pool's share price, the registry
 * closed, the final statement and a schema-valid pain.001, the bank leg reconciled), a new process for every
 * step; a crash after each kind of send (the next run adopts what the chain did and sends nothing twice); two
 * instances advancing the same workflow at once, and two requests starting it at once.
 */
describe("agreement end: the financing agreement executed at its end", function () {
  this.timeout(300_000);
  let dev: DevChain;
  let kc: KeeperChain;
  let provider: JsonRpcProvider;
  let gateway: ChainGateway;
  let writer: SettlementChain;
  const platform = Wallet.createRandom();

  before(async function () {
    dev = await startDevChain(NODE_PORT);
    kc = await prepareKeeperChain(dev);
    provider = dev.chain.provider;
    const config = parseConfig({ env: "test", chain: { rpcUrl: dev.chain.url, confirmations: 0 } });
    gateway = createChainGateway(config.chain, dev.record, silentLogger);
    writer = settlementChain(gateway, OPERATOR.privateKey, silentLogger);
  });
  after(async function () {
    gateway?.close();
    await dev?.stop();
  });

  const c = () => dev.record.contracts;
  const engine = () => MarginEngine__factory.connect(c().MarginEngine, provider);
  const settlementContract = () => AgreementSettlement__factory.connect(c().AgreementSettlement, provider);
  const registry = () => AgreementRegistry__factory.connect(c().AgreementRegistry, provider);
  const token = (symbol: string) =>
    CollateralToken__factory.connect(dev.record.tokens.find((t) => t.symbol === symbol)!.address, provider);
  const operatorNonce = () => provider.getTransactionCount(OPERATOR.address);

  /** A fresh process: its own deps (and instance name) over the same store and chain. */
  function processOn(store: Store, name: string, closeOut = true): AgreementEndDeps {
    return {
      store,
      chain: agreementEndChain(gateway, writer.sender, silentLogger, closeOut ? DEV_KEYS.keeperKey : undefined),
      log: silentLogger,
      custody: DEV_CUSTODY,
      leaseMs: 30_000,
      instance: name,
    };
  }

  async function refreshPrices(prices: Record<string, string>): Promise<void> {
    for (const [s, p] of Object.entries(prices)) await kc.setPrice(s, p);
    await provider.send("evm_increaseTime", [301]);
    for (const [s, p] of Object.entries(prices)) await kc.setPrice(s, p);
  }

  /**
   * A bound client: verified, 10,000 mbBANK deposited (100,000 at 10), an agreement anchored for it and bound
   * on-chain (leverage 2, penalty 5 %), 50,000 borrowed and kept in its margin account.
   */
  async function boundClient(store: Store): Promise<{ client: HDNodeWallet; agreementId: string }> {
    const client = Wallet.createRandom().connect(provider);
    await provider.send("hardhat_setBalance", [client.address, "0x" + parseEther("10").toString(16)]);
    await kc.verify(client.address, 5);
    await kc.mint("mbBANK", client.address, 10_000n);
    const bank = token("mbBANK").connect(client);
    await (await bank.approve(c().MarginEngine, 10_000n)).wait();
    await (
      await engine()
        .connect(client)
        .deposit(await bank.getAddress(), 10_000n)
    ).wait();
    const now = (await provider.getBlock("latest"))!.timestamp;
    const terms = seedTerms(client.address, platform.address, {
      agreementId: hexlify(randomBytes(32)),
      effectiveAt: now - 60,
      expiresAt: now + 90 * 86_400,
    });
    const domain = agreementDomain(dev.record.chainId, c().AgreementRegistry);
    const agreements = new AgreementService(store.legal, domain);
    await agreements.prepare(terms);
    const td = agreementTypedData(domain, agreementMessage(buildAgreement(terms)));
    await agreements.addSignature(terms.agreementId, await client.signTypedData(td.domain, td.types, td.message));
    await agreements.addSignature(terms.agreementId, await platform.signTypedData(td.domain, td.types, td.message));
    await anchorAgreement({ store, chain: writer, domain, claimTtlMs: 60_000, log: silentLogger }, terms.agreementId);
    const binding = AgreementBinding__factory.connect(c().AgreementBinding, provider);
    const penalty = (5n * WAD) / 100n;
    await writer.sender.send(binding, "propose", [terms.agreementId, 2n * WAD, penalty]);
    await (await binding.connect(client).accept(terms.agreementId, 2n * WAD, penalty)).wait();
    await (
      await engine()
        .connect(client)
        .borrow(50_000n * CNY)
    ).wait();
    return { client, agreementId: terms.agreementId };
  }

  for (const kind of ["sqlite", "postgres"] as const) {
    describe(`on ${kind}`, function () {
      let pg: TestPostgres | undefined;
      let dir: string;
      let store: Store;

      before(async function () {
        if (kind === "postgres") {
          pg = await createTestDatabase("mb_agreement_end");
          if ("skip" in pg) {
            console.log(`    skipped: ${pg.skip}`);
            return this.skip();
          }
        }
        dir = mkdtempSync(path.join(tmpdir(), "mb-agreement-end-"));
        store =
          pg && "url" in pg
            ? await openStore({ engine: "postgres", url: pg.url, poolSize: 8 })
            : await openStore({ engine: "sqlite", path: path.join(dir, "api.sqlite") });
      });
      after(async function () {
        await store?.close();
        if (pg && "drop" in pg) await pg.drop();
        if (dir) rmSync(dir, { recursive: true, force: true });
      });

      it("executes a terminated agreement to the end, a new process for every step", async function () {
        await refreshPrices({ mbBANK: "10" });
        const { client, agreementId } = await boundClient(store);
        await refreshPrices({ mbBANK: "13" });
        let n = 0;
        const proc = () => processOn(store, `p${++n}`);
        const { record, created } = await requestEnd(proc(), {
          agreementId,
          reason: "termination",
          by: `client:${client.address}`,
          payee: PAYEE,
        });
        expect(created).to.equal(true);
        expect(record.step).to.equal("freeze");

        // 1. frozen: the binding ends now and the engine refuses new borrowing.
        let rec = await advanceEnd(proc(), agreementId);
        expect([rec.step, rec.status]).to.deep.equal(["close-positions", "waiting"]);
        expect(rec.history.find((h) => h.step === "freeze" && h.status === "done")?.txHash).to.match(/^0x/);
        await expectRevert(
          engine()
            .connect(client)
            .borrow.staticCall(1n * CNY),
          "AgreementInactive",
        );
        // 2. before the deadline the client may still sell; nobody may force-close yet.
        rec = await advanceEnd(proc(), agreementId);
        expect(rec.status).to.equal("waiting");
        expect(rec.waitingFor!.en).to.match(/order book/);
        expect(rec.waitingFor!.zh).to.match(/订单簿/);
        await provider.send("evm_increaseTime", [Number(await settlementContract().closeOutPeriod()) + 1]);
        await refreshPrices({ mbBANK: "13" });
        // 2. after it: force-closed by the close-out account; 3. waits for the client's repayment.
        rec = await advanceEnd(proc(), agreementId);
        expect([rec.step, rec.status], JSON.stringify(rec.waitingFor)).to.deep.equal(["repay", "waiting"]);
        expect(await engine().balanceOf(client.address, await token("mbBANK").getAddress())).to.equal(0n);
        expect(rec.facts.positionsClosed).to.equal("forced");
        const [debt] = await engine().debtOf(client.address);
        await (
          await engine()
            .connect(client)
            .repay(debt + 1n * CNY)
        ).wait();

        // 4–7 in one run: fees on the chain's ledger, the waterfall on-chain, the statement and the pain.001.
        const priceBefore = await juniorPrice();
        rec = await advanceEnd(proc(), agreementId);
        expect([rec.step, rec.status]).to.deep.equal(["reconcile", "waiting"]);
        const fees = BigInt(rec.facts.feesOnChain);
        expect(fees).to.be.greaterThan(0n);
        expect(await settlementContract().feesOf(agreementId)).to.equal(fees);
        expect(await settlementContract().feeCharged(feeRef(agreementId, "final"))).to.equal(true);
        const legal = (await store.legal.getAgreement(agreementId))!;
        const s = finalSettlementOf(rec, legal.document.terms)!;
        // The figures are the chain's: principal lent, fees on its ledger, the cash left.
        expect(s.paid.principal).to.equal(50_000n * CNY);
        expect(s.paid.fees).to.equal(fees);
        expect(s.profitShares.capitalProviders).to.be.greaterThan(0n);
        const onChain = await settlementContract().settlementOf(agreementId);
        expect(onChain.providersShare).to.equal(s.profitShares.capitalProviders);
        expect(onChain.platformShare).to.equal(s.profitShares.platform);
        expect(onChain.finalHash).to.equal(rec.facts.finalHash);
        const closed = await registry().agreementOf(agreementId);
        expect(closed.closedAt).to.not.equal(0n);
        expect(closed.finalSettlementHash).to.equal(rec.facts.finalHash);
        expect(await juniorPrice()).to.be.greaterThan(priceBefore);
        expect(BigInt(rec.facts.juniorPriceAfter)).to.be.greaterThan(BigInt(rec.facts.juniorPriceBefore));
        const platformCash = await engine().balanceOf(
          await settlementContract().platformAccount(),
          await token("mbCNY").getAddress(),
        );
        expect(platformCash >= fees + s.profitShares.platform).to.equal(true);
        // The client's cash in the engine is exactly its payout (plus the sub-fen dust).
        const left = await engine().balanceOf(client.address, await token("mbCNY").getAddress());
        expect(left).to.equal(s.payouts.client);
        expect((await store.legal.getAgreement(agreementId))!.status).to.equal("closed");
        // The final statement is the final settlement's canonical JSON; its keccak256 is the registry's hash.
        expect(keccak256(toUtf8Bytes(rec.facts.finalStatement))).to.equal(rec.facts.finalHash);
        expect(await store.legal.listStatementsOf(client.address, 10)).to.deep.equal([]); // not a daily statement
        const message = (await store.legal.getPaymentMessage(rec.facts.messageId))!;
        expect((await validatePain001(message.xml)).valid).to.equal(true);
        expect(message.endToEndIds).to.deep.equal([rec.facts.endToEndId]);
        expect(message.xml).to.contain(PAYEE.account.other);

        // 8. the client's payout leaves the chain with the payout's reference; the bank confirms it.
        const payout = BigInt(rec.facts.payout);
        const cash = token("mbCNY");
        await (
          await engine()
            .connect(client)
            .withdraw(await cash.getAddress(), payout)
        ).wait();
        await (await cash.connect(client).redeem(payout, rec.facts.payoutRef)).wait();
        rec = await advanceEnd(proc(), agreementId);
        expect([rec.step, rec.status]).to.deep.equal(["reconcile", "waiting"]);
        expect(rec.waitingFor!.en).to.match(/custodian bank/);
        const csv =
          "endToEndId,direction,amount,currency,bookingDate,status,bankRef\n" +
          `${rec.facts.endToEndId},debit,${decimal(payout)},CNY,2027-01-05,booked,BK-1\n`;
        rec = await recordBankConfirmation(proc(), agreementId, { format: "csv", content: csv });
        expect([rec.step, rec.status]).to.deep.equal(["done", "done"]);
        expect(rec.history.map((h) => h.step)).to.include.members([
          "freeze",
          "close-positions",
          "repay",
          "fees",
          "settle",
          "statement",
          "reconcile",
        ]);
        // Done is done: another advance sends nothing.
        const nonce = await operatorNonce();
        expect((await advanceEnd(proc(), agreementId)).status).to.equal("done");
        expect(await operatorNonce()).to.equal(nonce);
      });

      it("continues after a crash behind each send without sending anything twice", async function () {
        await refreshPrices({ mbBANK: "10" });
        const { client, agreementId } = await boundClient(store);
        const proc = (name: string) => processOn(store, name);
        await requestEnd(proc("a"), { agreementId, reason: "default", by: "officer:ops", payee: PAYEE });
        const binding = AgreementBinding__factory.connect(c().AgreementBinding, provider);

        // Crash after terminate: the dead process journaled and sent it, and died before recording it.
        await crashedAt(store, agreementId);
        await writer.sender.send(binding, "terminate", [client.address]);
        let nonce = await operatorNonce();
        let rec = await advanceEnd(proc("b"), agreementId);
        expect(await operatorNonce()).to.equal(nonce);
        expect([rec.step, rec.status]).to.deep.equal(["close-positions", "waiting"]);
        expect(rec.closeDeadline).to.be.a("number");

        // The client does not act: force-closed after the deadline; it repays from the proceeds.
        await provider.send("evm_increaseTime", [Number(await settlementContract().closeOutPeriod()) + 1]);
        await refreshPrices({ mbBANK: "10" });
        rec = await advanceEnd(proc("c"), agreementId);
        expect([rec.step, rec.status], JSON.stringify(rec.waitingFor)).to.deep.equal(["repay", "waiting"]);
        const [debt] = await engine().debtOf(client.address);
        await (
          await engine()
            .connect(client)
            .repay(debt + 1n * CNY)
        ).wait();

        // Crash after the final fee: the dead process charged it on-chain and died before recording it.
        await crashedAt(store, agreementId, { step: "fees" });
        await writer.sender.send(settlementContract(), "chargeFee", [
          agreementId,
          7n * CNY,
          feeRef(agreementId, "final"),
        ]);
        nonce = await operatorNonce();
        rec = await advanceEnd(proc("d"), agreementId);
        expect([rec.step, rec.status]).to.deep.equal(["reconcile", "waiting"]);
        // Only settleEnd was sent: the final fee was charged by the dead process (read back from the chain).
        expect((await operatorNonce()) - nonce).to.equal(1);
        expect(await settlementContract().feesOf(agreementId)).to.equal(7n * CNY);
        const lines = JSON.parse(rec.facts.feeLines) as { amount: string }[];
        expect(lines.reduce((t, l) => t + BigInt(l.amount), 0n)).to.equal(7n * CNY);
        const hash = rec.facts.finalHash;
        expect((await registry().agreementOf(agreementId)).closedAt).to.not.equal(0n);

        // Crash after settleEnd: the record still at the settle step with its journaled figures.
        await crashedAt(store, agreementId, { step: "settle" });
        nonce = await operatorNonce();
        rec = await advanceEnd(proc("e"), agreementId);
        expect(await operatorNonce()).to.equal(nonce);
        expect([rec.step, rec.status, rec.facts.finalHash]).to.deep.equal(["reconcile", "waiting", hash]);
        expect(rec.pending).to.equal(null);
        expect(rec.lease).to.equal(null);
      });

      it("charges each daily statement's fees once on the chain's ledger, and the end only what is beyond", async function () {
        await refreshPrices({ mbBANK: "10" });
        const { client, agreementId } = await boundClient(store);
        const deps = processOn(store, "fees");
        // Two issued daily statements (only their totals.fees is read here; the daily statements job writes them).
        const legal = (await store.legal.getAgreement(agreementId))!;
        const day0 = new Date(legal.document.terms.effectiveAt * 1000 + 8 * 3600_000).toISOString().slice(0, 10);
        for (const [day, fees] of [
          [day0, 12n * CNY],
          ["2099-01-01", 0n],
        ] as const)
          await store.legal.putStatement({
            agreementId,
            account: client.address,
            from: day,
            to: day,
            hash: `0x${day.replace(/-/g, "").padStart(64, "0")}`,
            json: JSON.stringify({ totals: { fees: fees.toString() } }),
          });
        const nonce = await operatorNonce();
        const first = await chargeDailyFees(deps);
        expect(first.charged).to.be.at.least(1);
        expect(await settlementContract().feesOf(agreementId)).to.equal(12n * CNY);
        expect(await settlementContract().feeCharged(feeRef(agreementId, `day:${day0}`))).to.equal(true);
        const sent = (await operatorNonce()) - nonce;
        await chargeDailyFees(deps); // idempotent: nothing charged twice
        expect((await operatorNonce()) - nonce).to.equal(sent);
        expect(await settlementContract().feesOf(agreementId)).to.equal(12n * CNY);
        // Once the agreement is ending the job leaves it to the workflow. (Started without a payee, as an exit from
        // an amendment starts it; the client's bank account follows in a second request and is recorded once.)
        const started = await requestEnd(deps, { agreementId, reason: "termination", by: `client:${client.address}` });
        expect(started.record.facts.payee).to.equal(undefined);
        const later = await requestEnd(deps, { agreementId, reason: "termination", by: "officer:ops", payee: PAYEE });
        expect([later.created, JSON.parse(later.record.facts.payee)]).to.deep.equal([false, PAYEE]);
        await store.legal.putStatement({
          agreementId,
          account: client.address,
          from: "2099-01-02",
          to: "2099-01-02",
          hash: `0x${"2099".padStart(64, "0")}`,
          json: JSON.stringify({ totals: { fees: (3n * CNY).toString() } }),
        });
        await chargeDailyFees(deps);
        expect(await settlementContract().feesOf(agreementId)).to.equal(12n * CNY);
      });

      it("ends the agreement of a client that exits an amendment, also when the exit hook did not run", async function () {
        await refreshPrices({ mbBANK: "10" });
        const deps = processOn(store, "exit");
        const exited = async (agreementId: string, client: string) => {
          const a = {
            id: hexlify(randomBytes(32)),
            agreementId,
            client: client.toLowerCase(),
            operationId: hexlify(randomBytes(32)),
            target: c().MarginEngine,
            contract: "MarginEngine",
            function: "setParams",
            args: {},
            data: "0x",
            effectiveAt: (await provider.getBlock("latest"))!.timestamp + 86_400,
            changes: [{ path: "schedule.rules.closeFactor", from: "0.5", to: "0.6" }],
            text: "amendment",
            textHash: hexlify(randomBytes(32)),
            status: "exited" as const,
            issuedAt: new Date().toISOString(),
            answeredAt: new Date().toISOString(),
            answeredBy: client.toLowerCase(),
            revision: 0,
          };
          expect(await store.legal.insertAmendment(a)).to.equal(true);
          return a;
        };
        // The hook (what the exit route calls): the end starts as the client's termination and freezes at once.
        const first = await boundClient(store);
        await endOnExit(deps)(first.agreementId, await exited(first.agreementId, first.client.address));
        const rec = (await store.agreementEnds.getEnd(first.agreementId))!;
        expect([rec.reason, rec.step]).to.deep.equal(["termination", "close-positions"]);
        expect(
          (await AgreementBinding__factory.connect(c().AgreementBinding, provider).bindingOf(first.client.address))
            .expiresAt,
        ).to.be.at.most(BigInt((await provider.getBlock("latest"))!.timestamp));
        // An exit recorded while the hook could not run: the end job starts it.
        const second = await boundClient(store);
        await exited(second.agreementId, second.client.address);
        await advanceDueEnds(deps);
        const started = (await store.agreementEnds.getEnd(second.agreementId))!;
        expect([started.reason, started.step]).to.deep.equal(["termination", "close-positions"]);
      });

      it("lets one instance advance a workflow when two try at once, and starts it once for two requests", async function () {
        await refreshPrices({ mbBANK: "10" });
        const { agreementId } = await boundClient(store);
        const starts = await Promise.all(
          [1, 2].map(() =>
            requestEnd(processOn(store, "s"), { agreementId, reason: "default", by: "officer:ops", payee: PAYEE }),
          ),
        );
        expect(starts.map((s) => s.created).sort()).to.deep.equal([false, true]);
        const nonce = await operatorNonce();
        const runs = await Promise.all([
          advanceEnd(processOn(store, "x"), agreementId),
          advanceEnd(processOn(store, "y"), agreementId),
        ]);
        expect((await operatorNonce()) - nonce).to.equal(1); // one terminate
        const rec = (await store.agreementEnds.getEnd(agreementId))!;
        expect(rec.step).to.equal("close-positions");
        expect(rec.lease).to.equal(null);
        expect(runs.every((r) => r.agreementId === agreementId)).to.equal(true);
        // Another reason for the same agreement is refused.
        await expectRejected(
          requestEnd(processOn(store, "s"), { agreementId, reason: "expiry", by: "officer:ops", payee: PAYEE }),
          /already ending/,
        );
      });
    });
  }

  describe("over the API", function () {
    let dir: string;
    let store: Store;
    let running: Awaited<ReturnType<typeof listen>>;
    const keys: Record<string, NewApiKey> = {};
    const as = (who: string): ApiClient => new ApiClient(running.url, keys[who]);

    before(async function () {
      dir = mkdtempSync(path.join(tmpdir(), "mb-agreement-end-api-"));
      store = await openStore({ engine: "sqlite", path: path.join(dir, "api.sqlite") });
      const api = createApi({
        store,
        log: silentLogger,
        secretKey: TEST_SECRET_KEY,
        timestampWindowMs: 60_000,
        rateLimitPerMinute: 100_000,
        bodyLimitBytes: 256 * 1024,
        capabilities: [
          coreRoutes({ store, secretKey: TEST_SECRET_KEY }),
          settlementRoutes({
            store,
            chain: writer,
            agreementDomain: agreementDomain(dev.record.chainId, c().AgreementRegistry),
            settlementDomain: settlementDomain(dev.record.chainId, c().SettlementHub),
            agreementEnd: processOn(store, "api"),
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
      keys.operator = await createApiKey(store, TEST_SECRET_KEY, { role: "operator", subject: "ops", label: "o" });
      keys.stranger = await createApiKey(store, TEST_SECRET_KEY, {
        role: "client",
        subject: Wallet.createRandom().address,
        label: "s",
      });
    });
    after(async function () {
      await running?.close();
      await store?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("lets a client terminate its own agreement only, and refuses bad input without changing anything", async function () {
      await refreshPrices({ mbBANK: "10" });
      const { client, agreementId } = await boundClient(store);
      keys.client = await createApiKey(store, TEST_SECRET_KEY, { role: "client", subject: client.address, label: "c" });
      const path_ = `/v1/agreements/${agreementId}/end`;
      const body = { reason: "termination", payee: PAYEE };
      // A client may not declare its own default, a stranger may not touch it, bad bodies are refused.
      expect((await as("client").post(path_, { ...body, reason: "default" })).status).to.equal(403);
      expect((await as("stranger").post(path_, body)).status).to.be.oneOf([403, 404]);
      expect((await as("client").post(path_, { ...body, reason: "maybe" })).status).to.equal(400);
      expect((await as("client").post(path_, { reason: "termination", payee: { name: "x" } })).status).to.equal(400);
      expect(
        (await as("operator").post(`/v1/agreements/0x${"ee".repeat(32)}/end`, { ...body, reason: "default" })).status,
      ).to.equal(404);
      expect((await as("operator").post(path_, { ...body, reason: "expiry" })).status).to.equal(409); // term not over
      expect(await store.agreementEnds.getEnd(agreementId)).to.equal(undefined);
      // The client's termination starts it and freezes at once.
      const started = await as("client").post<{ step: string; status: string; reason: string }>(path_, body);
      expect(started.status).to.equal(201);
      expect([started.body.reason, started.body.step, started.body.status]).to.deep.equal([
        "termination",
        "close-positions",
        "waiting",
      ]);
      const read = await as("client").get<{ history: { step: string; status: string }[] }>(path_);
      expect(read.status).to.equal(200);
      expect(read.body.history.some((h) => h.step === "freeze" && h.status === "done")).to.equal(true);
      expect((await as("stranger").get(path_)).status).to.be.oneOf([403, 404]);
      const list = await as("operator").get<{ ends: { agreementId: string }[] }>("/v1/agreement-ends?status=waiting");
      expect(list.body.ends.map((e) => e.agreementId)).to.include(agreementId);
      expect((await as("client").get("/v1/agreement-ends")).status).to.equal(403);
      // A bank file that is not one is refused (400) and not kept.
      const before = (await store.agreementEnds.getEnd(agreementId))!.revision;
      const bad = await as("operator").post(`${path_}/bank-confirmation`, { format: "camt054", content: "<x/>" });
      expect(bad.status).to.equal(400);
      expect((await store.agreementEnds.getEnd(agreementId))!.revision).to.equal(before);
      expect((await as("client").post(`${path_}/advance`)).status).to.equal(403);
    });
  });

  async function juniorPrice(): Promise<bigint> {
    return (await agreementEndChain(gateway, writer.sender, silentLogger).sharePrices()).junior;
  }
});

/** Leaves the workflow as a process that died mid-step leaves it: its lease run out, a send journaled. */
async function crashedAt(store: Store, agreementId: string, at: { step?: AgreementEndRecord["step"] } = {}) {
  const rec = (await store.agreementEnds.getEnd(agreementId))!;
  const step = at.step ?? rec.step;
  const ok = await store.agreementEnds.updateEnd(
    {
      ...rec,
      step,
      status: "running",
      lease: { owner: "dead-process", until: Date.now() - 1 },
      pending: { step, txHash: null, sentAt: Date.now() - 1000 },
    },
    rec.revision,
  );
  expect(ok).to.equal(true);
}

function decimal(units: bigint): string {
  const whole = units / CNY;
  const frac = (units % CNY).toString().padStart(6, "0").slice(0, 2);
  return `${whole}.${frac}`;
}

/** Expects a revert with the custom error `name` (declared by AgreementBinding, which the engine consults). */
async function expectRevert(p: Promise<unknown>, name: string): Promise<void> {
  try {
    await p;
  } catch (err) {
    const data = (err as { data?: string }).data ?? "0x";
    expect(AgreementBinding__factory.createInterface().parseError(data)?.name).to.equal(name);
    return;
  }
  expect.fail(`expected a revert with ${name}`);
}

async function expectRejected(p: Promise<unknown>, re: RegExp): Promise<void> {
  try {
    await p;
  } catch (err) {
    expect((err as Error).message).to.match(re);
    return;
  }
  expect.fail(`expected a rejection matching ${re}`);
}
