import { expect } from "chai";
import hre from "hardhat";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import fc from "fast-check";
import {
  accountCommitment,
  buildFromLeaves,
  buildPlainTree,
  buildSumTree,
  HashPool,
  leafHash,
  MAX_UINT128,
  nodeHash,
  PLAIN_LEAF_ENCODING,
  ReservesError,
  snapshotId,
  verifyInclusion,
  verifyClientProofOffline,
  type AccountLiabilities,
  type EpochCommitment,
  type InclusionProof,
  type PublishedLeaf,
  type Sums,
  type SumTree,
} from "../../../offchain/reserves";
import { createKeccak256 } from "../../../offchain/reserves/keccak";
import { sampleAccounts } from "../../helpers/reserves";

const { ethers } = hre;
const LEDGER = "0x00000000000000000000000000000000000000a1";
const SID = snapshotId(31337n, LEDGER, 1n, 100n);
const ASSETS = ["0x00000000000000000000000000000000000000c1", "0x00000000000000000000000000000000000000c2"];

async function build(
  accounts: AccountLiabilities[],
  opts: { seed?: Uint8Array; minDepth?: number; pool?: HashPool } = {},
) {
  return buildSumTree({ assets: ASSETS, snapshotBlock: 100n, accounts }, { snapshotId: SID, ...opts });
}

function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(ReservesError);
    expect((err as ReservesError).code).to.equal(code);
    return;
  }
  expect.fail(`expected ReservesError ${code}`);
}

async function expectCodeAsync(p: Promise<unknown>, code: string): Promise<void> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(ReservesError);
    expect((err as ReservesError).code).to.equal(code);
    return;
  }
  expect.fail(`expected ReservesError ${code}`);
}

/** Naive reference: hashes the positional leaves level by level with ethers, straight from the encoding. */
function referenceRoot(tree: SumTree): { root: string; sums: Sums } {
  let level: { hash: string; sums: Sums }[] = [];
  for (let p = 0; p < tree.size; p++) {
    const sums = tree.leafSumsAt(p);
    level.push({ hash: leafHash(SID, tree.commitmentAt(p), sums), sums });
  }
  while (level.length > 1) {
    const next: typeof level = [];
    for (let j = 0; j < level.length; j += 2) {
      const [l, r] = [level[j], level[j + 1]];
      next.push({
        hash: nodeHash(l.hash, l.sums, r.hash, r.sums),
        sums: {
          owed: l.sums.owed.map((v, i) => v + r.sums.owed[i]),
          debt: l.sums.debt.map((v, i) => v + r.sums.debt[i]),
        },
      });
    }
    level = next;
  }
  return { root: level[0].hash, sums: level[0].sums };
}

function proofOf(tree: SumTree, accounts: AccountLiabilities[], a: number): InclusionProof {
  const p = tree.positionOf(a);
  return {
    accountCommitment: tree.commitmentAt(p),
    index: p,
    owed: accounts[a].owed,
    debt: accounts[a].debt,
    siblings: tree.path(p).siblings,
  };
}

function epochOf(tree: SumTree, sid = SID): EpochCommitment {
  return { snapshotId: sid, root: tree.root, depth: tree.depth, liabilities: tree.totals.owed, debt: tree.totals.debt };
}

describe("reserves Merkle-sum tree (off-chain)", () => {
  const accounts = sampleAccounts(37, 2);
  let tree: SumTree;
  before(async () => {
    tree = await build(accounts, { seed: new Uint8Array(32).fill(7) });
  });

  describe("hashing", () => {
    it("hash-wasm keccak-256 is byte-identical to ethers' keccak256 on inputs of 0..400 bytes", async () => {
      const h = await createKeccak256();
      for (let len = 0; len <= 400; len += 7) {
        const data = ethers.randomBytes(len);
        h.init();
        h.update(data);
        expect(ethers.hexlify(h.digest("binary"))).to.equal(ethers.keccak256(data));
      }
    });

    it("builds the same root as a naive reference built from the encoding with ethers", () => {
      const ref = referenceRoot(tree);
      expect(tree.root).to.equal(ref.root);
      expect(tree.totals).to.deep.equal(ref.sums);
      expect(tree.totals.owed[0]).to.equal(accounts.reduce((s, a) => s + a.owed[0], 0n));
    });

    it("builds the same tree on worker threads as on the calling thread", async function () {
      this.timeout(60_000);
      const many = sampleAccounts(300, 2, "threaded");
      const seed = new Uint8Array(32).fill(3);
      const pool = await HashPool.start(2);
      try {
        const threaded = await build(many, { seed, pool });
        const single = await build(many, { seed });
        expect(threaded.root).to.equal(single.root);
      } finally {
        await pool.close();
      }
    });
  });

  describe("leaves", () => {
    it("gives each client a commitment it recomputes from its id and secret, unlinkable across snapshots", () => {
      const p = tree.positionOf(5);
      expect(tree.commitmentAt(p)).to.equal(accountCommitment(SID, accounts[5].secret, accounts[5].accountId));
      const next = snapshotId(31337n, LEDGER, 2n, 200n);
      expect(accountCommitment(next, accounts[5].secret, accounts[5].accountId)).to.not.equal(tree.commitmentAt(p));
    });

    it("commits non-ASCII account ids by their UTF-8 bytes, like the reference encoding", async () => {
      const ids = ["客户-一", "Zoë", "plain"];
      const t = await build(ids.map((accountId, i) => ({ ...accounts[i], accountId })));
      ids.forEach((id, i) => {
        expect(t.commitmentAt(t.positionOf(i))).to.equal(accountCommitment(SID, accounts[i].secret, id));
      });
      await expectCodeAsync(
        build([
          { ...accounts[0], accountId: "Zoë" },
          { ...accounts[1], accountId: "Zoë" },
        ]),
        "DUPLICATE_ACCOUNT",
      );
    });

    it("shuffles per seed and pads to 2^depth with distinct, zero-sum, seed-dependent padding leaves", async () => {
      const other = await build(accounts, { seed: new Uint8Array(32).fill(8) });
      expect(tree.depth).to.equal(6);
      expect(other.root).to.not.equal(tree.root);
      const moved = accounts.filter((_, a) => tree.positionOf(a) !== other.positionOf(a)).length;
      expect(moved).to.be.greaterThan(accounts.length / 2);
      const padding = [...Array(tree.size).keys()].filter((p) => tree.isPadding(p));
      expect(padding).to.have.length(64 - 37);
      for (const p of padding)
        expect([...tree.leafSumsAt(p).owed, ...tree.leafSumsAt(p).debt]).to.deep.equal([0n, 0n, 0n, 0n]);
      const commitments = new Set([...Array(tree.size).keys()].map((p) => tree.commitmentAt(p)));
      expect(commitments.size).to.equal(tree.size);
      expect(padding.map((p) => tree.commitmentAt(p))).to.not.include(other.commitmentAt(padding[0]));
    });

    it("refuses negative and oversized values, a bad secret, a wrong asset count and duplicate ids", async () => {
      const one = (patch: Partial<AccountLiabilities>): AccountLiabilities[] => [{ ...accounts[0], ...patch }];
      await expectCodeAsync(build(one({ owed: [-1n, 0n] })), "NEGATIVE_VALUE");
      await expectCodeAsync(build(one({ debt: [0n, MAX_UINT128 + 1n] })), "VALUE_OUT_OF_RANGE");
      await expectCodeAsync(build(one({ secret: "0x1234" })), "INVALID_INPUT");
      await expectCodeAsync(build(one({ owed: [1n] })), "ASSET_MISMATCH");
      await expectCodeAsync(
        build([accounts[0], accounts[1], { ...accounts[2], accountId: accounts[0].accountId }]),
        "DUPLICATE_ACCOUNT",
      );
    });

    it("refuses a set whose sums would overflow uint128 instead of wrapping", async () => {
      const half = 1n << 127n;
      const big = [0, 1].map((i) => ({ ...accounts[i], owed: [half, 0n] }));
      await expectCodeAsync(build(big), "SUM_OVERFLOW");
    });

    it("adds sums far beyond 64 bits exactly (no 64-bit wrap as in merkletreejs' MerkleSumTree)", async () => {
      const v = (1n << 64n) - 1n;
      const big = accounts.slice(0, 5).map((a) => ({ ...a, owed: [v, 1n << 100n] }));
      const t = await build(big);
      expect(t.totals.owed).to.deep.equal([5n * v, 5n << 100n]);
    });

    it("cannot give [a,b,c] the root of [a,b,c,c]: padding is a fresh zero-sum leaf and a repeated leaf is refused", async () => {
      const three = await build(accounts.slice(0, 3), { seed: new Uint8Array(32).fill(1) });
      const leaves: PublishedLeaf[] = [...Array(4).keys()].map((p) => ({
        commitment: three.commitmentAt(p),
        ...three.leafSumsAt(p),
        padding: three.isPadding(p),
      }));
      const real = leaves.filter((l) => !l.padding);
      await expectCodeAsync(buildFromLeaves([...real, real[2]], 2, SID), "DUPLICATE_COMMITMENT");
      const rebuilt = await buildFromLeaves(leaves, 2, SID);
      expect(rebuilt.root).to.equal(three.root);
      expect(rebuilt.leafCount).to.equal(3);
    });
  });

  describe("verifyInclusion (the client's offline check)", () => {
    it("accepts every client's proof", () => {
      accounts.forEach((_, a) => verifyInclusion(proofOf(tree, accounts, a), epochOf(tree)));
    });

    it("rejects a tampered leaf, a tampered sibling hash or sums, and swapped siblings", () => {
      const p = proofOf(tree, accounts, 9);
      expectCode(() => verifyInclusion({ ...p, debt: [p.debt[0] + 1n, 0n] }, epochOf(tree)), "PROOF_INVALID");
      const sib = (l: number, patch: object) => ({
        ...p,
        siblings: p.siblings.map((s, i) => (i === l ? { ...s, ...patch } : s)),
      });
      expectCode(() => verifyInclusion(sib(0, { hash: ethers.id("x") }), epochOf(tree)), "PROOF_INVALID");
      expectCode(() => verifyInclusion(sib(3, { owed: [0n, 0n] }), epochOf(tree)), "PROOF_INVALID");
      expectCode(() => verifyInclusion({ ...p, index: p.index ^ 1 }, epochOf(tree)), "PROOF_INVALID");
    });

    it("rejects an internal node presented as a leaf", () => {
      const p = proofOf(tree, accounts, 2);
      const s = p.siblings[0];
      const node = { owed: p.owed.map((v, i) => v + s.owed[i]), debt: p.debt.map((v, i) => v + s.debt[i]) };
      const short = {
        accountCommitment: ethers.id("node"),
        index: p.index >> 1,
        ...node,
        siblings: p.siblings.slice(1),
      };
      expectCode(() => verifyInclusion(short, epochOf(tree)), "PROOF_INVALID");
      expectCode(
        () => verifyInclusion({ ...short, index: p.index, siblings: p.siblings }, epochOf(tree)),
        "PROOF_INVALID",
      );
    });

    it("rejects negative, oversized and overflowing values in a proof", () => {
      const p = proofOf(tree, accounts, 4);
      expectCode(() => verifyInclusion({ ...p, owed: [-3n, 0n] }, epochOf(tree)), "NEGATIVE_VALUE");
      expectCode(() => verifyInclusion({ ...p, owed: [MAX_UINT128 + 1n, 0n] }, epochOf(tree)), "VALUE_OUT_OF_RANGE");
      const wrap = { ...p, siblings: p.siblings.map((s, i) => (i === 0 ? { ...s, owed: [MAX_UINT128, 0n] } : s)) };
      expectCode(() => verifyInclusion(wrap, epochOf(tree)), "SUM_OVERFLOW");
    });

    it("rejects a proof from another epoch, and wrong published totals", () => {
      const p = proofOf(tree, accounts, 4);
      expectCode(() => verifyInclusion(p, epochOf(tree, snapshotId(31337n, LEDGER, 2n, 100n))), "PROOF_INVALID");
      const e = epochOf(tree);
      expectCode(
        () => verifyInclusion(p, { ...e, liabilities: [e.liabilities[0] + 1n, e.liabilities[1]] }),
        "PROOF_INVALID",
      );
    });

    it("shows an omitted client, or one handed another client's leaf, that it is not included", async () => {
      const withoutTen = accounts.filter((_, a) => a !== 10);
      const t = await build(withoutTen);
      const other = proofOf(t, withoutTen, 0);
      const mine = accounts[10];
      const forged = {
        ...other,
        accountCommitment: accountCommitment(SID, mine.secret, mine.accountId),
        owed: mine.owed,
        debt: mine.debt,
      };
      expectCode(() => verifyInclusion(forged, epochOf(t)), "PROOF_INVALID");
      // Two clients sharing one leaf: the second client's own commitment never matches the first client's leaf.
      const file = {
        format: "marginbridge-por-proof" as const,
        encodingVersion: 1 as const,
        chainId: "31337",
        ledger: LEDGER,
        epoch: "1",
        snapshotBlock: "100",
        snapshotId: SID,
        assets: ASSETS,
        depth: t.depth,
        leafCount: t.leafCount,
        root: t.root,
        liabilities: t.totals.owed.map(String),
        debt: t.totals.debt.map(String),
        account: { accountId: mine.accountId, secret: mine.secret, commitment: other.accountCommitment },
        leaf: { index: other.index, owed: other.owed.map(String), debt: other.debt.map(String) },
        siblings: other.siblings.map((s) => ({ hash: s.hash, owed: s.owed.map(String), debt: s.debt.map(String) })),
      };
      expectCode(() => verifyClientProofOffline(file), "PROOF_INVALID");
      const own = {
        ...file,
        account: { ...file.account, accountId: withoutTen[0].accountId, secret: withoutTen[0].secret },
      };
      expect(verifyClientProofOffline(own)).to.equal(t.leafHashAt(other.index));
    });
  });

  describe("property: any valid set", () => {
    it("builds the reference root, totals equal to the sums, and a verifying proof for every account", async () => {
      const amount = fc.bigInt({ min: 0n, max: (1n << 120n) - 1n });
      const account = fc.record({
        owed: fc.array(amount, { minLength: 2, maxLength: 2 }),
        debt: fc.array(amount, { minLength: 2, maxLength: 2 }),
      });
      await fc.assert(
        fc.asyncProperty(
          fc.array(account, { minLength: 1, maxLength: 40 }),
          fc.uint8Array({ minLength: 32, maxLength: 32 }),
          async (rows, seed) => {
            const accs = rows.map((r, i) => ({ ...r, accountId: `p-${i}`, secret: ethers.id(`p-${i}`) }));
            const t = await build(accs, { seed });
            const ref = referenceRoot(t);
            expect(t.root).to.equal(ref.root);
            expect(t.totals.owed).to.deep.equal([0, 1].map((i) => accs.reduce((sum, a) => sum + a.owed[i], 0n)));
            expect(t.totals.debt).to.deep.equal([0, 1].map((i) => accs.reduce((sum, a) => sum + a.debt[i], 0n)));
            expect(t.leafCount).to.equal(accs.length);
            accs.forEach((_, a) => verifyInclusion(proofOf(t, accs, a), epochOf(t)));
          },
        ),
        { numRuns: 15 },
      );
    });
  });

  describe("plain StandardMerkleTree export", () => {
    it("verifies every client with @openzeppelin/merkle-tree and OpenZeppelin's MerkleProof.verify", async () => {
      const plain = buildPlainTree(tree, SID);
      const verifier = await (await ethers.getContractFactory("ReserveOzInclusionVerifier")).deploy();
      for (const a of [0, 17, 36]) {
        const p = tree.positionOf(a);
        const proof = plain.tree.getProof(plain.valueIndexAt[p]);
        const leaf = [SID, tree.commitmentAt(p), accounts[a].owed.map(String), accounts[a].debt.map(String)];
        expect(StandardMerkleTree.verify(plain.tree.root, PLAIN_LEAF_ENCODING, leaf, proof)).to.equal(true);
        expect(
          await verifier.verify(proof, plain.tree.root, SID, tree.commitmentAt(p), accounts[a].owed, accounts[a].debt),
        ).to.equal(true);
        const forged = [accounts[a].owed[0] + 1n, accounts[a].owed[1]];
        expect(
          await verifier.verify(proof, plain.tree.root, SID, tree.commitmentAt(p), forged, accounts[a].debt),
        ).to.equal(false);
      }
      expect([...plain.tree.entries()]).to.have.length(accounts.length);
    });
  });
});
