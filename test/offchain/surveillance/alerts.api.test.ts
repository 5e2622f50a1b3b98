import { expect } from "chai";
import { Wallet } from "ethers";
import { silentLogger } from "../../../offchain/shared/logger";
import type { Store } from "../../../offchain/store";
import { FlowSurveillance, amlConfig, flowRules, runAml } from "../../../offchain/surveillance";
import { alertRoutes } from "../../../offchain/surveillance/alertRoutes";
import { surveillanceRoutes } from "../../../offchain/surveillance/routes";
import { PLATFORM_RISK_LIMITS } from "../../../scripts/lib/riskLimits";
import { startTestApi, type TestApi } from "../../helpers/api";
import { SeededFlow } from "../../helpers/orderFlow";
import { createTestDatabase } from "../../helpers/postgres";

const TIERS = Object.keys(PLATFORM_RISK_LIMITS.tiers);
const PORTS = { sqlite: 18970, postgres: 18971 };
const T0 = 1_800_000_000_000;

interface Alert {
  id: number;
  rule: string;
  account: string;
  status: string;
  version: number;
  proposedTier: string;
  evidence: {
    orderIds: number[];
    tradeIds: string[];
    figures: Record<string, number>;
    thresholds: Record<string, number>;
  };
  decidedBy: string | null;
  caseId: number | null;
}

/** A burst of orders without trades by `account` on its own book: raises burst, order-to-trade and cancel-rate. */
async function seedBurst(store: Store, book: string, account: string): Promise<void> {
  const f = new SeededFlow(book);
  for (let i = 0; i < 110; i++) f.cancel(T0 + i * 10 + 5, account, f.limit(T0 + i * 10, account, "buy", 900, 1));
  await f.write(store);
}

for (const engine of ["sqlite", "postgres"] as const) {
  describe(`surveillance alerts through the API: evidence, accept → flag, dismiss, cases (${engine})`, function () {
    this.timeout(60_000);
    let api: TestApi;
    let drop: (() => Promise<void>) | undefined;
    const stuffer = Wallet.createRandom().address.toLowerCase();
    const contested = Wallet.createRandom().address.toLowerCase();
    const mule = Wallet.createRandom().address.toLowerCase();

    before(async function () {
      let postgresUrl: string | undefined;
      if (engine === "postgres") {
        const db = await createTestDatabase("mb_surv_alerts");
        if ("skip" in db) {
          console.log(`    skipping surveillance alerts on PostgreSQL: ${db.skip}`);
          this.skip();
        }
        postgresUrl = db.url;
        drop = db.drop;
      }
      api = await startTestApi({
        port: PORTS[engine],
        postgresUrl,
        setup: async (store: Store) => ({
          capabilities: [surveillanceRoutes(store, TIERS), alertRoutes(store, TIERS)],
        }),
      });
      await seedBurst(api.store, "BOOK1", stuffer);
      await seedBurst(api.store, "BOOK2", contested);
      const job = new FlowSurveillance(api.store, { rules: flowRules(), tiers: TIERS, log: silentLogger });
      expect((await job.run(T0 + 3_600_000)).raised).to.equal(6);
    });
    after(async function () {
      await api?.close();
      await drop?.();
    });

    const list = async (q: string): Promise<Alert[]> =>
      (await api.client("risk_officer").get<{ alerts: Alert[] }>(`/v1/surveillance/alerts${q}`)).body.alerts;

    it("lists the alerts by status, kind and account, and shows each with its evidence against the thresholds", async function () {
      const mine = await list(`?status=open&kind=order-flow&account=${stuffer}`);
      expect(mine.map((a) => a.rule).sort()).to.deep.equal(["burst", "cancel-rate", "order-to-trade"]);
      const otr = mine.find((a) => a.rule === "order-to-trade")!;
      const one = await api.client("auditor").get<Alert>(`/v1/surveillance/alerts/${otr.id}`);
      expect(one.status).to.equal(200);
      expect(one.body.evidence.figures).to.deep.equal({ orders: 110, trades: 0, ratio: 110 });
      expect(one.body.evidence.thresholds).to.deep.equal({ minOrders: 100, maxRatio: 50 });
      expect(one.body.evidence.orderIds).to.have.length(50);
      expect(one.body).to.include({ status: "open", version: 1, proposedTier: "flagged", caseId: null });
      expect((await api.client("risk_officer").get("/v1/surveillance/alerts/999999")).status).to.equal(404);
      expect((await api.client("client").get("/v1/surveillance/alerts")).status).to.equal(403);
      expect((await api.client("risk_officer").get("/v1/surveillance/alerts?status=maybe")).status).to.equal(400);
    });

    it("nothing is flagged until an officer accepts; accepting sets the behaviour tier through the registry, audited", async function () {
      expect(await api.store.surveillance.tier(stuffer)).to.equal(undefined);
      const otr = (await list(`?account=${stuffer}`)).find((a) => a.rule === "order-to-trade")!;
      const officer = api.client("risk_officer");
      const bad = [
        { note: "x", expectedVersion: 1 },
        { note: "no version" },
        { note: "unknown tier", tier: "vip", expectedVersion: 1 },
        { note: "extra", expectedVersion: 1, extra: true },
      ];
      for (const body of bad)
        expect((await officer.post(`/v1/surveillance/alerts/${otr.id}/accept`, body)).status, body.note).to.equal(400);
      expect((await officer.get<Alert>(`/v1/surveillance/alerts/${otr.id}`)).body.status, "a refused accept").to.equal(
        "open",
      );
      expect(await api.store.surveillance.tier(stuffer)).to.equal(undefined);
      expect(
        (
          await api
            .client("operator")
            .post(`/v1/surveillance/alerts/${otr.id}/accept`, { note: "not mine", expectedVersion: 1 })
        ).status,
      ).to.equal(403);
      const accepted = await officer.post<Alert>(`/v1/surveillance/alerts/${otr.id}/accept`, {
        note: "110 orders, no trade: stuffing",
        expectedVersion: 1,
      });
      expect(accepted.status).to.equal(200);
      expect(accepted.body).to.include({
        status: "accepted",
        version: 2,
        decidedBy: "risk_officer:risk_officer-subject",
      });
      const tier = await officer.get<{ tier: string; record: { reasonCode: string; note: string } }>(
        `/v1/surveillance/behaviour-tiers/${stuffer}`,
      );
      expect(tier.body.tier).to.equal("flagged");
      expect(tier.body.record.reasonCode).to.equal("ORDER_STUFFING");
      expect(tier.body.record.note).to.match(new RegExp(`^alert ${otr.id} \\(order-to-trade\\)`));
      const again = await officer.post(`/v1/surveillance/alerts/${otr.id}/accept`, {
        note: "twice",
        expectedVersion: 2,
      });
      expect(again.status, "a decided alert is not decided again").to.equal(409);
      const audit = (await api.store.audit.list(1, 10_000)).filter((e) => e.action === "surveillance.alert.accept");
      expect(audit.map((e) => e.details.status)).to.include.members([200, 400, 409]);
    });

    it("two officers deciding one alert at once: one 200, the others 409, and one decision stands", async function () {
      const burst = (await list(`?account=${contested}`)).find((a) => a.rule === "burst")!;
      const officer = api.client("risk_officer");
      const answers = await Promise.all(
        ["accept", "dismiss", "accept", "dismiss"].map((action, i) =>
          officer.post<Alert>(`/v1/surveillance/alerts/${burst.id}/${action}`, {
            note: `officer ${i} decides`,
            expectedVersion: 1,
          }),
        ),
      );
      expect(answers.map((a) => a.status).sort()).to.deep.equal([200, 409, 409, 409]);
      const won = answers.find((a) => a.status === 200)!.body;
      const now = (await officer.get<Alert>(`/v1/surveillance/alerts/${burst.id}`)).body;
      expect(now).to.include({ status: won.status, version: 2 });
      const tier = await api.store.surveillance.tier(contested);
      if (won.status === "accepted") expect(tier).to.include({ tier: "flagged", version: 1 });
      else expect(tier).to.equal(undefined);
      expect(await api.store.surveillance.history(contested)).to.have.length(won.status === "accepted" ? 1 : 0);
    });

    it("dismissing leaves the tier alone; an officer may name another tier and an expiry when accepting", async function () {
      const [cancel, burst] = ["cancel-rate", "burst"].map((r) =>
        list(`?account=${stuffer}`).then((l) => l.find((a) => a.rule === r)!),
      );
      const officer = api.client("risk_officer");
      const d = await officer.post<Alert>(`/v1/surveillance/alerts/${(await cancel).id}/dismiss`, {
        note: "market maker re-quoting",
        expectedVersion: 1,
      });
      expect(d.body.status).to.equal("dismissed");
      expect((await api.store.surveillance.tier(stuffer))!.tier).to.equal("flagged");
      const until = Date.now() + 86_400_000;
      const a = await officer.post<Alert>(`/v1/surveillance/alerts/${(await burst).id}/accept`, {
        note: "restrict for a day",
        tier: "restricted",
        until,
        expectedVersion: 1,
      });
      expect(a.status).to.equal(200);
      expect(await api.store.surveillance.tier(stuffer)).to.include({ tier: "restricted", until, version: 2 });
    });

    it("an AML alert opens a case file; notes are appended with status changes, compare-and-swap, audited", async function () {
      const CASH = "0x00000000000000000000000000000000000000c1";
      for (const [event, block] of [
        ["CollateralDeposited", 10],
        ["CollateralWithdrawn", 20],
      ] as const)
        await api.store.chain.insertEvent("main", {
          blockNumber: block,
          logIndex: 0,
          blockHash: "0x" + "2".repeat(64),
          txHash: "0x" + String(block).padStart(64, "0"),
          contract: "MarginEngine",
          address: "0x00000000000000000000000000000000000000e1",
          event,
          topics: [],
          data: "0x",
          args: { account: mule, asset: CASH, amount: "7000000000" },
        });
      await api.store.chain.setCursor("main", { blockNumber: 20, blockHash: "0x" });
      await runAml(api.store, TIERS, amlConfig());
      const aml = await list(`?kind=aml&account=${mule}`);
      expect(aml.map((a) => a.rule).sort()).to.deep.equal(["aml-no-trading", "aml-rapid"]);
      const officer = api.client("risk_officer");
      const caseId = aml[0].caseId!;
      const cases = await officer.get<{ cases: { id: number }[] }>("/v1/surveillance/cases?status=open");
      expect(cases.body.cases.map((c) => c.id)).to.include(caseId);
      const note = await officer.post<{ case: { status: string; version: number }; notes: { note: string }[] }>(
        `/v1/surveillance/cases/${caseId}/notes`,
        { note: "asked the client for the source of funds", status: "investigating", expectedVersion: 1 },
      );
      expect(note.status).to.equal(200);
      expect(note.body.case).to.include({ status: "investigating", version: 2 });
      const stale = await officer.post(`/v1/surveillance/cases/${caseId}/notes`, {
        note: "stale view",
        expectedVersion: 1,
      });
      expect(stale.status).to.equal(409);
      expect(
        (await officer.post(`/v1/surveillance/cases/${caseId}/notes`, { note: "", expectedVersion: 2 })).status,
      ).to.equal(400);
      expect(
        (
          await api
            .client("auditor")
            .post(`/v1/surveillance/cases/${caseId}/notes`, { note: "auditor", expectedVersion: 2 })
        ).status,
      ).to.equal(403);
      const file = await api.client("auditor").get<{
        case: { status: string };
        alert: { account: string; evidence: { deposit: { amount: string } } };
        notes: { note: string; author: string; status: string }[];
      }>(`/v1/surveillance/cases/${caseId}`);
      expect(file.body.case.status).to.equal("investigating");
      expect(file.body.alert.account).to.equal(mule);
      expect(file.body.alert.evidence.deposit.amount).to.equal("7000000000");
      expect(file.body.notes.map(({ note, author, status }) => ({ note, author, status }))).to.deep.equal([
        {
          note: "asked the client for the source of funds",
          author: "risk_officer:risk_officer-subject",
          status: "investigating",
        },
      ]);
      const audited = (await api.store.audit.list(1, 10_000)).filter((e) => e.action === "surveillance.case.note");
      // the write and the refused stale one are audited with their answers (a malformed body never reaches the handler)
      expect(audited.map((e) => e.details.status)).to.deep.equal([200, 409]);
    });
  });
}
