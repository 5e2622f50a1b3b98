import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ALL_MIGRATIONS, openStore, type StoreOptions } from "../../../offchain/store";
import { createTestDatabase } from "../../helpers/postgres";

/**
 * Upgrading a database that holds signed orders from before nonce tracking: the migration reserves each stored
 * order's hub nonce for it (the first order of a reused nonce keeps it), so a live order's nonce cannot be reused.
 */
for (const engine of ["SQLite", "PostgreSQL"] as const) {
  describe(`store upgrade: hub nonces of existing signed orders (${engine})`, function () {
    let opts: StoreOptions;
    let cleanup: () => Promise<void> = async () => undefined;

    before(async function () {
      if (engine === "SQLite") {
        const dir = mkdtempSync(path.join(tmpdir(), "mb-upgrade-"));
        opts = { engine: "sqlite", path: path.join(dir, "store.sqlite") };
        cleanup = async () => rmSync(dir, { recursive: true, force: true });
      } else {
        const db = await createTestDatabase("mb_store_upgrade");
        if ("skip" in db) {
          console.log(`    skipping: ${db.skip}`);
          this.skip();
        }
        opts = { engine: "postgres", url: db.url, poolSize: 2 };
        cleanup = db.drop;
      }
    });
    after(() => cleanup());

    it("reserves every stored order's nonce, the earliest order keeping a reused one", async () => {
      const before = ALL_MIGRATIONS.filter(
        (m) => !(m.capability === "orderbook" && m.version >= 3) && m.capability !== "instances",
      );
      const old = await openStore({ ...opts, migrations: before });
      const body = (nonce: string) =>
        JSON.stringify({ order: { account: "0xaa", nonce, quantity: "1", limitPrice: "1" }, sig: {}, instrument: "X" });
      for (const [id, nonce] of [
        [1, "7"],
        [2, "123456789012345678901234567890"],
        [3, "7"],
      ] as const)
        await old.orderbook.insertOrder({
          orderId: id,
          instrument: "X",
          account: "0xAA",
          orderHash: `0x${id}`,
          body: body(nonce),
        });
      await old.close();
      const upgraded = await openStore(opts);
      try {
        expect(await upgraded.orderbook.nonceState("0xaa", 7n)).to.include({ reservedBy: 1 });
        expect(await upgraded.orderbook.nonceState("0xaa", 123456789012345678901234567890n)).to.include({
          reservedBy: 2,
        });
        expect(await upgraded.orderbook.reserveNonce("0xaa", 7n, 4)).to.equal(false);
        expect(await upgraded.orderbook.reserveNonce("0xaa", 8n, 4)).to.equal(true);
      } finally {
        await upgraded.close();
      }
    });
  });
}
