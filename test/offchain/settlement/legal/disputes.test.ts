import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { main } from "../../../../offchain/settlement/legal/cli";
import { SimpleMerkleTree } from "@openzeppelin/merkle-tree";
import { Wallet, ZeroHash } from "ethers";
import {
  buildEvidenceBundle,
  canonicalize,
  defaultAuditEntryHash,
  DisputeService,
  evidenceItemHash,
  LegalError,
  MemoryLegalStore,
  verifyEvidenceBundle,
  type Actor,
  type AuditEntry,
  type DisputeSubject,
  type EvidenceBundle,
  type EvidenceItem,
  type EvidenceSource,
} from "../../../../offchain/settlement/legal";

const client = new Wallet("0x" + "11".repeat(32));
const other = new Wallet("0x" + "44".repeat(32));
const seller = new Wallet("0x" + "77".repeat(32));
const ORDER_DOMAIN = {
  name: "MarginBridge Settlement",
  version: "1",
  chainId: 31337,
  verifyingContract: "0x" + "55".repeat(20),
};
const ORDER_TYPES = {
  Order: [
    { name: "account", type: "address" },
    { name: "asset", type: "address" },
    { name: "isBuy", type: "bool" },
    { name: "quantity", type: "uint256" },
    { name: "limitPrice", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "expiry", type: "uint64" },
  ],
};

function auditChain(n: number, from: AuditEntry | undefined = undefined): AuditEntry[] {
  const out: AuditEntry[] = [];
  let prev = from;
  for (let i = 0; i < n; i++) {
    const seq = (prev?.seq ?? 0) + 1;
    const e = {
      seq,
      at: `2027-01-01T02:00:0${i}Z`,
      actor: "api",
      action: ["order.accepted", "trade.matched", "batch.submitted"][i % 3],
      payload: { ref: `T-1`, i },
      prevHash: prev?.hash ?? ZeroHash,
      hash: "",
    };
    e.hash = defaultAuditEntryHash(e);
    out.push(e);
    prev = e;
  }
  return out;
}

/** Evidence for a disputed trade: the signed order, the trade, its batch and transaction, oracle round, audit log. */
async function tradeEvidence(signer = client): Promise<EvidenceItem[]> {
  const order = {
    account: client.address,
    asset: "0x" + "66".repeat(20),
    isBuy: true,
    quantity: 1000n,
    limitPrice: 150_000_000n,
    nonce: 7n,
    expiry: 1798768800n,
  };
  const signature = await signer.signTypedData(ORDER_DOMAIN, ORDER_TYPES, order);
  const sell = { ...order, account: seller.address, isBuy: false, nonce: 9n };
  const items: EvidenceItem[] = [
    {
      kind: "order",
      id: "O-2",
      parties: [seller.address.toLowerCase()],
      data: sell,
      signed: [
        {
          domain: ORDER_DOMAIN,
          types: ORDER_TYPES,
          primaryType: "Order",
          message: sell,
          signature: await seller.signTypedData(ORDER_DOMAIN, ORDER_TYPES, sell),
          signer: seller.address,
        },
      ],
    },
    {
      kind: "order",
      id: "O-1",
      parties: [client.address.toLowerCase()],
      data: order,
      signed: [
        {
          domain: ORDER_DOMAIN,
          types: ORDER_TYPES,
          primaryType: "Order",
          message: order,
          signature,
          signer: client.address,
        },
      ],
    },
    {
      kind: "trade",
      id: "T-1",
      data: { buyOrder: "O-1", sellOrder: "O-2", price: 150_000_000n, quantity: 1000n, batchId: "B-1" },
    },
    {
      kind: "batch",
      id: "B-1",
      data: { merkleRoot: "0x" + "77".repeat(32), trades: ["T-1"], txHash: "0x" + "88".repeat(32) },
    },
    { kind: "transaction", id: "0x" + "88".repeat(32), data: { blockNumber: 1234, status: 1, gasUsed: 210000 } },
    {
      kind: "oracle-round",
      id: "mbBANK/42",
      data: { feed: "0x" + "99".repeat(20), roundId: 42n, answer: 150n * 10n ** 18n, updatedAt: 1798768790 },
    },
  ];
  for (const e of auditChain(3)) items.push({ kind: "audit-log", id: String(e.seq).padStart(8, "0"), data: e });
  return items;
}

/** JSON as a third party receives it: bigints became decimal strings. */
const overTheWire = (b: EvidenceBundle): EvidenceBundle => JSON.parse(canonicalize(b)) as EvidenceBundle;

describe("legal: evidence bundle", () => {
  it("is verifiable by a third party from its JSON alone: item hashes, Merkle proofs, signatures, audit chain", async () => {
    const bundle = buildEvidenceBundle({
      disputeId: "D-1",
      subject: { kind: "trade", ref: "T-1" },
      createdAt: "2027-01-03T00:00:00Z",
      items: await tradeEvidence(),
    });
    const received = overTheWire(bundle);
    const last = received.items.filter((i) => i.kind === "audit-log").pop()!.data as AuditEntry;
    const report = verifyEvidenceBundle(received, { expectedRoot: bundle.manifest.root, auditHead: last.hash });
    expect(report.checks.filter((c) => !c.ok)).to.deep.equal([]);
    expect(report.valid).to.equal(true);
    expect(report.checks.map((c) => c.check)).to.include.members([
      "hash of trade/T-1",
      "merkle proof of oracle-round/mbBANK/42",
      `signature 0 on order/O-1 by ${client.address}`,
      "audit-log hash chain",
      "audit-log ends at the published head",
    ]);
    // The manifest proofs are plain @openzeppelin/merkle-tree proofs.
    const e = received.manifest.entries[0];
    expect(SimpleMerkleTree.verify(received.manifest.root, e.hash, e.proof)).to.equal(true);
    expect(e.hash).to.equal(evidenceItemHash(bundle.items[0]));
  });

  it("detects an edited item, a forged signature, a broken audit chain and a wrong published head", async () => {
    const build = async (items: EvidenceItem[]) =>
      overTheWire(
        buildEvidenceBundle({ disputeId: "D-1", subject: { kind: "trade", ref: "T-1" }, createdAt: "x", items }),
      );
    const failing = (b: EvidenceBundle, opts = {}) =>
      verifyEvidenceBundle(b, opts)
        .checks.filter((c) => !c.ok)
        .map((c) => c.check);

    const edited = await build(await tradeEvidence());
    (edited.items.find((i) => i.id === "T-1")!.data as { price: string }).price = "140000000";
    expect(failing(edited)).to.deep.equal(["hash of trade/T-1", "merkle proof of trade/T-1"]);

    const forged = await build(await tradeEvidence(other));
    expect(failing(forged)).to.deep.equal([`signature 0 on order/O-1 by ${client.address}`]);

    const items = await tradeEvidence();
    const audit = items.filter((i) => i.kind === "audit-log");
    const second = audit[1].data as AuditEntry;
    second.prevHash = "0x" + "ab".repeat(32);
    second.hash = defaultAuditEntryHash(second); // self-consistent entry, but no longer linked to the first
    const broken = await build(items);
    const report = verifyEvidenceBundle(broken);
    expect(report.valid).to.equal(false);
    expect(report.checks.find((c) => c.check === "audit-log hash chain")).to.deep.equal({
      check: "audit-log hash chain",
      ok: false,
      detail: "entry 2: prevHash is not entry 1's hash",
    });

    const good = await build(await tradeEvidence());
    expect(failing(good, { auditHead: "0x" + "cd".repeat(32), expectedRoot: ZeroHash })).to.deep.equal([
      "root equals the recorded root",
      "audit-log ends at the published head",
    ]);
  });
});

class InMemoryEvidence implements EvidenceSource {
  constructor(
    private readonly items: Map<string, EvidenceItem[]>,
    private readonly parties: Map<string, string[]> = new Map(),
  ) {}
  async collect(subject: DisputeSubject): Promise<EvidenceItem[]> {
    return this.items.get(`${subject.kind}:${subject.ref}`) ?? [];
  }
  async partiesOf(subject: DisputeSubject): Promise<string[] | undefined> {
    return this.parties.get(`${subject.kind}:${subject.ref}`);
  }
}

describe("legal: disputes", () => {
  const officer: Actor = { role: "officer", id: "officer-1" };
  const me: Actor = { role: "client", id: client.address };
  const subject: DisputeSubject = { kind: "trade", ref: "T-1", account: client.address };
  let clock = 0;
  const setup = async () => {
    const store = new MemoryLegalStore();
    let n = 0;
    const service = new DisputeService(
      store,
      new InMemoryEvidence(
        new Map([["trade:T-1", await tradeEvidence()]]),
        new Map([
          ["trade:T-1", [client.address, seller.address]],
          ["trade:T-2", [seller.address, other.address]],
        ]),
      ),
      () => new Date(Date.UTC(2027, 0, 3) + 1000 * clock++),
      () => `D-${++n}`,
    );
    return { store, service };
  };

  it("runs open → evidence collected → under review → resolved, keeping the history and the outcome", async () => {
    const { store, service } = await setup();
    const d = await service.open(me, subject, "Filled above my limit price");
    expect(d.status).to.equal("open");
    const bundle = await service.collectEvidence(officer, d.id);
    expect(bundle.items).to.have.length(9);
    expect(verifyEvidenceBundle(overTheWire((await store.getEvidenceBundle(d.id))!)).valid).to.equal(true);
    await service.startReview(officer, d.id);
    const done = await service.resolve(officer, d.id, {
      decision: "rejected",
      summary: "Filled at 150.00, the limit",
      adjustment: 0n,
    });
    expect(done.status).to.equal("resolved");
    expect(done.history.map((h) => [h.status, h.by.role])).to.deep.equal([
      ["open", "client"],
      ["evidence-collected", "officer"],
      ["under-review", "officer"],
      ["resolved", "officer"],
    ]);
    expect(done.evidence!.root).to.equal(bundle.manifest.root);
    expect(done.outcome).to.deep.include({ decision: "rejected", adjustment: 0n, decidedBy: officer });
    const stored = await service.view(me, d.id);
    expect(stored.status).to.equal("resolved");
    expect(stored.revision).to.equal(3);
  });

  it("lets clients open and withdraw only their own disputes, and only officers decide", async () => {
    const { service } = await setup();
    const stranger: Actor = { role: "client", id: other.address };
    const code = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (e) {
        return (e as LegalError).code;
      }
      return "none";
    };
    expect(await code(service.open(stranger, subject, "not mine"))).to.equal("LEGAL_FORBIDDEN");
    const d = await service.open(
      officer,
      { kind: "liquidation", ref: "0x" + "12".repeat(32), account: client.address },
      "Check segment order",
    );
    expect(await code(service.collectEvidence(me, d.id))).to.equal("LEGAL_FORBIDDEN");
    expect(await code(service.resolve(officer, d.id, { decision: "upheld", summary: "x", adjustment: 1n }))).to.equal(
      "LEGAL_BAD_TRANSITION",
    );
    expect(await code(service.withdraw(me, d.id))).to.equal("LEGAL_FORBIDDEN"); // opened by the officer
    expect(await code(service.view(stranger, d.id))).to.equal("LEGAL_FORBIDDEN");
    const mine = await service.open(me, subject, "typo");
    const w = await service.withdraw(me, mine.id);
    expect(w.status).to.equal("withdrawn");
    expect(await code(service.startReview(officer, mine.id))).to.equal("LEGAL_BAD_TRANSITION");
  });

  it("lets only a party open a dispute on a trade, and shows a client its own side with the other redacted", async () => {
    const { service } = await setup();
    const code = (p: Promise<unknown>) =>
      p.then(
        () => "none",
        (e: LegalError) => e.code,
      );
    // Another pair's trade under the client's own account, and a trade nobody knows: both "not found".
    const others = { kind: "trade" as const, ref: "T-2", account: client.address };
    expect(await code(service.open(me, others, "not my trade"))).to.equal("LEGAL_NOT_FOUND");
    expect(await code(service.open(me, { ...others, ref: "T-404" }, "no such trade"))).to.equal("LEGAL_NOT_FOUND");
    // An officer names a party; a non-party is refused.
    expect(await code(service.open(officer, others, "x"))).to.equal("LEGAL_INVALID_INPUT");
    const d = await service.open(me, subject, "Filled above my limit price");
    const full = await service.collectEvidence(officer, d.id);
    const seen = (await service.evidenceFor(me, d.id))!;
    const sellerOrder = full.items.find((i) => i.kind === "order" && i.parties?.includes(seller.address.toLowerCase()));
    expect(sellerOrder, "the evidence has the counterparty's order").to.not.equal(undefined);
    expect(seen.items.find((i) => i.id === sellerOrder!.id)).to.deep.equal({
      kind: "order",
      id: sellerOrder!.id,
      data: null,
      redacted: true,
    });
    expect(canonicalize(seen).toLowerCase()).to.not.contain(seller.address.slice(2).toLowerCase());
    const report = verifyEvidenceBundle(overTheWire(seen));
    expect(report.valid).to.equal(true);
    expect(report.root).to.equal(full.manifest.root);
    expect(report.checks.map((c) => c.check)).to.include(
      `redacted order/${sellerOrder!.id} is committed by its manifest hash`,
    );
    // Officers see everything.
    expect((await service.evidenceFor(officer, d.id))!.items).to.deep.equal(full.items);
  });
});

describe("legal: third-party CLI", () => {
  const run = async (args: string[]): Promise<{ code: number; out: string }> => {
    const lines: string[] = [];
    const original = console.log;
    console.log = (line: string) => lines.push(line);
    try {
      return { code: await main(args), out: lines.join("\n") };
    } finally {
      console.log = original;
    }
  };

  it("verify-evidence exits 0 for an intact bundle file and 1 once an item is edited", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "mb-evidence-"));
    const file = path.join(dir, "bundle.json");
    const bundle = buildEvidenceBundle({
      disputeId: "D-9",
      subject: { kind: "trade", ref: "T-1" },
      createdAt: "x",
      items: await tradeEvidence(),
    });
    writeFileSync(file, canonicalize(bundle));
    const ok = await run(["verify-evidence", file, "--root", bundle.manifest.root]);
    expect(ok.code).to.equal(0);
    expect(JSON.parse(ok.out).valid).to.equal(true);
    writeFileSync(file, canonicalize(bundle).replace('"price":"150000000"', '"price":"150000001"'));
    const bad = await run(["verify-evidence", file]);
    expect(bad.code).to.equal(1);
    expect(JSON.parse(bad.out).checks.filter((c: { ok: boolean }) => !c.ok)).to.have.length(2);
    rmSync(dir, { recursive: true });
  });
});
