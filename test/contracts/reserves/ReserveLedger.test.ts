import { expect } from "chai";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { deployCoreFixture, type CoreFixture } from "../../helpers/fixtures";
import {
  buildAndPublish,
  buildNextEpoch,
  epochInput,
  ledgerOf,
  proofOf,
  sampleAccounts,
  type BuiltEpoch,
} from "../../helpers/reserves";
import { toContractProof, type InclusionProof } from "../../../offchain/reserves/proof";
import { MAX_UINT128 } from "../../../offchain/reserves/encoding";
import type { ReserveLedger } from "../../../typechain-types";

const { ethers } = hre;

interface LedgerFixture extends CoreFixture {
  ledger: ReserveLedger;
  holder: string;
}

async function ledgerFixture(): Promise<LedgerFixture> {
  const fx = await deployCoreFixture();
  const ledger = ledgerOf(fx);
  // Stand-in for the MarginEngine / CapitalPool / InsuranceFund: a registered system account holding reserves.
  const holder = await fx.actors.users[9].getAddress();
  await fx.cash.setSystemAccount(holder, true);
  await ledger.connect(fx.actors.admin).setReserveHolders([holder]);
  await fx.cash.connect(fx.actors.custodian).mint(holder, 10_000_000n, ethers.id("deposit-1"));
  return { ...fx, ledger, holder };
}

async function publishedFixture(): Promise<LedgerFixture & { e1: BuiltEpoch }> {
  const fx = await loadFixture(ledgerFixture);
  const e1 = await buildAndPublish(fx.ledger, sampleAccounts(11, 4));
  return { ...fx, e1 };
}

function call(ledger: ReserveLedger, epoch: bigint, p: InclusionProof): Promise<string> {
  return ledger.verifyInclusion(epoch, toContractProof(p));
}

describe("ReserveLedger", () => {
  describe("publish", () => {
    it("records the epoch, its totals and the reserves read from the holders' balances", async () => {
      const fx = await loadFixture(ledgerFixture);
      const b = await buildNextEpoch(fx.ledger, sampleAccounts(5, 4));
      const input = epochInput(b);
      await expect(fx.ledger.publish(input))
        .to.emit(fx.ledger, "EpochPublished")
        .withArgs(1n, b.tree.root, b.snapshotBlock, 5n, input.dataHash, ethers.ZeroHash, input.uri);
      const rec = await fx.ledger.getEpoch(1n);
      expect(rec.root).to.equal(b.tree.root);
      expect(rec.snapshotId).to.equal(b.snapshotId);
      expect(rec.depth).to.equal(BigInt(b.tree.depth));
      expect(rec.leafCount).to.equal(5n);
      expect(rec.encodingVersion).to.equal(1n);
      expect(rec.assets).to.deep.equal(await fx.ledger.assets());
      expect(rec.liabilities).to.deep.equal(b.tree.totals.owed);
      expect(rec.debt).to.deep.equal(b.tree.totals.debt);
      expect(rec.reserves).to.deep.equal([10_000_000n, 0n, 0n, 0n]);
      expect(await fx.ledger.latestEpoch()).to.equal(1n);
    });

    it("computes the reserve ratio per asset (18 decimals, max when nothing is owed)", async () => {
      const { ledger, e1 } = await publishedFixture();
      const owed = e1.tree.totals.owed[0];
      expect(await ledger.reserveRatio(1n, 0n)).to.equal((10_000_000n * 10n ** 18n) / owed);
      const empty = await buildAndPublish(ledger, [
        { accountId: "only-cash", secret: ethers.id("s"), owed: [5n, 0n, 0n, 0n], debt: [0n, 0n, 0n, 0n] },
      ]);
      expect(await ledger.reserveRatio(empty.epoch, 1n)).to.equal(ethers.MaxUint256);
      await expect(ledger.reserveRatio(1n, 4n))
        .to.be.revertedWithCustomError(ledger, "ReserveUnknownAsset")
        .withArgs(4n);
      await expect(ledger.reserveRatio(9n, 0n))
        .to.be.revertedWithCustomError(ledger, "ReserveUnknownEpoch")
        .withArgs(9n);
    });

    it("flags every asset whose liabilities exceed the reserves", async () => {
      const fx = await loadFixture(ledgerFixture);
      const b = await buildNextEpoch(fx.ledger, sampleAccounts(4, 4));
      const receipt = await (await fx.ledger.publish(epochInput(b))).wait();
      const assets = await fx.ledger.assets();
      // 10,000,000 cash reserves cover 10,000 owed; the securities (owed 6 each, no reserves) do not.
      const flagged = receipt!.logs
        .map((log) => fx.ledger.interface.parseLog(log))
        .filter((e) => e?.name === "ReserveShortfall")
        .map((e) => [e!.args[0], e!.args[1], e!.args[2], e!.args[3]]);
      expect(flagged).to.deep.equal(assets.slice(1).map((a) => [1n, a, 6n, 0n]));
    });

    it("is restricted to the reserve publisher", async () => {
      const fx = await loadFixture(ledgerFixture);
      const b = await buildNextEpoch(fx.ledger, sampleAccounts(2, 4));
      const outsider = fx.actors.users[0];
      await expect(fx.ledger.connect(outsider).publish(epochInput(b)))
        .to.be.revertedWithCustomError(fx.ledger, "AccessManagedUnauthorized")
        .withArgs(outsider.address);
    });

    it("only moves forward: the next epoch number and a later snapshot block", async () => {
      const { ledger, e1 } = await publishedFixture();
      const again = await buildNextEpoch(ledger, sampleAccounts(3, 4));
      await expect(ledger.publish(epochInput(again, { epoch: 1n })))
        .to.be.revertedWithCustomError(ledger, "ReserveEpochNotNext")
        .withArgs(1n, 2n);
      await expect(ledger.publish(epochInput(again, { epoch: 3n })))
        .to.be.revertedWithCustomError(ledger, "ReserveEpochNotNext")
        .withArgs(3n, 2n);
      await expect(ledger.publish(epochInput(again, { snapshotBlock: e1.snapshotBlock })))
        .to.be.revertedWithCustomError(ledger, "ReserveSnapshotBlockInvalid")
        .withArgs(e1.snapshotBlock, e1.snapshotBlock, anyValue);
      const future = BigInt(await ethers.provider.getBlockNumber()) + 5n;
      await expect(ledger.publish(epochInput(again, { snapshotBlock: future })))
        .to.be.revertedWithCustomError(ledger, "ReserveSnapshotBlockInvalid")
        .withArgs(future, e1.snapshotBlock, anyValue);
    });

    it("refuses a zero root, a bad depth, a bad leaf count, wrong asset counts and oversized totals", async () => {
      const fx = await loadFixture(ledgerFixture);
      const b = await buildNextEpoch(fx.ledger, sampleAccounts(3, 4));
      const l = fx.ledger;
      await expect(l.publish(epochInput(b, { root: ethers.ZeroHash }))).to.be.revertedWithCustomError(
        l,
        "ReserveZeroRoot",
      );
      await expect(l.publish(epochInput(b, { depth: 0 })))
        .to.be.revertedWithCustomError(l, "ReserveDepthInvalid")
        .withArgs(0);
      await expect(l.publish(epochInput(b, { depth: 33 })))
        .to.be.revertedWithCustomError(l, "ReserveDepthInvalid")
        .withArgs(33);
      await expect(l.publish(epochInput(b, { leafCount: 0n })))
        .to.be.revertedWithCustomError(l, "ReserveLeafCountInvalid")
        .withArgs(0n, b.tree.depth);
      await expect(l.publish(epochInput(b, { leafCount: 5n })))
        .to.be.revertedWithCustomError(l, "ReserveLeafCountInvalid")
        .withArgs(5n, b.tree.depth);
      await expect(l.publish(epochInput(b, { liabilities: [1n, 2n, 3n] })))
        .to.be.revertedWithCustomError(l, "ReserveAssetCountMismatch")
        .withArgs(3n, 4n);
      await expect(l.publish(epochInput(b, { debt: [1n] })))
        .to.be.revertedWithCustomError(l, "ReserveAssetCountMismatch")
        .withArgs(1n, 4n);
      await expect(l.publish(epochInput(b, { liabilities: [MAX_UINT128 + 1n, 0n, 0n, 0n] })))
        .to.be.revertedWithCustomError(l, "ReserveValueOutOfRange")
        .withArgs(MAX_UINT128 + 1n);
    });
  });

  describe("admin lists", () => {
    it("sets assets and reserve holders (admin only), refusing zero and repeated addresses", async () => {
      const fx = await loadFixture(ledgerFixture);
      const l = fx.ledger.connect(fx.actors.admin);
      const a = fx.actors.users[1].address;
      const b = fx.actors.users[2].address;
      await expect(l.setReserveHolders([a, b]))
        .to.emit(l, "ReserveHoldersSet")
        .withArgs([a, b]);
      expect(await l.reserveHolders()).to.deep.equal([a, b]);
      await expect(l.setReserveHolders([a, a]))
        .to.be.revertedWithCustomError(l, "ReserveInvalidAddress")
        .withArgs(a);
      await expect(l.setAssets([ethers.ZeroAddress]))
        .to.be.revertedWithCustomError(l, "ReserveInvalidAddress")
        .withArgs(ethers.ZeroAddress);
      await expect(l.setAssets([])).to.be.revertedWithCustomError(l, "ReserveNoAssets");
      await expect(l.setAssets([a]))
        .to.emit(l, "AssetsSet")
        .withArgs([a]);
      const outsider = fx.actors.reservePublisher;
      await expect(fx.ledger.connect(outsider).setReserveHolders([a]))
        .to.be.revertedWithCustomError(l, "AccessManagedUnauthorized")
        .withArgs(outsider.address);
      await expect(fx.ledger.connect(outsider).setAssets([a]))
        .to.be.revertedWithCustomError(l, "AccessManagedUnauthorized")
        .withArgs(outsider.address);
    });
  });

  describe("verifyInclusion", () => {
    it("accepts every client's proof and returns its leaf", async () => {
      const { ledger, e1 } = await publishedFixture();
      for (let i = 0; i < e1.set.accounts.length; i++) {
        const leaf = await call(ledger, 1n, proofOf(e1, i));
        expect(leaf).to.equal(e1.tree.leafHashAt(e1.tree.positionOf(i)));
      }
    });

    it("rejects a tampered leaf value", async () => {
      const { ledger, e1 } = await publishedFixture();
      const p = proofOf(e1, 3);
      const forged = { ...p, owed: [p.owed[0] + 1n, ...p.owed.slice(1)] };
      await expect(call(ledger, 1n, forged)).to.be.revertedWithCustomError(ledger, "ReserveRootMismatch");
    });

    it("rejects a tampered sibling hash and tampered sibling sums", async () => {
      const { ledger, e1 } = await publishedFixture();
      const p = proofOf(e1, 3);
      const badHash = { ...p, siblings: p.siblings.map((s, l) => (l === 1 ? { ...s, hash: ethers.id("x") } : s)) };
      await expect(call(ledger, 1n, badHash)).to.be.revertedWithCustomError(ledger, "ReserveRootMismatch");
      // Showing the client a smaller neighbour subtree (Maxwell's weakness) changes the root: sums are hashed.
      // Leaves are shuffled and padded per snapshot: pick a sibling subtree that holds some liabilities.
      const level = p.siblings.findIndex((s) => s.owed.some((v) => v > 1n));
      expect(level).to.be.greaterThanOrEqual(0);
      const badSums = {
        ...p,
        siblings: p.siblings.map((s, l) => (l === level ? { ...s, owed: s.owed.map((v) => v / 2n) } : s)),
      };
      await expect(call(ledger, 1n, badSums)).to.be.revertedWithCustomError(ledger, "ReserveRootMismatch");
    });

    it("rejects swapped siblings: the position fixes left and right", async () => {
      const { ledger, e1 } = await publishedFixture();
      const p = proofOf(e1, 4);
      await expect(call(ledger, 1n, { ...p, index: p.index ^ 1 })).to.be.revertedWithCustomError(
        ledger,
        "ReserveRootMismatch",
      );
      await expect(call(ledger, 1n, { ...p, index: p.index ^ 4 })).to.be.revertedWithCustomError(
        ledger,
        "ReserveRootMismatch",
      );
      await expect(call(ledger, 1n, { ...p, index: 2 ** e1.tree.depth }))
        .to.be.revertedWithCustomError(ledger, "ReserveIndexOutOfRange")
        .withArgs(2n ** BigInt(e1.tree.depth), e1.tree.depth);
    });

    it("rejects an internal node presented as a leaf", async () => {
      const { ledger, e1 } = await publishedFixture();
      const p = proofOf(e1, 0);
      // The level-1 node above the client: its hash as the "commitment", its sums as the values.
      const sib = p.siblings[0];
      const nodeSums = { owed: p.owed.map((v, i) => v + sib.owed[i]), debt: p.debt.map((v, i) => v + sib.debt[i]) };
      const upper = p.siblings.slice(1);
      const asLeaf = { accountCommitment: ethers.id("node"), index: p.index >> 1, ...nodeSums, siblings: upper };
      await expect(call(ledger, 1n, asLeaf))
        .to.be.revertedWithCustomError(ledger, "ReserveProofLengthMismatch")
        .withArgs(upper.length, e1.tree.depth);
      // Padded back to full depth with a fake bottom sibling: the leaf tag keeps it from hashing like a node.
      const padded = { ...asLeaf, index: p.index, siblings: [{ ...sib, owed: [0n, 0n, 0n, 0n] }, ...upper] };
      await expect(call(ledger, 1n, padded)).to.be.revertedWithCustomError(ledger, "ReserveRootMismatch");
    });

    it("rejects negative, oversized and overflowing values (range and sum rules)", async () => {
      const { ledger, e1 } = await publishedFixture();
      const p = toContractProof(proofOf(e1, 2));
      const negative = (1n << 256n) - 5n; // -5 in two's complement
      await expect(ledger.verifyInclusion(1n, { ...p, owed: [negative, 0n, 0n, 0n] }))
        .to.be.revertedWithCustomError(ledger, "ReserveValueOutOfRange")
        .withArgs(negative);
      await expect(ledger.verifyInclusion(1n, { ...p, debt: [0n, MAX_UINT128 + 1n, 0n, 0n] }))
        .to.be.revertedWithCustomError(ledger, "ReserveValueOutOfRange")
        .withArgs(MAX_UINT128 + 1n);
      const sums = [...p.siblingSums];
      sums[0] = MAX_UINT128 + 7n;
      await expect(ledger.verifyInclusion(1n, { ...p, siblingSums: sums }))
        .to.be.revertedWithCustomError(ledger, "ReserveValueOutOfRange")
        .withArgs(MAX_UINT128 + 7n);
      // Both in range, but their sum is not: refused instead of wrapping.
      const wrap = [...p.siblingSums];
      wrap[0] = MAX_UINT128;
      await expect(ledger.verifyInclusion(1n, { ...p, siblingSums: wrap }))
        .to.be.revertedWithCustomError(ledger, "ReserveSumOverflow")
        .withArgs(0n, MAX_UINT128 + p.owed[0]);
      await expect(ledger.verifyInclusion(1n, { ...p, siblingSums: p.siblingSums.slice(1) }))
        .to.be.revertedWithCustomError(ledger, "ReserveProofLengthMismatch")
        .withArgs(p.siblingSums.length - 1, p.siblingSums.length);
    });

    it("rejects a proof from another epoch", async () => {
      const { ledger, e1 } = await publishedFixture();
      await buildAndPublish(ledger, e1.set.accounts);
      await expect(call(ledger, 2n, proofOf(e1, 1))).to.be.revertedWithCustomError(ledger, "ReserveRootMismatch");
      await expect(call(ledger, 3n, proofOf(e1, 1)))
        .to.be.revertedWithCustomError(ledger, "ReserveUnknownEpoch")
        .withArgs(3n);
    });

    it("rejects every proof of an epoch whose published totals differ from the tree's", async () => {
      const fx = await loadFixture(ledgerFixture);
      const b = await buildNextEpoch(fx.ledger, sampleAccounts(6, 4));
      const understated = [b.tree.totals.owed[0] - 1n, ...b.tree.totals.owed.slice(1)];
      await fx.ledger.publish(epochInput(b, { liabilities: understated }));
      await expect(call(fx.ledger, 1n, proofOf(b, 0)))
        .to.be.revertedWithCustomError(fx.ledger, "ReserveTotalsMismatch")
        .withArgs(0n, b.tree.totals.owed[0], understated[0]);
    });

    it("gives an omitted client no proof, and no client another's leaf: its own commitment never reaches the root", async () => {
      const fx = await loadFixture(ledgerFixture);
      const all = sampleAccounts(8, 4);
      const omitted = all[5];
      const b = await buildAndPublish(
        fx.ledger,
        all.filter((a) => a !== omitted),
      );
      // The best the operator can hand the omitted client is another client's path.
      const other = proofOf(b, 0);
      const { accountCommitment } = await import("../../../offchain/reserves/encoding");
      const own = accountCommitment(b.snapshotId, omitted.secret, omitted.accountId);
      await expect(
        call(fx.ledger, 1n, { ...other, accountCommitment: own, owed: omitted.owed, debt: omitted.debt }),
      ).to.be.revertedWithCustomError(fx.ledger, "ReserveRootMismatch");
    });

    it("counts an insolvent account's full claim: debt is never netted against what is owed", async () => {
      const fx = await loadFixture(ledgerFixture);
      const accounts = sampleAccounts(3, 4);
      accounts[1] = { ...accounts[1], owed: [100n, 0n, 0n, 0n], debt: [5_000n, 0n, 0n, 0n] };
      const b = await buildAndPublish(fx.ledger, accounts);
      const rec = await fx.ledger.getEpoch(1n);
      expect(rec.liabilities[0]).to.equal(accounts.reduce((s, a) => s + a.owed[0], 0n));
      expect(rec.debt[0]).to.equal(accounts.reduce((s, a) => s + a.debt[0], 0n));
      await call(fx.ledger, 1n, proofOf(b, 1));
    });
  });
});
