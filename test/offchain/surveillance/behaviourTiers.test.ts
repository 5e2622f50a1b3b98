import { expect } from "chai";
import { Wallet } from "ethers";
import { ApiClient, createApiKey } from "../../../offchain/api";
import { surveillanceRoutes } from "../../../offchain/surveillance/routes";
import type { Store } from "../../../offchain/store";
import { PLATFORM_RISK_LIMITS } from "../../../scripts/lib/riskLimits";
import { TEST_SECRET_KEY, startTestApi, type TestApi } from "../../helpers/api";
import { createTestDatabase } from "../../helpers/postgres";

const TIERS = Object.keys(PLATFORM_RISK_LIMITS.tiers);
const PORTS = { sqlite: 18941, postgres: 18942 };

type Rec = { tier: string; version: number; reasonCode: string; note: string; until: number | null };

for (const engine of ["sqlite", "postgres"] as const) {
  describe(`surveillance: behaviour tiers a risk officer sets (${engine})`, function () {
    let api: TestApi;
    let drop: (() => Promise<void>) | undefined;
    const account = Wallet.createRandom().address;
    const path = `/v1/surveillance/behaviour-tiers/${account}`;
    let officer: ApiClient;

    before(async function () {
      let postgresUrl: string | undefined;
      if (engine === "postgres") {
        const db = await createTestDatabase("mb_surveillance");
        if ("skip" in db) {
          console.log(`    skipping behaviour tiers on PostgreSQL: ${db.skip}`);
          this.skip();
        }
        postgresUrl = db.url;
        drop = db.drop;
      }
      api = await startTestApi({
        port: PORTS[engine],
        postgresUrl,
        setup: async (store: Store) => ({ capabilities: [surveillanceRoutes(store, TIERS)] }),
      });
      officer = api.client("risk_officer");
    });
    after(async function () {
      await api?.close();
      await drop?.();
    });

    it("offers the order books' configured tiers, standard, flagged and restricted", function () {
      expect(TIERS).to.include.members(["standard", "flagged", "restricted"]);
      expect(PLATFORM_RISK_LIMITS.tiers.restricted.sellOnly).to.equal(true);
    });

    it("refuses bad input with a 400 and writes nothing; only a risk officer may set", async function () {
      const bad = [
        { tier: "vip", reasonCode: "MANUAL_REVIEW", note: "no such tier" },
        { tier: "standard", reasonCode: "MANUAL_REVIEW", note: "clearing is its own call" },
        { tier: "flagged", reasonCode: "BECAUSE", note: "unknown reason" },
        { tier: "flagged", reasonCode: "MANUAL_REVIEW", note: "x" },
        { tier: "flagged", reasonCode: "MANUAL_REVIEW", note: "in the past", until: 1 },
        { tier: "flagged", reasonCode: "MANUAL_REVIEW", note: "extra field", extra: 1 },
      ];
      for (const body of bad) expect((await officer.request("PUT", path, { body })).status, body.note).to.equal(400);
      for (const role of ["client", "operator", "kyc_officer", "auditor"] as const)
        expect(
          (
            await api
              .client(role)
              .request("PUT", path, { body: { tier: "flagged", reasonCode: "MANUAL_REVIEW", note: "not mine" } })
          ).status,
          role,
        ).to.equal(403);
      expect(await api.store.surveillance.tier(account)).to.equal(undefined);
      expect(await api.store.surveillance.history(account)).to.deep.equal([]);
    });

    it("flags, restricts and clears with reasons; every change is in the tier's history and the audit log", async function () {
      const flagged = await officer.request<Rec>("PUT", path, {
        body: { tier: "flagged", reasonCode: "ORDER_STUFFING", note: "4,000 orders, 3 trades in an hour" },
      });
      expect(flagged.status).to.equal(200);
      expect(flagged.body).to.include({ tier: "flagged", version: 1, reasonCode: "ORDER_STUFFING" });
      const restricted = await officer.request<Rec>("PUT", path, {
        body: {
          tier: "restricted",
          reasonCode: "AML_REVIEW",
          note: "deposits out without trading",
          expectedVersion: 1,
        },
      });
      expect(restricted.body).to.include({ tier: "restricted", version: 2 });
      const list = await officer.get<{ tiers: (Rec & { account: string; effective: boolean })[] }>(
        "/v1/surveillance/behaviour-tiers",
      );
      expect(list.body.tiers.find((t) => t.account === account.toLowerCase())).to.include({
        tier: "restricted",
        effective: true,
      });
      const cleared = await officer.post<{ action: string; version: number }>(`${path}/clear`, {
        reasonCode: "REVIEW_CLEARED",
        note: "source of funds documented",
        expectedVersion: 2,
      });
      expect(cleared.status).to.equal(200);
      expect(cleared.body).to.include({ action: "clear", version: 3 });
      expect((await officer.post(`${path}/clear`, { reasonCode: "REVIEW_CLEARED", note: "again" })).status).to.equal(
        404,
      );
      const view = await officer.get<{
        tier: string;
        record: null;
        history: { action: string; tier: string; actor: string }[];
      }>(path);
      expect(view.body.tier).to.equal("standard");
      expect(view.body.record).to.equal(null);
      expect(view.body.history.map((h) => [h.action, h.tier])).to.deep.equal([
        ["set", "flagged"],
        ["set", "restricted"],
        ["clear", "standard"],
      ]);
      expect(view.body.history[0].actor).to.equal("risk_officer:risk_officer-subject");
      // every write is audited with its answer; the three that changed this account answered 200
      const audit = (await api.store.audit.list(1, 1_000)).filter(
        (e) => (e.details.params as { account?: string }).account === account && e.details.status === 200,
      );
      expect(audit.map((e) => e.action)).to.deep.equal([
        "surveillance.tier.set",
        "surveillance.tier.set",
        "surveillance.tier.clear",
      ]);
      // the refused attempts (the 400 whose tier was in the past) are in the audit log too, with their answer
      expect(
        (await api.store.audit.list(1, 1_000)).some(
          (e) => e.action === "surveillance.tier.set" && e.details.status === 400,
        ),
      ).to.equal(true);
    });

    it("two officers deciding at once on the version they read: one change lands, the other is told (409) and writes nothing", async function () {
      const other = Wallet.createRandom().address;
      const p = `/v1/surveillance/behaviour-tiers/${other}`;
      const answers = await Promise.all(
        ["flagged", "restricted", "flagged", "restricted"].map((tier, i) =>
          officer.request<Rec>("PUT", p, {
            body: { tier, reasonCode: "MANUAL_REVIEW", note: `officer ${i}`, expectedVersion: 0 },
          }),
        ),
      );
      expect(answers.map((a) => a.status).sort()).to.deep.equal([200, 409, 409, 409]);
      const won = answers.find((a) => a.status === 200)!.body;
      expect(await api.store.surveillance.tier(other)).to.include({ tier: won.tier, note: won.note, version: 1 });
      expect(await api.store.surveillance.history(other)).to.have.length(1);
    });

    it("a client sees its own tier and reason, without the officers' notes and names, and no one else's", async function () {
      const me = Wallet.createRandom().address;
      const key = await createApiKey(api.store, TEST_SECRET_KEY, {
        role: "client",
        subject: me.toLowerCase(),
        label: "me",
      });
      const client = new ApiClient(api.running.url, key);
      await officer.request("PUT", `/v1/surveillance/behaviour-tiers/${me}`, {
        body: {
          tier: "flagged",
          reasonCode: "HIGH_CANCEL_RATE",
          note: "internal: case 17",
          until: Date.now() + 86_400_000,
        },
      });
      const mine = await client.get<{ tier: string; record: Rec; history: { note: string; actor: string }[] }>(
        `/v1/surveillance/behaviour-tiers/${me}`,
      );
      expect(mine.status).to.equal(200);
      expect(mine.body.tier).to.equal("flagged");
      expect(mine.body.record).to.include({ reasonCode: "HIGH_CANCEL_RATE", note: "" });
      expect(mine.body.history[0]).to.include({ note: "", actor: "risk_officer" });
      expect((await client.get(path)).status).to.equal(403);
    });

    it("a tier lapses back to standard at its until", async function () {
      const acct = Wallet.createRandom().address;
      await officer.request("PUT", `/v1/surveillance/behaviour-tiers/${acct}`, {
        body: { tier: "flagged", reasonCode: "PRICE_BAND_PROBING", note: "for one second", until: Date.now() + 1_000 },
      });
      expect((await officer.get<{ tier: string }>(`/v1/surveillance/behaviour-tiers/${acct}`)).body.tier).to.equal(
        "flagged",
      );
      await new Promise((r) => setTimeout(r, 1_100));
      expect((await officer.get<{ tier: string }>(`/v1/surveillance/behaviour-tiers/${acct}`)).body.tier).to.equal(
        "standard",
      );
    });
  });
}
