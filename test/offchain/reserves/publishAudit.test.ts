import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ethers, type JsonRpcSigner } from "ethers";
import { startLocalChain, type LocalChain } from "../../../scripts/lib/localChain";
import { deployAll, devRoleHolders, type DeploymentRecord } from "../../../scripts/deploy/index";
import {
  auditClientProof,
  auditDataset,
  FILES,
  findClientProof,
  JsonFileLiabilitySource,
  publishEpoch,
  type AuditReport,
} from "../../../offchain/reserves";
import { CollateralToken__factory, ReserveLedger__factory } from "../../../typechain-types";

const PORT = 8641;
const ROOT = path.join(__dirname, "..", "..", "..");

function failed(report: AuditReport): string[] {
  return report.checks.filter((c) => !c.ok).map((c) => c.name);
}

describe("reserves publish and audit over JSON-RPC", function () {
  this.timeout(180_000);
  let chain: LocalChain;
  let record: DeploymentRecord;
  let signers: JsonRpcSigner[];
  let work: string;
  let holder: string;

  function liabilitiesFile(name: string, accounts: number, securitiesEach: number): string {
    const file = path.join(work, name);
    const doc = {
      assets: record.tokens.map((t) => t.symbol),
      accounts: Array.from({ length: accounts }, (_, i) => ({
        accountId: i === 1 ? "客户-一" : `client-${i}`,
        secret: ethers.id(`secret-${i}`),
        owed: record.tokens.map((t) => String(t.kind === "cash" ? 1_000_000 * (i + 1) : securitiesEach)),
        debt: record.tokens.map((t) => String(t.kind === "cash" ? 250_000 * i : 0)),
      })),
    };
    writeFileSync(file, JSON.stringify(doc));
    return file;
  }

  async function publish(file: string) {
    const ledger = ReserveLedger__factory.connect(record.contracts.ReserveLedger, signers[5]);
    const symbols = Object.fromEntries(record.tokens.map((t) => [t.symbol, t.address]));
    const source = new JsonFileLiabilitySource(
      file,
      async () => BigInt(await chain.provider.send("eth_blockNumber", [])) /* uncached */,
      symbols,
    );
    return publishEpoch({ ledger, source, dataDir: path.join(work, "data") });
  }

  function reader() {
    return ReserveLedger__factory.connect(record.contracts.ReserveLedger, chain.provider);
  }

  before(async () => {
    work = mkdtempSync(path.join(tmpdir(), "mb-reserves-"));
    chain = await startLocalChain(PORT);
    signers = await Promise.all(Array.from({ length: 12 }, (_, i) => chain.provider.getSigner(i)));
    record = await deployAll(
      { deployer: signers[0], roles: await devRoleHolders(signers), riskDelaySeconds: 0 },
      "test",
    );
    // A registered system account stands in for the MarginEngine / CapitalPool / InsuranceFund.
    holder = await signers[11].getAddress();
    const ledger = ReserveLedger__factory.connect(record.contracts.ReserveLedger, signers[0]);
    await (await ledger.setReserveHolders([holder])).wait();
    for (const t of record.tokens) {
      const token = CollateralToken__factory.connect(t.address, signers[0]);
      await (await token.setSystemAccount(holder, true)).wait();
      const amount = t.kind === "cash" ? 10n ** 12n : 1_000n;
      await (await token.connect(signers[2]).mint(holder, amount, ethers.id(`custody-${t.symbol}`))).wait();
    }
  });

  after(async () => {
    await chain?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("publishes an epoch whose data set passes the full audit against the chain", async () => {
    const result = await publish(liabilitiesFile("e1.json", 40, 20));
    expect(result.manifest.epoch).to.equal("1");
    expect(result.manifest.leafCount).to.equal(40);
    const rec = await reader().getEpoch(1n);
    expect(rec.root).to.equal(result.manifest.root);
    const report = await auditDataset(result.dir, reader());
    expect(failed(report)).to.deep.equal([]);
    expect(report.ok).to.equal(true);
    expect(report.checks.map((c) => c.name)).to.include.members([
      "account commitments unique across the data set",
      "leaf count (non-padding leaves) = on-chain leafCount",
      "root (recomputed = on-chain)",
      "plain StandardMerkleTree root = on-chain plainRoot",
    ]);
  });

  it("lets a client fetch its proof and verify it offline and with the ledger only", async () => {
    const dir = path.join(work, "data", "31337", "epoch-1");
    const proof = findClientProof(dir, "client-7")!;
    expect(proof.account.accountId).to.equal("client-7");
    expect(findClientProof(dir, "client-99")).to.equal(undefined);
    expect(findClientProof(dir, "__proto__")).to.equal(undefined);
    // Offsets are bytes: a non-ASCII id before it does not shift the next client's line.
    expect(findClientProof(dir, "客户-一")!.account.accountId).to.equal("客户-一");
    expect(findClientProof(dir, "client-2")!.account.accountId).to.equal("client-2");
    const report = await auditClientProof(proof, reader());
    expect(failed(report)).to.deep.equal([]);
    const tampered = { ...proof, leaf: { ...proof.leaf, owed: ["1", ...proof.leaf.owed.slice(1)] } };
    const bad = await auditClientProof(tampered, reader());
    expect(bad.ok).to.equal(false);
    expect(failed(bad)).to.include("ReserveLedger.verifyInclusion accepts the proof");
  });

  it("fails the audit of a tampered data set (leaf values or a duplicated commitment)", async () => {
    const dir = path.join(work, "data", "31337", "epoch-1");
    const copy = path.join(work, "tampered");
    cpSync(dir, copy, { recursive: true });
    const lines = readFileSync(path.join(copy, FILES.leaves), "utf8").trimEnd().split("\n");
    const i = lines.findIndex((l) => !l.includes('"padding"'));
    const leaf = JSON.parse(lines[i]) as { owed: string[] };
    leaf.owed[0] = "1";
    lines[i] = JSON.stringify(leaf);
    writeFileSync(path.join(copy, FILES.leaves), lines.join("\n") + "\n");
    const report = await auditDataset(copy, reader());
    expect(report.ok).to.equal(false);
    expect(failed(report)).to.include.members([
      "data hash of leaves file = on-chain dataHash",
      "root (recomputed = on-chain)",
      "total liabilities per asset",
    ]);

    const dup = JSON.parse(lines[i]) as { commitment: string };
    const j = lines.findIndex((l, k) => k !== i && !l.includes('"padding"'));
    const other = JSON.parse(lines[j]) as { commitment: string };
    other.commitment = dup.commitment;
    lines[j] = JSON.stringify(other);
    writeFileSync(path.join(copy, FILES.leaves), lines.join("\n") + "\n");
    const dupReport = await auditDataset(copy, reader());
    expect(failed(dupReport)).to.include("leaves obey the encoding rules");
  });

  it("flags liabilities above reserves, and refuses an old epoch's proof against the new epoch", async () => {
    const result = await publish(liabilitiesFile("e2.json", 30, 100)); // 3,000 shares owed, 1,000 held
    const report = await auditDataset(result.dir, reader());
    expect(report.ok).to.equal(false);
    const shortfalls = failed(report).filter((n) => n.startsWith("reserves cover liabilities"));
    expect(shortfalls).to.have.length(3);
    const old = findClientProof(path.join(work, "data", "31337", "epoch-1"), "client-3")!;
    const replayed = { ...old, epoch: "2", root: result.manifest.root, snapshotBlock: result.manifest.snapshotBlock };
    const bad = await auditClientProof(replayed, reader());
    expect(failed(bad)).to.include("proof verifies offline (commitment, path, sums, totals)");
  });

  it("refuses to publish liabilities whose assets are not the ledger's, in its order", async () => {
    const file = liabilitiesFile("reordered.json", 3, 1);
    const doc = JSON.parse(readFileSync(file, "utf8")) as { assets: string[] };
    doc.assets.reverse();
    writeFileSync(file, JSON.stringify(doc));
    const before = await reader().latestEpoch();
    try {
      await publish(file);
      expect.fail("published reordered assets");
    } catch (err) {
      expect((err as { code?: string }).code).to.equal("ASSET_MISMATCH");
    }
    expect(await reader().latestEpoch()).to.equal(before);
  });

  it("verify command: exit 0 and a PASS report on a sound proof, exit 1 on a tampered one", () => {
    const proof = findClientProof(path.join(work, "data", "31337", "epoch-1"), "client-2")!;
    const good = path.join(work, "good.json");
    const bad = path.join(work, "bad.json");
    writeFileSync(good, JSON.stringify(proof));
    writeFileSync(bad, JSON.stringify({ ...proof, leaf: { ...proof.leaf, debt: ["0", "0", "0", "1"] } }));
    const run = (file: string) =>
      spawnSync(
        process.execPath,
        [
          require.resolve("ts-node/dist/bin.js"),
          "--transpile-only",
          "scripts/reserves-verify.ts",
          "--proof",
          file,
          "--rpc",
          chain.url,
        ],
        { cwd: ROOT, encoding: "utf8" },
      );
    const ok = run(good);
    expect(ok.status, ok.stderr).to.equal(0);
    expect(ok.stdout).to.contain("RESULT: PASS");
    const ko = run(bad);
    expect(ko.status).to.equal(1);
    expect(ko.stdout).to.contain("RESULT: FAIL");
  });
});
