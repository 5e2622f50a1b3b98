import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DEV_KEYS, configFromEnv, parseConfig } from "../../../offchain/shared/config";
import { AppError } from "../../../offchain/shared/errors";
import { createLogger } from "../../../offchain/shared/logger";
import { formatUnits, mulDivDown, mulDivUp, parseUnits } from "../../../offchain/shared/money";
import { loadApiKey } from "../../../offchain/api/keys";
import { openStore } from "../../../offchain/store";

const ROOT = path.join(__dirname, "..", "..", "..");

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith(".ts") ? [p] : [];
  });
}

describe("shared foundation", function () {
  describe("config", function () {
    it("is the only module of the service that reads process.env", function () {
      const readers = tsFiles(path.join(ROOT, "offchain"))
        .filter((f) => readFileSync(f, "utf8").includes("process.env"))
        .map((f) => path.relative(ROOT, f));
      expect(readers).to.deep.equal(["offchain/shared/config.ts"]);
    });

    it("maps environment variables onto the typed configuration", function () {
      const c = configFromEnv({
        MB_STORE: "postgres",
        MB_DATABASE_URL: "postgres://x/y",
        MB_API_PORT: "9000",
        MB_CONFIRMATIONS: "5",
      });
      expect(c.store).to.deep.equal({ engine: "postgres", url: "postgres://x/y", poolSize: 10 });
      expect(c.api.port).to.equal(9000);
      expect(c.chain.confirmations).to.equal(5);
      expect(c.kyc.dataKey.length).to.equal(32);
      // the keeper's batch settings and the capital providers' queue server
      const k = configFromEnv({
        MB_KEEPER_MODE: "single",
        MB_KEEPER_BATCH_GAS: "8000000",
        MB_KEEPER_BATCH_MAX_ACCOUNTS: "50",
        MB_QUEUE_INTERVAL_MS: "5000",
      });
      expect([k.keeper.mode, k.keeper.batchGasBudget, k.keeper.batchMaxAccounts]).to.deep.equal([
        "single",
        8_000_000n,
        50,
      ]);
      expect(configFromEnv({}).keeper.mode).to.equal("batch");
      expect(k.providers).to.deep.include({ queueIntervalMs: 5000, queueMaxSteps: 20 });
      expect(() => configFromEnv({ MB_KEEPER_MODE: "fast" })).to.throw(/keeper\.mode/);
      expect(() => parseConfig({ env: "production", providers: { queueServerKey: DEV_KEYS.queueServerKey } })).to.throw(
        /providers\.queueServerKey: the development key is refused/,
      );
      // the ops console's breaker re-arm key (issue 25): from the environment, the dev one refused in production
      const wallet = "0x" + "1".repeat(64);
      expect(configFromEnv({ MB_BREAKER_RESET_KEY: wallet }).risk).to.deep.equal({
        breakerResetKey: wallet,
        breakerClaimTtlMs: 120_000,
      });
      expect(() => parseConfig({ env: "production", risk: { breakerResetKey: DEV_KEYS.riskOfficerKey } })).to.throw(
        /risk\.breakerResetKey: the development key is refused/,
      );
    });

    it("names every invalid field and refuses development keys in production", function () {
      const err = (() => {
        try {
          configFromEnv({ MB_API_PORT: "http", MB_CONFIRMATIONS: "-1", MB_KYC_DATA_KEY: "short" });
        } catch (e) {
          return e as AppError;
        }
      })();
      expect(err?.code).to.equal("CONFIG_INVALID");
      expect((err!.details.issues as { path: string }[]).map((i) => i.path).sort()).to.deep.equal([
        "api.port",
        "chain.confirmations",
        "kyc.dataKey",
      ]);
      expect(() => parseConfig({ env: "production" })).to.throw(/kyc\.dataKey: the development key is refused/);
      expect(() =>
        parseConfig({
          env: "production",
          api: { secretKey: "11".repeat(32) },
          kyc: { dataKey: "22".repeat(32) },
          chain: { kycOfficerKey: DEV_KEYS.kycOfficerKey },
        }),
      ).to.throw(/chain\.kycOfficerKey/);
      expect(() => parseConfig({ unknown: 1 })).to.throw(/Unrecognized key/);
    });
  });

  describe("logger", function () {
    it("writes one JSON object per line and redacts secrets and personal data at any depth", function () {
      const lines: string[] = [];
      const log = createLogger({ level: "info", sink: (l) => lines.push(l) }).child({ component: "test" });
      log.debug("hidden");
      log.info("submitted", {
        applicant: { fullName: "Li Wei", dateOfBirth: "1985-01-01", tier: 2 },
        secret: "s3cr3t",
        amount: 10n ** 30n,
      });
      expect(lines).to.have.length(1);
      const o = JSON.parse(lines[0]);
      expect(o).to.include({
        level: "info",
        msg: "submitted",
        component: "test",
        secret: "[redacted]",
        amount: "1000000000000000000000000000000",
      });
      expect(o.applicant).to.deep.equal({ fullName: "[redacted]", dateOfBirth: "[redacted]", tier: 2 });
      expect(o.time).to.match(/^\d{4}-\d{2}-\d{2}T/);
    });
  });

  describe("money", function () {
    it("converts decimal strings and integers exactly, refusing floats' failure modes", function () {
      expect(parseUnits("1234.5", 6)).to.equal(1_234_500_000n);
      expect(parseUnits("0.000001", 6)).to.equal(1n);
      expect(formatUnits(1_234_500_000n, 6)).to.equal("1234.5");
      expect(formatUnits(-5n, 2)).to.equal("-0.05");
      for (const bad of ["1e6", "-1", "01", "1.", ".5", "1.0000001", " 1", ""])
        expect(() => parseUnits(bad, 6), bad).to.throw(AppError);
      expect(mulDivDown(10n, 1n, 3n)).to.equal(3n);
      expect(mulDivUp(10n, 1n, 3n)).to.equal(4n);
      expect(mulDivUp(0n, 1n, 3n)).to.equal(0n);
    });
  });

  describe("audit verify command", function () {
    it("exits 0 on an intact chain and 1 with the broken entry after tampering", async function () {
      const dir = mkdtempSync(path.join(tmpdir(), "mb-cli-"));
      const file = path.join(dir, "a.sqlite");
      try {
        const store = await openStore({ engine: "sqlite", path: file });
        for (let i = 0; i < 3; i++)
          await store.transaction((tx) =>
            tx.audit.append({ actor: "k", role: "operator", action: "x", requestId: `r${i}`, details: {} }),
          );
        await store.close();
        const run = (): { code: number; out: string } => {
          try {
            const out = execFileSync(
              process.execPath,
              [require.resolve("ts-node/dist/bin.js"), "--transpile-only", "offchain/api/cli.ts", "verify-audit"],
              {
                cwd: ROOT,
                env: { ...process.env, MB_SQLITE_PATH: file, MB_STORE: "sqlite" },
                encoding: "utf8",
              },
            );
            return { code: 0, out };
          } catch (e) {
            const err = e as { status: number; stdout: string };
            return { code: err.status, out: err.stdout };
          }
        };
        const ok = run();
        expect(ok.code).to.equal(0);
        expect(JSON.parse(ok.out)).to.include({ ok: true, entries: 3 });
        const { openSqlite } = await import("../../../offchain/store/sqlite");
        const raw = openSqlite(file);
        await raw.run("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2");
        await raw.close();
        const broken = run();
        expect(broken.code).to.equal(1);
        expect(JSON.parse(broken.out).brokenAt).to.deep.equal({
          seq: 2,
          reason: "entry hash does not match its content",
        });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe("create-key command (a deployment's first operator key)", function () {
    it("creates a key that authenticates, records it in the audit log, and refuses bad arguments", async function () {
      const dir = mkdtempSync(path.join(tmpdir(), "mb-cli-key-"));
      const file = path.join(dir, "k.sqlite");
      const subject = "0x" + "ab".repeat(20);
      const run = (...args: string[]): { code: number; out: string; err: string } => {
        try {
          const out = execFileSync(
            process.execPath,
            [require.resolve("ts-node/dist/bin.js"), "--transpile-only", "offchain/api/cli.ts", ...args],
            {
              cwd: ROOT,
              env: { ...process.env, MB_SQLITE_PATH: file, MB_STORE: "sqlite" },
              encoding: "utf8",
              stdio: "pipe",
            },
          );
          return { code: 0, out, err: "" };
        } catch (e) {
          const x = e as { status: number; stdout: string; stderr: string };
          return { code: x.status, out: x.stdout, err: x.stderr };
        }
      };
      try {
        const made = run("create-key", "--role", "operator", "--subject", subject, "--label", "first operator");
        expect(made.code, made.err).to.equal(0);
        const key = JSON.parse(made.out) as { keyId: string; secret: string; role: string; subject: string };
        expect(key).to.include({ role: "operator", subject });
        const store = await openStore({ engine: "sqlite", path: file });
        try {
          const loaded = await loadApiKey(store, Buffer.from(DEV_KEYS.apiSecretKey, "hex"), key.keyId);
          expect(loaded).to.include({ role: "operator", subject, secret: key.secret });
          const audit = await store.audit.list(1, 10);
          expect(audit.map((a) => [a.action, (a.details as { keyId?: string }).keyId])).to.deep.equal([
            ["cli.create-key", key.keyId],
          ]);
        } finally {
          await store.close();
        }
        expect(run("create-key", "--role", "root", "--subject", subject, "--label", "x").code).to.equal(2);
        expect(run("create-key", "--role", "operator", "--subject", "0x12", "--label", "x").code).to.equal(2);
        expect(run("create-key", "--role", "operator", "--subject", subject).code).to.equal(2);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
