import { expect } from "chai";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import {
  BookService,
  FileJournal,
  FileSnapshotStore,
  InstrumentEngine,
  recover,
  Side,
  TimeInForce,
} from "../../../offchain/orderbook";
import { commandStream } from "./random";

const SEED = 4242;
const CHILD = path.join(__dirname, "fixtures", "journalChild.ts");

function liveIds(e: InstrumentEngine): number[] {
  return [...e.book.restingOrders(Side.Buy), ...e.book.restingOrders(Side.Sell)].map((o) => o.id);
}

describe("orderbook: journal replay after kill -9 of a real service process", function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "mb-orderbook-crash-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("loses no acknowledged command, and the replayed book hashes equal to the book the process had", async function () {
    const tsNode = require.resolve("ts-node/dist/bin.js");
    const child = spawn(process.execPath, [tsNode, "--transpile-only", CHILD, dir, String(SEED), "200000", "64"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const acked = new Map<number, number>(); // seq → order id
    const hashes = new Map<number, string>();
    const snapshotsTaken: number[] = [];
    let killedAfter = 0;
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, sig) => resolve(sig)));
    const lines = createInterface({ input: child.stdout });
    lines.on("line", (line) => {
      const [tag, a, b] = line.split(" ");
      if (tag === "ACK") acked.set(Number(a), Number(b));
      if (tag === "HASH") hashes.set(Number(a), b);
      if (tag === "SNAPSHOT") snapshotsTaken.push(Number(a));
      // under load, mid-stream, after at least two snapshots and 30 reported hashes (every hash line follows its
      // acknowledgement, so all 30 lie within what must be recovered): no warning, no flush
      if (killedAfter === 0 && acked.size >= 3000 && snapshotsTaken.length >= 2 && hashes.size >= 30) {
        killedAfter = acked.size;
        child.kill("SIGKILL");
      }
    });
    expect(await exited).to.equal("SIGKILL");
    lines.close();
    const maxAcked = Math.max(...acked.keys());
    expect(acked.size).to.be.at.least(3000);
    expect(maxAcked).to.be.below(200_000, "killed mid-stream");

    const journal = await FileJournal.open(path.join(dir, "journal"));
    const snapshots = new FileSnapshotStore(path.join(dir, "snapshots"));
    const snap = await snapshots.latest();
    // the kill may land between saving a snapshot and announcing it: the latest is at least the last announced
    expect(snap?.seq, "the latest snapshot the process saved").to.be.at.least(Math.max(...snapshotsTaken));
    const recovered = await recover("TEST", journal, snapshots);
    // every acknowledged command survived, in its place
    expect(recovered.seq).to.be.at.least(maxAcked);
    const entries = await journal.read((snap as { seq: number }).seq);
    const bySeq = new Map(entries.map((e) => [e.seq, e]));
    for (const [seq, orderId] of acked) {
      if (seq <= (snap as { seq: number }).seq) continue; // inside the snapshot: proven by the hashes below
      const e = bySeq.get(seq);
      expect(e, `acknowledged seq ${seq}`).to.not.equal(undefined);
      if (orderId !== 0) expect((e as { cmd: { id?: number } }).cmd.id).to.equal(orderId);
    }

    // an independent engine fed the same deterministic stream reproduces every hash the process reported,
    // and, at the recovered sequence number, the recovered book itself
    const fresh = new InstrumentEngine("TEST");
    let seq = 0;
    let compared = 0;
    for (const { ts, cmd } of commandStream(SEED, recovered.seq, () => liveIds(fresh))) {
      fresh.apply({ seq: ++seq, ts, cmd });
      const h = hashes.get(seq);
      if (h !== undefined) {
        expect(fresh.hash(), `hash at seq ${seq}`).to.equal(h);
        compared++;
      }
    }
    expect(compared).to.be.at.least(30);
    expect(recovered.hash()).to.equal(fresh.hash());
    await journal.close();

    // the recovered service carries on from where it stopped
    const svc = await BookService.open({
      instrument: "TEST",
      journal: await FileJournal.open(path.join(dir, "journal")),
      snapshots,
    });
    expect(svc.engine.hash()).to.equal(fresh.hash());
    const ack = await svc.submit({
      kind: "limit",
      id: 10_000_000,
      account: "late",
      side: Side.Buy,
      price: 1,
      qty: 1,
      tif: TimeInForce.GTC,
    });
    expect(ack.seq).to.equal(recovered.seq + 1);
    expect(ack.accepted).to.equal(true);
    await svc.close();
  });
});
