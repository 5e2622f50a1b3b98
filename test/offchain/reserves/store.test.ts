import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { accountSecret, reservesMarginAccountsHandler } from "../../../offchain/reserves";
import { open } from "../../../offchain/shared/crypto";
import { openStore, type Store, type StoreOptions } from "../../../offchain/store";
import { createTestDatabase } from "../../helpers/postgres";
import { TEST_SECRET_KEY } from "../../helpers/api";

const A = "0x00000000000000000000000000000000000000aA";
const B = "0x00000000000000000000000000000000000000bB";
const C = "0x00000000000000000000000000000000000000cC";

interface Engine {
  name: string;
  setup(): Promise<StoreOptions | { skip: string }>;
  teardown(): Promise<void>;
}

let dir = "";
let drop: (() => Promise<void>) | undefined;
const ENGINES: Engine[] = [
  {
    name: "SQLite",
    async setup() {
      dir = mkdtempSync(path.join(tmpdir(), "mb-reserves-store-"));
      return { engine: "sqlite", path: path.join(dir, "store.sqlite") };
    },
    async teardown() {
      rmSync(dir, { recursive: true, force: true });
    },
  },
  {
    name: "PostgreSQL",
    async setup() {
      const db = await createTestDatabase("mb_reserves_store");
      if ("skip" in db) return db;
      drop = db.drop;
      return { engine: "postgres", url: db.url, poolSize: 3 };
    },
    async teardown() {
      await drop?.();
    },
  },
];

const event = (name: string, args: Record<string, unknown>, blockNumber: number) => ({
  contract: "MarginEngine",
  address: "0x0000000000000000000000000000000000000001",
  event: name,
  args,
  blockNumber,
  logIndex: 0,
  blockHash: "0x" + "00".repeat(32),
  txHash: "0x" + "00".repeat(32),
});

for (const engine of ENGINES) {
  describe(`reserves store on ${engine.name}`, function () {
    let store: Store;

    before(async function () {
      const o = await engine.setup();
      if ("skip" in o) {
        console.log(`    skipping ${engine.name} reserves store tests: ${o.skip}`);
        this.skip();
      }
      store = await openStore(o);
    });

    after(async function () {
      await store?.close();
      await engine.teardown();
    });

    it("records every address of an account event with the first block it was seen at", async function () {
      const h = reservesMarginAccountsHandler("0x0000000000000000000000000000000000000001");
      await store.transaction(async (tx) => {
        await h.handle(event("CollateralDeposited", { account: A, asset: C, amount: 1n }, 10), tx);
        await h.handle(event("TradeLegsSettled", { buyer: B, seller: A, asset: C, units: 1n, cashAmount: 1n }, 12), tx);
        // A later sighting must not move an account's first block forward, an earlier one (replay) moves it back.
        await h.handle(event("Borrowed", { account: B, amount: 1n, scaled: 1n, debtAfter: 1n }, 15), tx);
      });
      await store.reserves.addAccount(B, 11);
      expect(await store.reserves.accountsAt(9)).to.deep.equal([]);
      expect(await store.reserves.accountsAt(10)).to.deep.equal([A.toLowerCase()]);
      expect(await store.reserves.accountsAt(11)).to.deep.equal([A.toLowerCase(), B.toLowerCase()]);
    });

    it("a rewind clears the account set but keeps every account's secret", async function () {
      const before = await accountSecret(store, TEST_SECRET_KEY, A);
      await reservesMarginAccountsHandler(A).reset(store);
      expect(await store.reserves.accountsAt(1_000)).to.deep.equal([]);
      expect(await accountSecret(store, TEST_SECRET_KEY, A)).to.equal(before);
    });

    it("creates one secret per account, stores it sealed and bound to the account, and never replaces it", async function () {
      const secret = await accountSecret(store, TEST_SECRET_KEY, B);
      expect(secret).to.match(/^0x[0-9a-f]{64}$/);
      expect(await accountSecret(store, TEST_SECRET_KEY, B.toLowerCase())).to.equal(secret);
      const sealed = (await store.reserves.secret(B))!;
      expect(sealed).to.match(/^v1\./).and.not.include(secret.slice(2));
      expect(() => open(TEST_SECRET_KEY, sealed, `reserves-secret:${A.toLowerCase()}`)).to.throw(
        "failed authentication",
      );
      expect(await store.reserves.insertSecretIfAbsent(B, "v1.other")).to.equal(sealed);
      // Two first sightings at once agree on one secret.
      const [x, y] = await Promise.all([
        accountSecret(store, TEST_SECRET_KEY, C),
        accountSecret(store, TEST_SECRET_KEY, C),
      ]);
      expect(x).to.equal(y);
      if (store.engine === "sqlite")
        expect(readFileSync(path.join(dir, "store.sqlite")).includes(secret.slice(2))).to.equal(false);
    });
  });
}
