import { expect } from "chai";
import { Wallet } from "ethers";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ApiClient, type NewApiKey, type Role } from "../../../offchain/api";
import { startService } from "../../../offchain/main";
import { DEV_KEYS, parseConfig } from "../../../offchain/shared/config";
import { createLogger } from "../../../offchain/shared/logger";
import { createTestDatabase, type TestPostgres } from "../../helpers/postgres";

const API_PORT = 18134;

/**
 * The development staff keys at start: a restart on the same store gives the same set back (no new keys, the old
 * ones still the only ones), a changed subject revokes the old key, and no secret reaches the log.
 */
describe("development keys across restarts", function () {
  this.timeout(60_000);
  for (const engine of ["sqlite", "postgres"] as const) {
    describe(`on ${engine}`, function () {
      let pg: TestPostgres | undefined;
      let dir: string;
      const lines: string[] = [];

      before(async function () {
        if (engine === "postgres") {
          pg = await createTestDatabase("mb_demo_keys");
          if ("skip" in pg) {
            console.log(`    skipped: ${pg.skip}`);
            return this.skip();
          }
        }
        dir = mkdtempSync(path.join(tmpdir(), "mb-demo-keys-"));
      });
      after(async function () {
        if (pg && "drop" in pg) await pg.drop();
        if (dir) rmSync(dir, { recursive: true, force: true });
      });

      async function start(client: string): Promise<{ keys: Partial<Record<Role, NewApiKey>>; stop(): Promise<void> }> {
        const config = parseConfig({
          env: "development",
          dataDir: dir,
          log: { level: "debug" },
          store: pg && "url" in pg ? { engine: "postgres", url: pg.url } : { engine: "sqlite" },
          // No deployment here: the keys do not need the chain.
          chain: { deploymentsDir: dir },
          api: { host: "127.0.0.1", port: API_PORT, secretKey: DEV_KEYS.apiSecretKey },
        });
        const service = await startService(config, {
          demoKeys: true,
          demoClientAccount: client,
          log: createLogger({ level: "debug", sink: (l) => lines.push(l) }),
        });
        return {
          keys: service.demoKeys,
          stop: () => service.stop(),
        };
      }

      const works = async (k: NewApiKey): Promise<number> =>
        (await new ApiClient(`http://127.0.0.1:${API_PORT}`, k).get("/v1/me")).status;

      it("reuses the same keys after a restart and revokes a client key whose account changed", async function () {
        const clientA = Wallet.createRandom().address;
        const first = await start(clientA);
        await first.stop();
        const second = await start(clientA);
        try {
          expect(second.keys).to.deep.equal(first.keys);
          for (const k of Object.values(second.keys)) expect(await works(k)).to.equal(200);
        } finally {
          await second.stop();
        }
        const clientB = Wallet.createRandom().address;
        const third = await start(clientB);
        try {
          expect(third.keys.client!.keyId).to.not.equal(first.keys.client!.keyId);
          expect(third.keys.client!.subject).to.equal(clientB);
          expect(await works(first.keys.client!)).to.equal(401); // the old client key no longer works
          expect(await works(third.keys.client!)).to.equal(200);
          expect(third.keys.operator).to.deep.equal(first.keys.operator);
        } finally {
          await third.stop();
        }
        const log = lines.join("\n");
        for (const k of [...Object.values(first.keys), third.keys.client!]) expect(log).to.not.contain(k.secret);
      });
    });
  }
});
