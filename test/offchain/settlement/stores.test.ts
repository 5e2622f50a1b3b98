import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Wallet, keccak256, toUtf8Bytes } from "ethers";
import {
  AGREEMENT_AMENDMENT_TYPES,
  AgreementService,
  AmendmentService,
  DisputeService,
  LegalError,
  MemoryLegalStore,
  agreementDomain,
  agreementMessage,
  agreementTypedData,
  canonicalize,
  verifyEvidenceBundle,
  amendmentId,
  amendmentMessage,
  type Actor,
  type AmendmentRecord,
  type LegalStore,
} from "../../../offchain/settlement/legal";
import { enqueueTrade, orderId, settlementDomain, signOrder, storeEvidenceSource } from "../../../offchain/settlement";
import type { SignedOrderFields } from "../../../offchain/settlement";
import { openStore, type Store } from "../../../offchain/store";
import { createTestDatabase } from "../../helpers/postgres";
import { seedTerms } from "./legal/seed";

/**
 * The same behaviour suite on MemoryLegalStore (the reference), SQLite and PostgreSQL: the legal services run
 * unchanged over the store's LegalRepository, and the settlement queue behaves the same on both engines.
 */
interface Engine {
  name: string;
  open(): Promise<{ legal: LegalStore; store?: Store; close(): Promise<void> } | { skip: string }>;
}

const ENGINES: Engine[] = [
  { name: "memory (reference)", open: async () => ({ legal: new MemoryLegalStore(), close: async () => {} }) },
  {
    name: "SQLite",
    async open() {
      const dir = mkdtempSync(path.join(tmpdir(), "mb-legal-"));
      const store = await openStore({ engine: "sqlite", path: path.join(dir, "legal.sqlite") });
      return {
        legal: store.legal,
        store,
        close: async () => {
          await store.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: "PostgreSQL",
    async open() {
      const db = await createTestDatabase("mb_settle_stores");
      if ("skip" in db) return db;
      const store = await openStore({ engine: "postgres", url: db.url, poolSize: 4 });
      return {
        legal: store.legal,
        store,
        close: async () => {
          await store.close();
          await db.drop();
        },
      };
    },
  },
];

const client = Wallet.createRandom();
const platform = Wallet.createRandom();
const domain = agreementDomain(31337n, "0x" + "11".repeat(20));

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof LegalError) return e.code;
    if (e && typeof e === "object" && "code" in e) return String((e as { code: unknown }).code);
    throw e;
  }
  return "no error";
}

for (const engine of ENGINES) {
  describe(`settlement stores on ${engine.name}`, function () {
    let legal: LegalStore;
    let store: Store | undefined;
    let close: () => Promise<void> = async () => {};

    before(async function () {
      const o = await engine.open();
      if ("skip" in o) {
        console.log(`    skipping ${engine.name}: ${o.skip}`);
        this.skip();
      }
      ({ legal, store, close } = o);
    });
    after(async () => close());

    it("keeps an agreement through prepare → both signatures → anchored → closed, bigints intact", async () => {
      const service = new AgreementService(legal, domain);
      const rec = await service.prepare(seedTerms(client.address, platform.address));
      const td = agreementTypedData(domain, agreementMessage(rec.document));
      await service.addSignature(td.message.agreementId, await platform.signTypedData(td.domain, td.types, td.message));
      const signed = await service.addSignature(
        td.message.agreementId,
        await client.signTypedData(td.domain, td.types, td.message),
      );
      expect(signed.status).to.equal("signed");
      await service.markAnchored(td.message.agreementId, {
        txHash: "0x" + "ab".repeat(32),
        blockNumber: 7,
        registry: domain.verifyingContract as string,
        chainId: 31337,
      });
      const closed = await service.markClosed(td.message.agreementId, "0x" + "cd".repeat(32));
      const back = await service.retrieve(td.message.agreementId, { address: client.address });
      expect(back).to.deep.equal(closed);
      expect(back.revision).to.equal(4);
      expect(back.document).to.deep.equal(rec.document); // every bigint term read back as a bigint
      expect((await legal.listAgreementsOf(platform.address.toUpperCase().replace("0X", "0x"))).length).to.equal(1);
      expect(await code(legal.insertAgreement(rec))).to.equal("LEGAL_CONFLICT");
      expect(await code(legal.updateAgreement(back, 1))).to.equal("LEGAL_CONFLICT"); // stale revision
      const other = { ...back, document: { ...back.document, terms: { ...back.document.terms, agreementId: "0x01" } } };
      expect(await code(legal.updateAgreement(other, 0))).to.equal("LEGAL_NOT_FOUND");
    });

    it("lets only one of two concurrent writers with the same revision win", async () => {
      const rec = (await legal.listAgreementsOf(client.address))[0];
      const results = await Promise.allSettled([
        legal.updateAgreement({ ...rec, finalSettlementHash: "0x01" }, rec.revision),
        legal.updateAgreement({ ...rec, finalSettlementHash: "0x02" }, rec.revision),
      ]);
      expect(results.filter((r) => r.status === "fulfilled")).to.have.length(1);
      const lost = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
      expect((lost.reason as LegalError).code).to.equal("LEGAL_CONFLICT");
    });

    it("keeps one amendment per (agreement, operation) and answers it by compare-and-swap: one of two wins", async () => {
      const agreementId = (await legal.listAgreementsOf(client.address))[0].document.terms.agreementId;
      const amendment = (operationId: string, effectiveAt: number): AmendmentRecord => ({
        id: amendmentId(agreementId, operationId),
        agreementId,
        client: client.address,
        operationId,
        target: "0x" + "22".repeat(20),
        contract: "MarginEngine",
        function: "setParams((uint64,uint64,uint64,uint64,uint32,uint32,uint32,uint128))",
        args: { gracePeriod: "7200" },
        data: "0x",
        effectiveAt,
        changes: [{ path: "margin.marginCallWindowSeconds", from: "3600", to: "7200" }],
        text: "修订 / amendment",
        textHash: keccak256(toUtf8Bytes("修订 / amendment")),
        status: "issued",
        issuedAt: "2026-12-07T00:00:00.000Z",
        revision: 0,
      });
      const late = Math.floor(Date.now() / 1000) + 86_400;
      const [a, b] = [amendment(keccak256("0x01"), late), amendment(keccak256("0x02"), late + 1)];
      expect(await Promise.all([legal.insertAmendment(a), legal.insertAmendment(a)])).to.have.members([true, false]);
      expect(await legal.insertAmendment(b)).to.equal(true);
      expect(await legal.insertAmendment({ ...b, id: keccak256("0x03") })).to.equal(false); // the same pair
      expect(await legal.getAmendment(a.id)).to.deep.equal(a);
      expect((await legal.listAmendmentsOf(agreementId)).map((x) => x.id)).to.deep.equal([a.id, b.id]);

      const service = new AmendmentService(legal, domain);
      for (const x of [a, b]) {
        const signature = await client.signTypedData(domain, AGREEMENT_AMENDMENT_TYPES, amendmentMessage(x));
        const answers = await Promise.allSettled([
          service.countersign(agreementId, x.id, client.address, signature),
          service.exit(agreementId, x.id, client.address),
        ]);
        expect(answers.filter((r) => r.status === "fulfilled")).to.have.length(1);
        const lost = answers.find((r) => r.status === "rejected") as PromiseRejectedResult;
        expect((lost.reason as LegalError).code).to.equal("LEGAL_CONFLICT");
      }
      expect(await legal.listAmendments("issued")).to.deep.equal([]);
      const answered = await legal.listAmendments();
      expect(answered.map((x) => x.revision)).to.deep.equal([1, 1]);
      expect(await code(legal.updateAmendment(answered[0], 0))).to.equal("LEGAL_CONFLICT");
      expect(await code(legal.updateAmendment({ ...answered[0], id: keccak256("0x04") }, 1))).to.equal(
        "LEGAL_NOT_FOUND",
      );
    });

    it("issues a statement once per period and refuses a different one; payment message ids are single-use", async () => {
      const s = {
        agreementId: "0xaa",
        account: client.address,
        from: "2027-01-02",
        to: "2027-01-02",
        json: '{"a":"1"}',
        hash: keccak256(toUtf8Bytes('{"a":"1"}')),
      };
      await legal.putStatement(s);
      await legal.putStatement(s); // the same statement again is fine
      expect(await legal.getStatement("0xaa", "2027-01-02", "2027-01-02")).to.deep.equal(s);
      expect(await code(legal.putStatement({ ...s, hash: "0x00" }))).to.equal("LEGAL_CONFLICT");
      const m = { messageId: "MB-1", createdAt: "2027-01-02T00:00:00", xml: "<x/>", hash: "0x1", endToEndIds: ["E1"] };
      await legal.putPaymentMessage(m);
      expect(await legal.getPaymentMessage("MB-1")).to.deep.equal(m);
      expect(await code(legal.putPaymentMessage(m))).to.equal("LEGAL_CONFLICT");
      expect(await legal.getPaymentMessage("MB-2")).to.equal(undefined);
    });

    it("lists the anchored agreements and each one's last daily statement (SQL engines)", async function () {
      if (!store) this.skip();
      const s = store!;
      const service = new AgreementService(s.legal, domain);
      const rec = await service.prepare(
        seedTerms(client.address, platform.address, { agreementId: "0x" + "e5".repeat(32) }),
      );
      const id = rec.document.terms.agreementId;
      const td = agreementTypedData(domain, agreementMessage(rec.document));
      expect((await s.legal.listAnchoredAgreements()).map((r) => r.document.terms.agreementId)).to.not.include(id);
      for (const w of [platform, client])
        await service.addSignature(id, await w.signTypedData(td.domain, td.types, td.message));
      await service.markAnchored(id, {
        txHash: "0x" + "ab".repeat(32),
        blockNumber: 8,
        registry: domain.verifyingContract as string,
        chainId: 31337,
      });
      // the closed agreement of the first test is not listed; the anchored one is
      expect((await s.legal.listAnchoredAgreements()).map((r) => r.document.terms.agreementId)).to.deep.equal([id]);
      const put = (from: string, to: string) =>
        s.legal.putStatement({
          agreementId: id,
          account: client.address,
          from,
          to,
          json: "{}",
          hash: `0x${from}${to}`,
        });
      expect(await s.legal.lastStatementDay(id, "2027-01-01")).to.equal(undefined);
      await put("2027-01-01", "2027-01-01");
      await put("2027-01-02", "2027-01-02");
      await put("2027-01-01", "2027-01-31"); // a monthly statement is not a daily one
      expect(await s.legal.lastStatementDay(id, "2027-01-01")).to.equal("2027-01-02");
      expect(await s.legal.lastStatementDay(id, "2027-01-03")).to.equal(undefined);
    });

    it("runs a dispute with its evidence bundle, filtered listing and optimistic concurrency", async () => {
      const me: Actor = { role: "client", id: client.address };
      const officer: Actor = { role: "officer", id: "officer-1" };
      let n = 0;
      const evidence = {
        collect: async () => [{ kind: "note" as const, id: "n1", data: { text: "fill at limit", amount: 15n } }],
        partiesOf: async () => [client.address],
      };
      const service = new DisputeService(
        legal,
        evidence,
        () => new Date(Date.UTC(2027, 0, 3, 0, 0, n)),
        () => {
          n++;
          return `D-${engine.name.length}-${n}`;
        },
      );
      const d = await service.open(me, { kind: "trade", ref: "T-1", account: client.address }, "too high");
      const bundle = await service.collectEvidence(officer, d.id);
      expect(verifyEvidenceBundle(JSON.parse(canonicalize(await legal.getEvidenceBundle(d.id)))).valid).to.equal(true);
      expect((await legal.getEvidenceBundle(d.id))!.manifest.root).to.equal(bundle.manifest.root);
      await service.startReview(officer, d.id);
      const done = await service.resolve(officer, d.id, { decision: "partially-upheld", summary: "x", adjustment: 5n });
      expect((await service.view(me, d.id)).outcome!.adjustment).to.equal(5n);
      expect(await legal.listDisputes({ account: client.address.toLowerCase(), status: "resolved" })).to.deep.equal([
        done,
      ]);
      expect(await legal.listDisputes({ status: "open" })).to.deep.equal([]);
      expect(await code(legal.updateDispute(done, done.revision - 1))).to.equal("LEGAL_CONFLICT");
      expect(await code(legal.insertDispute(done))).to.equal("LEGAL_CONFLICT");
    });

    const sqlOnly = engine.name.startsWith("memory") ? it.skip : it;
    sqlOnly("queues a trade once, assigns it to one batch only, and marks it settled only by index", async function () {
      const s = store!;
      const hub = "0x" + "22".repeat(20);
      const sd = settlementDomain(31337n, hub);
      const instrument = "0x" + "33".repeat(20);
      const buyer = Wallet.createRandom();
      const seller = Wallet.createRandom();
      const mk = (w: { address: string }, side: 0 | 1): SignedOrderFields => ({
        account: w.address,
        instrument,
        side,
        expiry: 2n ** 40n,
        limitPrice: 10n ** 30n * (side === 0 ? 2n : 1n), // above 2^64: exercises NUMERIC/TEXT amounts
        quantity: 100n,
        nonce: 1n,
      });
      const buy = mk(buyer, 0);
      const sell = mk(seller, 1);
      const trade = {
        tradeId: "T-1",
        instrument,
        buy,
        sell,
        buySig: await signOrder(buyer, sd, buy),
        sellSig: await signOrder(seller, sd, sell),
        buyOrderHash: orderId(buy),
        sellOrderHash: orderId(sell),
        quantity: 40n,
        price: 15n * 10n ** 29n,
      };
      expect(await enqueueTrade(s, trade, 1)).to.equal(true);
      expect(await enqueueTrade(s, trade, 2)).to.equal(false); // the order book retried: nothing changes
      // Another trade under the same id (e.g. two books numbering alike) is refused, never silently dropped.
      expect(await code(enqueueTrade(s, { ...trade, quantity: 39n }))).to.equal("CONFLICT");
      expect(await code(enqueueTrade(s, { ...trade, tradeId: "T-2", price: 3n * 10n ** 30n }))).to.equal(
        "VALIDATION_FAILED",
      );
      const [queued] = await s.settlement.pending(10);
      expect(queued).to.deep.include({ tradeId: "T-1", quantity: 40n, price: trade.price, status: "pending" });
      expect(queued.buy).to.deep.equal(buy);

      const batch = {
        batchId: "0x" + "0b".repeat(32),
        firstSeq: queued.seq,
        lastSeq: queued.seq,
        fills: 1,
        tradeCount: 1,
        gasEstimate: 190_000n,
        status: "submitted" as const,
        attempts: 0,
        lastError: null,
        txHash: null,
        tradesRoot: null,
        settledBlock: null,
        createdAt: 1,
        updatedAt: 1,
      };
      await s.transaction((tx) => tx.settlement.createBatch(batch, [{ tradeId: "T-1", index: 0 }]));
      // A second instance planning the same fill loses and leaves no batch behind.
      expect(
        await code(
          s.transaction((tx) =>
            tx.settlement.createBatch({ ...batch, batchId: "0x" + "0c".repeat(32) }, [{ tradeId: "T-1", index: 0 }]),
          ),
        ),
      ).to.equal("CONFLICT");
      expect(await s.settlement.batch("0x" + "0c".repeat(32))).to.equal(undefined);
      // Refused as a whole: the fill goes back to the queue, and planning the same fills again reuses the id.
      await s.transaction((tx) => tx.settlement.abandonBatch(batch.batchId, [], 2));
      expect((await s.settlement.trade("T-1"))!.status).to.equal("pending");
      expect((await s.settlement.batch(batch.batchId))!.status).to.equal("abandoned");
      await s.transaction((tx) => tx.settlement.createBatch(batch, [{ tradeId: "T-1", index: 0 }]));
      expect((await s.settlement.batch(batch.batchId))!.status).to.equal("submitted");
      expect(await s.settlement.markTradeSettled(batch.batchId, 1, 9, "0x01")).to.equal(0);
      expect(await s.settlement.markTradeSettled(batch.batchId, 0, 9, "0x01")).to.equal(1);
      // what the daily statements read: trades settled within a day's block range
      expect((await s.settlement.tradesSettledBetween(9, 9)).map((t) => [t.tradeId, t.settledTx])).to.deep.equal([
        ["T-1", "0x01"],
      ]);
      expect(await s.settlement.tradesSettledBetween(10, 20)).to.deep.equal([]);
      expect(await s.settlement.tradesSettledBetween(1, 8)).to.deep.equal([]);
      await s.settlement.resetSettled();
      expect((await s.settlement.trade("T-1"))!.status).to.equal("submitted");

      const items = await storeEvidenceSource(s, sd).collect({ kind: "trade", ref: "T-1", account: buyer.address });
      const signers = items.flatMap((i) => i.signed ?? []).map((x) => x.signer);
      expect(signers).to.deep.equal([buyer.address, seller.address]);
    });
  });
}
