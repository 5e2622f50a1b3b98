import { expect } from "chai";
import { Wallet, hexlify, randomBytes } from "ethers";
import type { ApiClient } from "../../../offchain/api";
import type { Store } from "../../../offchain/store";
import { GroupDirectory, runReviews } from "../../../offchain/surveillance";
import { groupRoutes } from "../../../offchain/surveillance/groupRoutes";
import { surveillanceRoutes } from "../../../offchain/surveillance/routes";
import { PLATFORM_RISK_LIMITS } from "../../../scripts/lib/riskLimits";
import { startTestApi, type TestApi } from "../../helpers/api";
import { createTestDatabase } from "../../helpers/postgres";

const TIERS = Object.keys(PLATFORM_RISK_LIMITS.tiers);
const PORTS = { sqlite: 18953, postgres: 18954 };
const WAD = 10n ** 18n;
const CNY = 10n ** 6n;
const THRESHOLDS = { windowMs: 7 * 86_400_000, leverageUsage: 4n * WAD, marginCalls: 2, lossShare: 3n * 10n ** 17n };

const newAccount = (): string => Wallet.createRandom().address.toLowerCase();

type Review = { id: number; account: string; reason: string; figure: string; status: string; version: number };

for (const engine of ["sqlite", "postgres"] as const) {
  describe(`surveillance: linked accounts and the review queue in the store (${engine})`, function () {
    let api: TestApi;
    let drop: (() => Promise<void>) | undefined;
    let officer: ApiClient;
    let store: Store;

    async function identity(account: string, hash: string, revoked = false): Promise<void> {
      await store.projections.upsertIdentity({
        account,
        tier: 2,
        jurisdiction: 156,
        expiresAt: 2_000_000_000,
        identityHash: hash,
        revoked,
        revokeReason: revoked ? "test" : null,
        blockNumber: 1,
      });
    }

    async function application(account: string, hash: string, status: "approved" | "rejected"): Promise<void> {
      const now = Date.now();
      await store.kyc.insert({
        id: `app-${account}`,
        account,
        submittedBy: "key",
        status,
        identitySealed: "sealed",
        identityHash: hash,
        jurisdiction: 156,
        score: 50,
        tier: 2,
        maxLeverage: 2n * WAD,
        screening: [],
        reviewReasons: [],
        expiresAt: null,
        txHash: null,
        createdAt: now,
        updatedAt: now,
        suitability: null,
      });
    }

    before(async function () {
      let postgresUrl: string | undefined;
      if (engine === "postgres") {
        const db = await createTestDatabase("mb_groups");
        if ("skip" in db) {
          console.log(`    skipping linked accounts on PostgreSQL: ${db.skip}`);
          this.skip();
        }
        postgresUrl = db.url;
        drop = db.drop;
      }
      api = await startTestApi({
        port: PORTS[engine],
        postgresUrl,
        setup: async (s: Store) => ({
          capabilities: [
            surveillanceRoutes(s, TIERS),
            groupRoutes(s, TIERS, { usage: () => undefined, selfTrade: "refuse" }),
          ],
        }),
      });
      store = api.store;
      officer = api.client("risk_officer");
    });
    after(async function () {
      await api?.close();
      await drop?.();
    });

    it("groups accounts by identity hash (chain and approved KYC records) and by owner, transitively; nothing else", async () => {
      const [a, b, c, d, accomplice, rejected, revoked] = Array.from({ length: 7 }, newAccount);
      const person = hexlify(randomBytes(32));
      await identity(a, person);
      await application(b, person, "approved"); // a KYC record not yet on chain links too
      await application(rejected, person, "rejected"); // a rejected application links nothing
      await identity(revoked, person, true); // nor a revoked identity
      await identity(accomplice, hexlify(randomBytes(32)));
      await identity(c, hexlify(randomBytes(32)));
      await officer.request("PUT", `/v1/surveillance/accounts/${b}/beneficial-owner`, {
        body: { owner: "LEI-5493001KJTIIGC8Y1R12", note: "b and c: one fund" },
      });
      await officer.request("PUT", `/v1/surveillance/accounts/${c}/beneficial-owner`, {
        body: { owner: "LEI-5493001KJTIIGC8Y1R12", note: "b and c: one fund" },
      });
      await officer.request("PUT", `/v1/surveillance/accounts/${d}/beneficial-owner`, {
        body: { owner: "someone else", note: "alone" },
      });
      const members = [a, b, c].sort();
      for (const x of members) expect(await store.groups.connected(x)).to.deep.equal(members);
      for (const x of [accomplice, rejected, revoked, d]) expect(await store.groups.connected(x)).to.deep.equal([x]);
      const list = await officer.get<{ groups: { id: string; members: string[]; links: { key: string }[] }[] }>(
        "/v1/surveillance/groups",
      );
      const g = list.body.groups.find((x) => x.members.includes(a))!;
      expect(g).to.deep.include({ id: members[0], members });
      expect(g.links.map((l) => l.key).sort()).to.deep.equal([`id:${person}`, "owner:LEI-5493001KJTIIGC8Y1R12"]);
      expect(list.body.groups.some((x) => x.members.includes(accomplice) || x.members.includes(d))).to.equal(false);
      expect((await officer.get(`/v1/surveillance/groups/${accomplice}`)).status).to.equal(404);
    });

    it("the group directory reads a group once per ttl, and a declared owner clears it", async () => {
      const [a, b] = [newAccount(), newAccount()];
      let t = 1_000;
      const dir = new GroupDirectory(store, 60_000, () => t);
      expect(await dir.groupOf(a)).to.equal(undefined);
      await store.groups.putOwner({ account: a, owner: "o", note: "n", setBy: "x", setAt: 1, version: 1 }, 0);
      await store.groups.putOwner({ account: b, owner: "o", note: "n", setBy: "x", setAt: 1, version: 1 }, 0);
      expect(await dir.groupOf(a)).to.equal(undefined); // cached
      t += 60_000;
      expect(await dir.groupOf(a)).to.deep.equal({ id: [a, b].sort()[0], members: [a, b].sort() });
      dir.invalidate();
      await store.groups.putOwner({ account: b, owner: "p", note: "n", setBy: "x", setAt: 2, version: 2 }, 1);
      expect(await dir.groupOf(b)).to.equal(undefined);
    });

    it("only a risk or KYC officer declares an owner; bad input is a 400 and writes nothing", async () => {
      const x = newAccount();
      const path = `/v1/surveillance/accounts/${x}/beneficial-owner`;
      for (const body of [{ owner: "", note: "empty owner" }, { owner: "o", note: "extra", extra: 1 }, { owner: "o" }])
        expect((await officer.request("PUT", path, { body })).status).to.equal(400);
      expect(
        (
          await officer.request("PUT", "/v1/surveillance/accounts/0x12/beneficial-owner", {
            body: { owner: "o", note: "bad address" },
          })
        ).status,
      ).to.equal(400);
      for (const role of ["client", "operator", "auditor"] as const)
        expect(
          (await api.client(role).request("PUT", path, { body: { owner: "o", note: "not mine" } })).status,
        ).to.equal(403);
      expect(await store.groups.owner(x)).to.equal(undefined);
      const kyc = await api.client("kyc_officer").request<{ version: number }>("PUT", path, {
        body: { owner: "client 9", note: "KYC file 9", expectedVersion: 0 },
      });
      expect([kyc.status, kyc.body.version]).to.deep.equal([200, 1]);
    });

    it("two officers declaring at once on the version they read: one lands, the others are told (409)", async () => {
      const x = newAccount();
      const answers = await Promise.all(
        [1, 2, 3].map((i) =>
          officer.request("PUT", `/v1/surveillance/accounts/${x}/beneficial-owner`, {
            body: { owner: `owner ${i}`, note: `officer ${i}`, expectedVersion: 0 },
          }),
        ),
      );
      expect(answers.map((a) => a.status).sort()).to.deep.equal([200, 409, 409]);
      expect((await store.groups.owner(x))!.version).to.equal(1);
    });

    it("queues accounts crossing the leverage, margin-call and loss thresholds, once while open; not the others", async () => {
      const [lev, calls, loser, calm, fresh] = Array.from({ length: 5 }, newAccount);
      const now = Date.now();
      for (const [account, n] of [
        [calls, 2],
        [calm, 1],
      ] as const)
        for (let i = 0; i < n; i++)
          await store.keeper.enqueue({
            dedupeKey: `${account}-${i}`,
            account,
            kind: "margin_call",
            deadline: now + 3_600_000,
            amountToCure: 1_000n * CNY,
            equity: 0n,
            maintenanceReq: 1_000n * CNY,
            blockNumber: 1,
            txHash: null,
            createdAt: now - 1_000,
          });
      // the first run marks every account's equity: the loss is measured from it
      const figures = (loserEquity: bigint) => [
        { account: lev, equity: 100_000n * CNY, positionValue: 450_000n * CNY }, // 4.5x ≥ 4x
        { account: calm, equity: 100_000n * CNY, positionValue: 390_000n * CNY }, // 3.9x
        { account: loser, equity: loserEquity, positionValue: 20_000n * CNY },
        { account: fresh, equity: 100_000n * CNY, positionValue: 0n },
      ];
      expect(await runReviews(store, figures(100_000n * CNY), THRESHOLDS, now)).to.equal(2);
      // 29 % lost: under the 30 % threshold; then 30 %: queued
      expect(await runReviews(store, figures(71_000n * CNY), THRESHOLDS, now + 1)).to.equal(0);
      expect(await runReviews(store, figures(70_000n * CNY), THRESHOLDS, now + 2)).to.equal(1);
      expect(await runReviews(store, figures(10_000n * CNY), THRESHOLDS, now + 3)).to.equal(0); // already open
      const open = (
        await officer.get<{ reviews: Review[] }>("/v1/surveillance/reviews?status=open")
      ).body.reviews.filter((r) => [lev, calls, loser, calm, fresh].includes(r.account));
      expect(open.map((r) => [r.account, r.reason]).sort()).to.deep.equal(
        [
          [lev, "leverage"],
          [calls, "margin_calls"],
          [loser, "losses"],
        ].sort(),
      );
      expect(open.find((r) => r.reason === "leverage")!.figure).to.equal(((45n * WAD) / 10n).toString());
      expect(open.find((r) => r.reason === "losses")!.figure).to.equal((3n * 10n ** 17n).toString());
    });

    it("two officers deciding one review at once: one 200, one 409; lower-tier sets the behaviour tier", async () => {
      const account = newAccount();
      await store.groups.openReview({
        account,
        reason: "leverage",
        figure: 5n * WAD,
        threshold: 4n * WAD,
        evidence: "{}",
        openedAt: Date.now(),
      });
      const [r] = await store.groups.reviews({ account });
      const path = `/v1/surveillance/reviews/${r.id}/decide`;
      expect((await officer.post(path, { action: "lower-tier", note: "no tier", expectedVersion: 1 })).status).to.equal(
        400,
      );
      expect(
        (await officer.post(path, { action: "lower-tier", tier: "standard", note: "not lower", expectedVersion: 1 }))
          .status,
      ).to.equal(400);
      expect(
        (await api.client("operator").post(path, { action: "dismiss", note: "not mine", expectedVersion: 1 })).status,
      ).to.equal(403);
      expect(
        (
          await officer.post("/v1/surveillance/reviews/999999/decide", {
            action: "dismiss",
            note: "none",
            expectedVersion: 1,
          })
        ).status,
      ).to.equal(404);
      const answers = await Promise.all([
        officer.post<Review>(path, {
          action: "lower-tier",
          tier: "flagged",
          note: "4.5x before the drop",
          expectedVersion: 1,
        }),
        officer.post<Review>(path, { action: "dismiss", note: "hedged elsewhere", expectedVersion: 1 }),
      ]);
      expect(answers.map((a) => a.status).sort()).to.deep.equal([200, 409]);
      const won = answers.find((a) => a.status === 200)!.body;
      const tier = await store.surveillance.tier(account);
      if (won.status === "lowered") {
        expect(tier).to.include({ tier: "flagged", reasonCode: "LEVERAGE_SPIKE" });
      } else {
        expect(won.status).to.equal("dismissed");
        expect(tier).to.equal(undefined);
      }
      expect((await store.groups.review(r.id))!.version).to.equal(2);
      const audit = (await store.audit.list(1, 1_000)).filter(
        (e) =>
          e.action === "surveillance.review.decide" &&
          String((e.details.params as { id?: unknown }).id) === String(r.id),
      );
      expect(audit.map((e) => e.details.status).sort()).to.include.members([200, 409]);
    });

    it("lower-tier from a review is the registry's change: on the account's tier history, applying to its next order", async () => {
      const account = newAccount();
      await store.groups.openReview({
        account,
        reason: "margin_calls",
        figure: 3n,
        threshold: 2n,
        evidence: "{}",
        openedAt: Date.now(),
      });
      const [r] = await store.groups.reviews({ account });
      // the KYC tier too: this service holds no KYC officer key (no chain), so 409 and nothing decided
      const onChain = await officer.post(`/v1/surveillance/reviews/${r.id}/decide`, {
        action: "lower-tier",
        tier: "restricted",
        kycTier: 1,
        note: "and the KYC tier",
        expectedVersion: 1,
      });
      expect(onChain.status).to.equal(409);
      expect((await store.groups.review(r.id))!.status).to.equal("open");
      const res = await officer.post<Review>(`/v1/surveillance/reviews/${r.id}/decide`, {
        action: "lower-tier",
        tier: "restricted",
        note: "three calls in a week",
        expectedVersion: 1,
      });
      expect(res.body).to.include({ status: "lowered", version: 2 });
      const history = await store.surveillance.history(account);
      expect(history.map((h) => [h.action, h.tier, h.reasonCode])).to.deep.equal([
        ["set", "restricted", "MANUAL_REVIEW"],
      ]);
      expect(history[0].note).to.contain(`review ${r.id}`);
      // the queue shows it decided, with who and why
      const decided = (
        await officer.get<{ reviews: (Review & { decidedBy: string; note: string })[] }>(
          `/v1/surveillance/reviews?status=lowered&account=${account}`,
        )
      ).body.reviews;
      expect(decided[0]).to.include({ decidedBy: "risk_officer:risk_officer-subject", note: "three calls in a week" });
    });
  });
}
