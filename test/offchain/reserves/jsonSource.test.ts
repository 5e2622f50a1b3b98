import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { JsonFileLiabilitySource, parseLiabilities, ReservesError } from "../../../offchain/reserves";

const SECRET = `0x${"ab".repeat(32)}`;

describe("JSON liabilities source", () => {
  it("reads amounts as bigint, resolves asset symbols and falls back to the given snapshot block", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "mb-liab-"));
    try {
      const file = path.join(dir, "l.json");
      const doc = {
        assets: ["mbCNY", "0x00000000000000000000000000000000000000b2"],
        accounts: [
          { accountId: "a", secret: SECRET, owed: ["340282366920938463463374607431768211455", "1"], debt: ["0", "2"] },
        ],
      };
      writeFileSync(file, JSON.stringify(doc));
      const source = new JsonFileLiabilitySource(file, async () => 77n, {
        mbCNY: "0x00000000000000000000000000000000000000b1",
      });
      const set = await source.load();
      expect(set.snapshotBlock).to.equal(77n);
      expect(set.assets).to.deep.equal(["0x00000000000000000000000000000000000000b1", doc.assets[1]]);
      expect(set.accounts[0].owed).to.deep.equal([(1n << 128n) - 1n, 1n]);
      expect(source.description).to.equal(`json:${file}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses unknown fields, non-integer amounts and malformed secrets with INVALID_INPUT", () => {
    const base = { assets: ["x"], accounts: [{ accountId: "a", secret: SECRET, owed: ["1"], debt: ["0"] }] };
    const bad = [
      { ...base, extra: true },
      { ...base, accounts: [{ ...base.accounts[0], owed: ["1.5"] }] },
      { ...base, accounts: [{ ...base.accounts[0], secret: "0x12" }] },
      { ...base, assets: [] },
    ];
    for (const doc of bad) {
      expect(() => parseLiabilities(doc))
        .to.throw(ReservesError)
        .with.property("code", "INVALID_INPUT");
    }
    // A negative amount parses; the tree builder refuses it by the range rule (see tree.test.ts).
    expect(
      parseLiabilities({ ...base, accounts: [{ ...base.accounts[0], debt: ["-1"] }] }).accounts[0].debt,
    ).to.deep.equal([-1n]);
  });
});
