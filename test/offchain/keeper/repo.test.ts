import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { openStore, type LiquidationIntent, type Store } from "../../../offchain/store";
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
  };
}

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
