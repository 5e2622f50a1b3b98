import { expect } from "chai";
import { AppError } from "../../offchain/shared/errors";
import { Lease, leaseLostError, type LeaseStore } from "../../offchain/shared/lease";
import { silentLogger } from "../../offchain/shared/logger";
import { StoreJournal, type WriteFence } from "../../offchain/orderbook";
import { openStore, type Store } from "../../offchain/store";
import { createTestDatabase, type TestPostgres } from "../helpers/postgres";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The lease and fencing under the production profile's singletons, on PostgreSQL: a standby takes over a
 * silent holder's lease within ttl + one renew period; the epoch (fencing token) refuses the stale holder's writes
 * in their own transaction; a takeover waits for a fenced write in flight, so the new holder reads it.
 */
describe("singleton leases with fencing on PostgreSQL", function () {
  this.timeout(60_000);
  let pg: TestPostgres;
  let store: Store;

  before(async function () {
    pg = await createTestDatabase("mb_e2e_leases");
    if ("skip" in pg) {
      console.log(`      skipped: ${pg.skip}`);
      this.skip();
    }
    store = await openStore({ engine: "postgres", url: pg.url, poolSize: 6 });
  });

  after(async () => {
    await store?.close();
    if (pg && "drop" in pg) await pg.drop().catch(() => undefined);
  });

  it("gives the epoch as fencing token: renewals in time keep it, any take after expiry increments it", async () => {
    const locks = store.locks;
    expect(await locks.acquireLease("t:epoch", "a", 200)).to.equal(1);
    expect(await locks.acquireLease("t:epoch", "a", 200)).to.equal(1);
    expect(await locks.acquireLease("t:epoch", "b", 200)).to.equal(undefined);
    await sleep(250);
    expect(await locks.acquireLease("t:epoch", "b", 200)).to.equal(2);
    expect(await locks.holdsLease("t:epoch", "a", 1)).to.equal(false);
    expect(await locks.holdsLease("t:epoch", "b", 2)).to.equal(true);
    await sleep(250);
    expect(await locks.acquireLease("t:epoch", "b", 200), "the same owner after expiry").to.equal(3);
    await locks.releaseLease("t:epoch", "b");
    expect(await locks.leaseHolder("t:epoch")).to.equal(undefined);
    expect(await locks.acquireLease("t:epoch", "a", 200)).to.equal(4);
  });

  it("a standby takes over a holder that stopped renewing within ttl + one renew period; the holder steps down", async () => {
    const ttlMs = 600;
    let partitioned = false;
    // Instance A's view of the store: cut off on demand (as a holder whose database connection died).
    const aStore: LeaseStore = {
      acquireLease: (n, o, t) =>
        partitioned ? Promise.reject(new Error("cut off")) : store.locks.acquireLease(n, o, t),
      releaseLease: (n, o) => store.locks.releaseLease(n, o),
    };
    const events: string[] = [];
    const lease = (owner: string, s: LeaseStore): Lease =>
      new Lease({
        name: "t:failover",
        owner,
        ttlMs,
        store: s,
        log: silentLogger,
        onAcquired: async (epoch) => void events.push(`${owner} acquired ${epoch}`),
        onLost: async () => void events.push(`${owner} lost`),
      });
    const a = lease("a", aStore);
    const b = lease("b", store.locks);
    a.start();
    while (!a.held()) await sleep(10);
    b.start();
    await sleep(300);
    expect(b.held()).to.equal(false);
    const cutAt = Date.now();
    partitioned = true;
    while (!b.held()) await sleep(10);
    const takeover = Date.now() - cutAt;
    console.log(
      `      takeover after the holder went silent: ${takeover} ms (ttl ${ttlMs} ms, renew every ${ttlMs / 3} ms)`,
    );
    expect(takeover).to.be.below(ttlMs + ttlMs / 3 + 300);
    // A stopped acting on its own once its last renewal was a ttl old.
    for (let i = 0; i < 50 && a.held(); i++) await sleep(20);
    expect(a.held()).to.equal(false);
    expect(events).to.include.members(["a acquired 1", "a lost", "b acquired 2"]);
    await a.stop();
    await b.stop();
  });

  it("keeps a lease whose role takes longer than the ttl to start: renewals go on while it starts", async () => {
    // As the order book's start after a restart, its first chain reads queued behind a node busy with a large batch.
    const ttlMs = 300;
    const events: string[] = [];
    const lease = new Lease({
      name: "t:slowstart",
      owner: "slow",
      ttlMs,
      store: store.locks,
      log: silentLogger,
      onAcquired: async (epoch) => {
        events.push(`started ${epoch}`);
        await sleep(3 * ttlMs);
        events.push(`ready ${epoch}`);
      },
      onLost: async () => void events.push("lost"),
    });
    lease.start();
    while (!events.includes("ready 1")) await sleep(20);
    await sleep(ttlMs);
    expect(events, "no takeover of its own lease, no second start").to.deep.equal(["started 1", "ready 1"]);
    expect(lease.epoch).to.equal(1);
    expect(await store.locks.holdsLease("t:slowstart", "slow", 1)).to.equal(true);
    await lease.stop();
    expect(events).to.deep.equal(["started 1", "ready 1", "lost"]);
  });

  it("a stop or a loss during a slow start stops the role only once it has started", async () => {
    const events: string[] = [];
    const lease = new Lease({
      name: "t:stopwhilestarting",
      owner: "a",
      ttlMs: 5_000,
      store: store.locks,
      log: silentLogger,
      onAcquired: async () => {
        events.push("starting");
        await sleep(300);
        events.push("started");
      },
      onLost: async () => void events.push("stopped"),
    });
    lease.start();
    while (!events.includes("starting")) await sleep(5);
    await lease.stop();
    expect(events).to.deep.equal(["starting", "started", "stopped"]);
    expect(await store.locks.leaseHolder("t:stopwhilestarting")).to.equal(undefined);
  });

  it("ignores a fenced refusal of an earlier epoch's write; a refusal under the epoch held drops it", async () => {
    const name = "t:stalefence";
    const events: string[] = [];
    const lease = new Lease({
      name,
      owner: "a",
      ttlMs: 5_000,
      store: store.locks,
      log: silentLogger,
      onAcquired: async (epoch) => void events.push(`acquired ${epoch}`),
      onLost: async () => void events.push("lost"),
    });
    // An earlier start of this role held epoch 1; the lease is now at epoch 2 and this start holds it.
    expect(await store.locks.acquireLease(name, "earlier", 1)).to.equal(1);
    await sleep(20);
    lease.start();
    while (lease.epoch === undefined) await sleep(5);
    expect(lease.epoch).to.equal(2);
    lease.lost("a fenced order-book write was refused", 1); // the earlier start's write, still finishing
    await sleep(50);
    expect(lease.epoch, "the epoch held now is kept").to.equal(2);
    expect(events).to.deep.equal(["acquired 2"]);
    lease.lost("a fenced order-book write was refused", 2);
    expect(lease.epoch).to.equal(undefined);
    await lease.stop();
    expect(events).to.deep.equal(["acquired 2", "lost"]);
  });

  it("refuses a stale order-book writer's journal append, and the new writer continues the sequence", async () => {
    const name = "t:journal";
    const epochA = (await store.locks.acquireLease(name, "a", 100))!;
    const fence =
      (owner: string, epoch: number): WriteFence =>
      async (tx) => {
        if (!(await tx.locks.holdsLease(name, owner, epoch))) throw leaseLostError(name, epoch);
      };
    const journalA = await StoreJournal.open(store, "FENCE", fence("a", epochA));
    const cmd = (seq: number) => ({ seq, ts: 1, cmd: { kind: "cancel" as const, id: seq, account: "0xa" } });
    await journalA.append([cmd(1)]);
    await sleep(150);
    const epochB = (await store.locks.acquireLease(name, "b", 10_000))!;
    expect(epochB).to.equal(epochA + 1);
    // A has not noticed: its next write is refused inside the transaction, and nothing of it is stored.
    const stale = await journalA.append([cmd(2)]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(stale).to.be.instanceOf(AppError);
    expect((stale as AppError).code).to.equal("NOT_LEADER");
    expect(await store.orderbook.lastSeq("FENCE")).to.equal(1);
    const journalB = await StoreJournal.open(store, "FENCE", fence("b", epochB));
    expect(journalB.lastSeq()).to.equal(1);
    await journalB.append([cmd(2)]);
    expect((await journalB.read(0)).map((e) => e.seq)).to.deep.equal([1, 2]);
  });

  it("a takeover waits for a fenced write in flight, so the new holder reads it", async () => {
    const name = "t:inflight";
    const epoch = (await store.locks.acquireLease(name, "a", 100))!;
    await sleep(150); // A's lease has expired, but A does not know yet
    let takenOver: number | undefined;
    let takeover: Promise<void> | undefined;
    await store.transaction(async (tx) => {
      expect(await tx.locks.holdsLease(name, "a", epoch)).to.equal(true);
      takeover = store.locks.acquireLease(name, "b", 10_000).then((e) => void (takenOver = e));
      await sleep(300);
      expect(takenOver, "the takeover must wait for the fenced transaction").to.equal(undefined);
      await tx.orderbook.appendJournal("INFLIGHT", [{ seq: 1, entry: "{}" }]);
    });
    await takeover;
    expect(takenOver).to.equal(epoch + 1);
    expect(await store.orderbook.lastSeq("INFLIGHT")).to.equal(1);
    expect(await store.locks.holdsLease(name, "a", epoch)).to.equal(false);
  });
});
