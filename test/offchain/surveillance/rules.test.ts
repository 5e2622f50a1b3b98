import { expect } from "chai";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Wallet } from "ethers";
import { sealIdentity } from "../../../offchain/kyc";
import { silentLogger } from "../../../offchain/shared/logger";
import { openStore, type AlertRecord, type Store } from "../../../offchain/store";
import {
  FlowSurveillance,
  amlConfig,
  flowRules,
  rescreenOnListChange,
  runAml,
  type FlowRulesConfig,
} from "../../../offchain/surveillance";
import type { DeepPartial } from "../../../offchain/surveillance/rules";
import { SeededFlow } from "../../helpers/orderFlow";
import { createTestDatabase } from "../../helpers/postgres";

const TIERS = ["standard", "flagged", "restricted"];
/** A window-aligned start (5-minute windows) and a clock past every window the tests fill. */
const T0 = 1_800_000_000_000;
const LATER = T0 + 3_600_000;
const who = (): string => Wallet.createRandom().address.toLowerCase();

function job(store: Store, rules: DeepPartial<FlowRulesConfig> = {}, groups?: Map<string, string>): FlowSurveillance {
  return new FlowSurveillance(store, {
    rules: flowRules(rules),
    tiers: TIERS,
    log: silentLogger,
    groups: groups ? async () => (a) => groups.get(a) : undefined,
  });
}

async function alertsOf(store: Store, account: string): Promise<AlertRecord[]> {
  return store.alerts.list({ account });
}
const rules = async (store: Store, account: string): Promise<string[]> =>
  (await alertsOf(store, account)).map((a) => a.rule).sort();

for (const engine of ["sqlite", "postgres"] as const) {
  describe(`surveillance rules on seeded order flows (${engine})`, function () {
    this.timeout(60_000);
    let store: Store;
    let drop: (() => Promise<void>) | undefined;

    before(async function () {
      if (engine === "postgres") {
        const db = await createTestDatabase("mb_surv_rules");
        if ("skip" in db) {
          console.log(`    skipping surveillance rules on PostgreSQL: ${db.skip}`);
          this.skip();
        }
        drop = db.drop;
        store = await openStore({ engine: "postgres", url: db.url, poolSize: 4 });
      } else
        store = await openStore({
          engine: "sqlite",
          path: path.join(mkdtempSync(path.join(tmpdir(), "mb-surv-")), "s.db"),
        });
    });
    after(async function () {
      await store?.close();
      await drop?.();
    });

    it("order stuffing: orders without trades, nearly all cancelled, in a burst; a normal trader raises nothing", async function () {
      const f = new SeededFlow("STUFF");
      const stuffer = who();
      const normal = who();
      const other = who();
      for (let i = 0; i < 120; i++) {
        const id = f.limit(T0 + i * 10, stuffer, "buy", 990 - (i % 5), 1);
        if (i < 118) f.cancel(T0 + i * 10 + 5, stuffer, id);
      }
      f.take(T0 + 2_000, stuffer, "buy", other, f.limit(T0 + 1_990, other, "sell", 1_000, 1), 1_000);
      for (let i = 0; i < 40; i++) {
        const t = T0 + 3_000 + i * 5_000;
        const maker = who(); // a normal trader meets whoever is on the other side
        if (i % 3 === 0) f.take(t, normal, "buy", maker, f.limit(t, maker, "sell", 1_000, 1), 1_000);
        else f.cancel(t + 1_000, normal, f.limit(t, normal, "buy", 995, 2));
      }
      await f.write(store);
      const r = await job(store).run(LATER);
      expect(r.events).to.be.greaterThan(200);
      expect(await rules(store, stuffer)).to.deep.equal(["burst", "cancel-rate", "order-to-trade"]);
      expect(await rules(store, normal)).to.deep.equal([]);
      expect(await rules(store, other)).to.deep.equal([]);
      const otr = (await alertsOf(store, stuffer)).find((a) => a.rule === "order-to-trade")!;
      expect(otr).to.include({
        status: "open",
        reasonCode: "ORDER_STUFFING",
        proposedTier: "flagged",
        kind: "order-flow",
      });
      expect(otr.evidence.figures).to.deep.equal({ orders: 121, trades: 1, ratio: 121 });
      expect(otr.evidence.thresholds).to.deep.equal({ minOrders: 100, maxRatio: 50 });
      expect((otr.evidence.orderIds as number[]).length).to.equal(50);
      expect((otr.evidence.tradeIds as string[])[0]).to.match(/^STUFF:\d+-1$/);
      const burst = (await alertsOf(store, stuffer)).find((a) => a.rule === "burst")!;
      expect((burst.evidence.figures as Record<string, number>).ordersInBurst).to.be.greaterThan(20);
    });

    it("re-runs, and a restarted reader over the same store, raise nothing twice; the cursor survives", async function () {
      const before = (await store.alerts.list()).length;
      const again = await job(store).run(LATER);
      expect(again.raised).to.equal(0);
      expect((await store.alerts.list()).length).to.equal(before);
      expect(await store.alerts.cursor("journal:STUFF")).to.be.greaterThan(200);
      // new entries continue from the cursor: only the new window is read
      const f = new SeededFlow("STUFF");
      (f as unknown as { seq: number }).seq = await store.orderbook.lastSeq("STUFF");
      const acct = who();
      for (let i = 0; i < 30; i++) f.limit(LATER + i * 10, acct, "sell", 1_010, 1);
      await f.write(store);
      const next = await job(store).run(LATER + 3_600_000);
      expect(next.events).to.equal(30);
      expect(await rules(store, acct)).to.deep.equal(["burst"]);
    });

    it("wash-like: the same two accounts trading with each other again and again; many counterparties raise nothing", async function () {
      const f = new SeededFlow("WASH");
      const [a, b, spread] = [who(), who(), who()];
      for (let i = 0; i < 12; i++) f.trade(T0 + i * 1_000, i % 2 ? a : b, i % 2 ? b : a);
      for (let i = 0; i < 12; i++) f.trade(T0 + i * 1_000 + 500, spread, who());
      await f.write(store);
      await job(store).run(LATER);
      expect(await rules(store, a)).to.deep.equal(["wash-like"]);
      expect(await rules(store, b)).to.deep.equal(["wash-like"]);
      expect(await rules(store, spread)).to.deep.equal([]);
      const alert = (await alertsOf(store, a))[0];
      expect(alert.reasonCode).to.equal("WASH_LIKE_TRADING");
      expect(alert.evidence).to.include({ counterparty: b, linked: false });
      expect(alert.evidence.figures).to.deep.equal({ tradesWithCounterparty: 12, trades: 12, shareBps: 10_000 });
      expect(alert.evidence.tradeIds as string[]).to.have.length(12);
    });

    it("wash-like between linked accounts: three trades inside one group are enough once groups are plugged in", async function () {
      const f = new SeededFlow("LINKED");
      const [x, y] = [who(), who()];
      for (let i = 0; i < 3; i++) f.trade(T0 + i * 1_000, x, y);
      await f.write(store);
      await job(store).run(LATER);
      expect(await rules(store, x), "without groups: three trades are nothing").to.deep.equal([]);
      await store.alerts.setCursor("journal:LINKED", 0);
      await job(
        store,
        {},
        new Map([
          [x, "g1"],
          [y, "g1"],
        ]),
      ).run(LATER);
      const alert = (await alertsOf(store, x))[0];
      expect(alert).to.include({ rule: "wash-like", reasonCode: "LINKED_ACCOUNTS" });
      expect(alert.evidence).to.include({ counterparty: "group:g1", linked: true });
    });

    it("price band: orders refused at the band again and again; other refusals and a few band hits raise nothing", async function () {
      const [prober, busy] = [who(), who()];
      for (let i = 0; i < 6; i++)
        await store.alerts.recordRefusal({
          instrument: "BAND",
          account: prober,
          orderId: 100 + i,
          code: "PRICE_BAND",
          at: T0 + i,
        });
      for (let i = 0; i < 6; i++)
        await store.alerts.recordRefusal({
          instrument: "BAND",
          account: busy,
          orderId: 200 + i,
          code: i < 3 ? "PRICE_BAND" : "ORDER_RATE_LIMIT",
          at: T0 + i,
        });
      await job(store).run(LATER);
      const alerts = await alertsOf(store, prober);
      expect(alerts.map((a) => a.rule)).to.deep.equal(["price-band"]);
      expect(alerts[0].evidence.orderIds).to.deep.equal([100, 101, 102, 103, 104, 105]);
      expect(alerts[0].evidence.figures).to.deep.equal({ refusals: 6 });
      expect(await rules(store, busy)).to.deep.equal([]);
    });

    it("layering: large orders away from the touch cancelled right after trading on the other side; honest re-pricing raises nothing", async function () {
      const f = new SeededFlow("LAYER");
      const [layerer, honest, mm] = [who(), who(), who()];
      f.trade(T0, mm, who(), 1_000); // the last trade price: 1,000
      for (let i = 0; i < 3; i++) {
        const t = T0 + 10_000 * (i + 1);
        const big = f.limit(t, layerer, "sell", 1_020, 500); // 2 % above the last trade, on the passive side
        f.take(t + 200, layerer, "buy", mm, f.limit(t + 100, mm, "sell", 1_000, 1), 1_000);
        f.cancel(t + 800, layerer, big);
        const slow = f.limit(t, honest, "sell", 1_020, 500);
        f.cancel(t + 9_000, honest, slow); // cancelled, but never after trading the other side
      }
      await f.write(store);
      await job(store).run(LATER);
      const alerts = await alertsOf(store, layerer);
      expect(alerts.map((a) => a.rule)).to.deep.equal(["layering"]);
      expect(alerts[0].evidence.figures).to.deep.equal({ events: 3, largestLots: 500 });
      expect(alerts[0].evidence.orderIds as number[]).to.have.length(3);
      expect(alerts[0].evidence.tradeIds as string[]).to.have.length(3);
      expect(await rules(store, honest)).to.deep.equal([]);
    });

    it("a rule set to act automatically flags the account without a person; otherwise nothing is flagged", async function () {
      const f = new SeededFlow("AUTO");
      const [auto, manual] = [who(), who()];
      for (let i = 0; i < 25; i++) f.limit(T0 + i, auto, "buy", 900, 1);
      await f.write(store);
      await job(store, { burst: { autoAct: true } }).run(LATER);
      const a = (await alertsOf(store, auto))[0];
      expect(a).to.include({ rule: "burst", status: "accepted", decidedBy: "system:surveillance" });
      expect(await store.surveillance.tier(auto)).to.include({ tier: "flagged", reasonCode: "ORDER_STUFFING" });
      const g = new SeededFlow("MANUAL");
      for (let i = 0; i < 25; i++) g.limit(T0 + i, manual, "buy", 900, 1);
      await g.write(store);
      await job(store).run(LATER);
      expect((await alertsOf(store, manual))[0].status).to.equal("open");
      expect(await store.surveillance.tier(manual)).to.equal(undefined);
    });

    describe("AML over indexed MarginEngine events", function () {
      const CASH = "0x00000000000000000000000000000000000000c1";
      let block = 0;
      let log = 0;
      async function event(name: string, args: Record<string, string>, at: number): Promise<void> {
        block = at;
        await store.chain.insertEvent("main", {
          blockNumber: at,
          logIndex: log++,
          blockHash: `0x${"1".repeat(64)}`,
          txHash: `0x${(log + at * 1000).toString(16).padStart(64, "0")}`,
          contract: "MarginEngine",
          address: "0x00000000000000000000000000000000000000e1",
          event: name,
          topics: [],
          data: "0x",
          args,
        });
      }
      const confirm = (): Promise<void> => store.chain.setCursor("main", { blockNumber: block, blockHash: "0x" });

      it("in and out with no trade, and within a few blocks, raise AML alerts with a case file; trading in between does not", async function () {
        const [mule, trader] = [who(), who()];
        await event("CollateralDeposited", { account: mule, asset: CASH, amount: "50000000000" }, 10);
        await event("CollateralDeposited", { account: trader, asset: CASH, amount: "50000000000" }, 11);
        await event(
          "TradeLegsSettled",
          { buyer: trader, seller: who(), asset: CASH, units: "10", cashAmount: "1" },
          300,
        );
        await event("CollateralWithdrawn", { account: mule, asset: CASH, amount: "49000000000" }, 40);
        await event("CollateralWithdrawn", { account: trader, asset: CASH, amount: "49000000000" }, 500);
        await confirm();
        const r = await runAml(store, TIERS, amlConfig());
        expect(r.raised).to.equal(2);
        expect(await rules(store, mule)).to.deep.equal(["aml-no-trading", "aml-rapid"]);
        expect(await rules(store, trader)).to.deep.equal([]);
        const a = (await alertsOf(store, mule)).find((x) => x.rule === "aml-no-trading")!;
        expect(a).to.include({ kind: "aml", reasonCode: "AML_REVIEW", amount: 49_000_000_000n });
        expect(a.evidence.tradedBetween).to.equal(false);
        expect(await store.alerts.caseOfAlert(a.id)).to.include({ status: "open", account: mule });
        expect((await runAml(store, TIERS, amlConfig())).raised, "a re-run").to.equal(0);
      });

      it("amounts just under the reporting threshold, repeated, raise a structuring alert; amounts well under do not", async function () {
        const [structurer, small] = [who(), who()];
        const c = amlConfig({
          structuring: {
            enabled: true,
            thresholds: { [CASH]: "10000000000" },
            marginBps: 1_000,
            minCount: 2,
            lookbackBlocks: 50_000,
          },
        });
        await event("CollateralDeposited", { account: structurer, asset: CASH, amount: "9500000000" }, 600);
        await event("CollateralDeposited", { account: structurer, asset: CASH, amount: "9900000000" }, 610);
        await event("CollateralDeposited", { account: small, asset: CASH, amount: "5000000000" }, 611);
        await event("CollateralDeposited", { account: small, asset: CASH, amount: "10000000000" }, 612);
        await confirm();
        await runAml(store, TIERS, c);
        const a = await alertsOf(store, structurer);
        expect(a.map((x) => x.rule)).to.deep.equal(["aml-structuring"]);
        expect(a[0].amount).to.equal(19_400_000_000n);
        expect(await rules(store, small)).to.deep.equal([]);
      });
    });

    it("sanctions re-screen: a new list screens every active client once; a hit raises an alert with its case", async function () {
      const key = Buffer.alloc(32, 7);
      const clients = { hit: who(), clean: who() };
      for (const [name, account] of [
        ["Luis Fernando Martinez Garza", clients.hit],
        ["Wang Xiaoming", clients.clean],
      ] as const) {
        const id = `kyc_${account.slice(2, 10)}`;
        const identity = {
          fullName: name,
          dateOfBirth: "1975-07-02",
          nationality: "CN",
          documentType: "passport" as const,
          documentNumber: `P${account.slice(2, 10)}`,
          homeAddress: "1 Example Road, Shanghai",
        };
        const { sealed, hash } = sealIdentity(key, id, identity);
        await store.kyc.insert({
          id,
          account,
          submittedBy: "test",
          status: "approved",
          identitySealed: sealed,
          identityHash: hash,
          jurisdiction: 156,
          score: 70,
          tier: 3,
          maxLeverage: 3n * 10n ** 18n,
          screening: [],
          reviewReasons: [],
          expiresAt: null,
          txHash: null,
          createdAt: T0,
          updatedAt: T0,
          suitability: null,
        });
      }
      const file = path.join(mkdtempSync(path.join(tmpdir(), "mb-sdn-")), "sdn.csv");
      writeFileSync(
        file,
        `912,"MARTINEZ GARZA, Luis Fernando","individual","SDNTK","-0- ","-0- ","-0- ","-0- ","-0- ","-0- ","-0- ","test"\n`,
      );
      const o = { file, dataKey: key, threshold: 0.85, tier: "restricted", autoAct: false };
      const r = await rescreenOnListChange(store, TIERS, o);
      expect(r).to.include({ hits: 1, raised: 1 });
      expect(r!.screened).to.be.at.least(2);
      const [a] = await alertsOf(store, clients.hit);
      expect(a).to.include({ kind: "sanctions", reasonCode: "SANCTIONS_REVIEW", proposedTier: "restricted" });
      expect(await store.alerts.caseOfAlert(a.id)).to.not.equal(undefined);
      expect(await alertsOf(store, clients.clean)).to.deep.equal([]);
      expect(await rescreenOnListChange(store, TIERS, o), "the same list again").to.equal(undefined);
    });
  });
}
