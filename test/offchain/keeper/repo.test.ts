import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { IntentConflictError, openStore, type LiquidationIntent, type Store } from "../../../offchain/store";
import { createTestDatabase } from "../../helpers/postgres";

const ACCOUNT = "0x00000000000000000000000000000000000000aa";
const SIGNER = "0x00000000000000000000000000000000000000bb";

function intent(epoch: number, nonce: number): Omit<LiquidationIntent, "id"> {
  return {
    account: ACCOUNT,
    epoch,
    signer: SIGNER,
    nonce,
    txHash: `0x${String(nonce).padStart(64, "0")}`,
    rawTx: "0x02",
    maxSegments: 8,
    status: "pending",
    triggerAt: 1,
    triggerReason: "round",
    createdAt: 1,
    updatedAt: 1,
    minedBlock: null,
    minedAt: null,
    segments: null,
    error: null,
    accounts: 1,
  };
}

const addr = (n: number): string => `0x${n.toString(16).padStart(40, "0")}`;

for (const engine of ["sqlite", "postgres"] as const) {
  describe(`keeper store on ${engine}`, function () {
    let store: Store;
    let cleanup: () => Promise<void>;

    before(async function () {
      if (engine === "sqlite") {
        const dir = mkdtempSync(path.join(tmpdir(), "mb-keeper-repo-"));
        store = await openStore({ engine: "sqlite", path: path.join(dir, "k.sqlite") });
        cleanup = async () => rmSync(dir, { recursive: true, force: true });
      } else {
        const db = await createTestDatabase("mb_keeper_repo");
        if ("skip" in db) {
          console.log(`    skipping keeper store on PostgreSQL: ${db.skip}`);
          this.skip();
        }
        store = await openStore({ engine: "postgres", url: db.url, poolSize: 2 });
        cleanup = db.drop;
      }
    });
    after(async function () {
      await store?.close();
      await cleanup?.();
    });

    it("journals an epoch and a nonce once, and settles a pending intent once", async function () {
      expect(await store.keeper.insertIntent(intent(1, 7))).to.equal(true);
      expect(await store.keeper.insertIntent(intent(1, 8)), "same epoch").to.equal(false);
      expect(await store.keeper.insertIntent({ ...intent(2, 7), account: SIGNER }), "same nonce").to.equal(false);
      expect(await store.keeper.maxNonce(SIGNER)).to.equal(7);
      const [p] = await store.keeper.pendingIntents();
      expect(p.epoch).to.equal(1);
      expect(
        await store.keeper.settleIntent(p.id, { status: "mined", minedBlock: 10, minedAt: 5, segments: 2 }, 5),
      ).to.equal(true);
      expect(await store.keeper.settleIntent(p.id, { status: "dropped" }, 6)).to.equal(false);
      expect((await store.keeper.lastEpoch(ACCOUNT))!).to.include({ status: "mined", segments: 2, minedBlock: 10 });
      expect(await store.keeper.intentCounts()).to.deep.equal({ pending: 0, mined: 1, reverted: 0, dropped: 0 });
    });

    it("journals a batch with every account's epoch in one transaction, refuses a batch naming a journaled account-epoch whole, and records each account's outcome", async function () {
      const [a, b, c, d] = [addr(0xa1), addr(0xa2), addr(0xa3), addr(0xa4)];
      // b was liquidated alone before: its next epoch is 2
      expect(await store.keeper.insertIntent({ ...intent(1, 20), account: b })).to.equal(true);
      const [single] = await store.keeper.pendingIntents();
      await store.keeper.settleIntent(single.id, { status: "mined", minedBlock: 11, minedAt: 8, segments: 1 }, 8);
      const batch = (nonce: number, members: { account: string; epoch: number }[]) =>
        store.transaction((tx) =>
          tx.keeper.insertIntent(
            { ...intent(members[0].epoch, nonce), account: members[0].account, accounts: members.length },
            members,
          ),
        );
      expect(await store.keeper.lastEpochs([a, b, c])).to.deep.equal(new Map([[b, 1]]));
      expect(
        await batch(21, [
          { account: a, epoch: 1 },
          { account: b, epoch: 2 },
          { account: c, epoch: 1 },
        ]),
      ).to.equal(true);
      // a second transaction naming c at the same epoch: refused whole (d and the nonce stay free)
      let conflict: unknown;
      await batch(22, [
        { account: d, epoch: 1 },
        { account: c, epoch: 1 },
      ]).catch((e: unknown) => (conflict = e));
      expect(conflict).to.be.instanceOf(IntentConflictError);
      expect(await store.keeper.lastEpoch(d)).to.equal(undefined);
      expect(await store.keeper.maxNonce(SIGNER)).to.equal(21);
      expect([...(await store.keeper.pendingAccounts())].sort()).to.deep.equal([a, b, c].sort());
      const seenFromB = (await store.keeper.lastEpoch(b))!;
      expect(seenFromB).to.include({ account: b, epoch: 2, nonce: 21, accounts: 3, status: "pending" });
      await store.keeper.settleIntent(seenFromB.id, { status: "mined", minedBlock: 12, minedAt: 9, segments: 2 }, 9);
      await store.keeper.setOutcomes(
        seenFromB.id,
        new Map<string, "liquidated" | "skipped">([
          [a, "liquidated"],
          [b, "skipped"],
          [c, "liquidated"],
        ]),
      );
      expect(
        (await store.keeper.intentAccounts(seenFromB.id)).map((m) => [m.account, m.epoch, m.outcome]),
      ).to.deep.equal([
        [a, 1, "liquidated"],
        [c, 1, "liquidated"],
        [b, 2, "skipped"],
      ]);
      expect(await store.keeper.pendingAccounts()).to.deep.equal(new Set());
      expect(await store.keeper.lastEpochs([a, b, c, d])).to.deep.equal(
        new Map([
          [a, 1],
          [b, 2],
          [c, 1],
        ]),
      );
    });

    it("enqueues a notice once per dedupe key and schedules retries until delivered", async function () {
      const n = {
        dedupeKey: "0xabc:3",
        account: ACCOUNT,
        kind: "margin_call" as const,
        deadline: 1_800_000_000,
        amountToCure: 2n ** 70n,
        equity: -5n,
        maintenanceReq: 12n,
        blockNumber: 3,
        txHash: "0xabc",
        createdAt: 100,
      };
      expect(await store.keeper.enqueue(n)).to.equal(true);
      expect(await store.keeper.enqueue(n)).to.equal(false);
      const [due] = await store.keeper.dueNotifications(100);
      expect(due).to.include({ amountToCure: 2n ** 70n, equity: -5n, deadline: 1_800_000_000, attempts: 0 });
      await store.keeper.markFailed(due.id, 200, "webhook answered 500");
      expect(await store.keeper.dueNotifications(150)).to.deep.equal([]);
      await store.keeper.markDelivered(due.id, 201);
      expect(await store.keeper.dueNotifications(1_000)).to.deep.equal([]);
      const [shown] = await store.keeper.notifications({ account: ACCOUNT });
      expect(shown).to.include({ attempts: 2, deliveredAt: 201, lastError: null });
    });

    it("keeps one override per scope and target and the cursor", async function () {
      await store.keeper.setOverride({ scope: "asset", target: SIGNER, reason: "a", createdBy: "x", createdAt: 1 });
      await store.keeper.setOverride({ scope: "asset", target: SIGNER, reason: "b", createdBy: "y", createdAt: 2 });
      expect(await store.keeper.overrides()).to.deep.equal([
        { scope: "asset", target: SIGNER, reason: "b", createdBy: "y", createdAt: 2 },
      ]);
      expect(await store.keeper.clearOverride("asset", SIGNER)).to.equal(true);
      expect(await store.keeper.clearOverride("asset", SIGNER)).to.equal(false);
      await store.keeper.setState("cursor", "41");
      await store.keeper.setState("cursor", "42");
      expect(await store.keeper.getState("cursor")).to.equal("42");
    });
  });
}
