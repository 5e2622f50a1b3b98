import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ApiClient } from "../../offchain/api";
import { type Proc, runScript, waitForOutput } from "../helpers/childProcess";

const CHAIN_PORT = 8761;
const API_PORT = 18761;

/** `npm start`'s program as a child process (compilation is done by the test command already). */
function start(dataDir: string): Proc {
  return runScript("scripts/start.ts", {
    MB_DATA_DIR: dataDir,
    MB_DEPLOYMENTS_DIR: path.join(dataDir, "deployments"),
    MB_CHAIN_PORT: String(CHAIN_PORT),
    MB_API_PORT: String(API_PORT),
    MB_PRACTICE_PORT: String(API_PORT + 1),
    MB_LOG_LEVEL: "warn",
  });
}

describe("npm start (embedded default: durable local chain + service on SQLite)", function () {
  this.timeout(300_000);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "mb-start-"));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  const keysFile = path.join(dataDir, "demo-keys.json");
  const keys = (): Record<string, { keyId: string; secret: string }> =>
    (JSON.parse(readFileSync(keysFile, "utf8")) as { keys: Record<string, { keyId: string; secret: string }> }).keys;

  it("comes up, and after a stop comes back with the same chain, the same deployment and its database", async () => {
    const first = start(dataDir);
    await waitForOutput(first, /MarginBridge is running/);
    expect(first.output()).to.match(/deployment written to/);
    const health = await fetch(`http://127.0.0.1:${API_PORT}/v1/health`);
    expect(health.status).to.equal(200);
    // The development keys: secrets only in the 0600 keys file, never in the output; metrics not public.
    expect(statSync(keysFile).mode & 0o777).to.equal(0o600);
    const firstKeys = keys();
    expect(Object.keys(firstKeys)).to.have.length(6);
    for (const k of Object.values(firstKeys)) {
      expect(first.output()).to.contain(k.keyId);
      expect(first.output()).to.not.contain(k.secret);
    }
    expect((await fetch(`http://127.0.0.1:${API_PORT}/metrics`)).status).to.equal(404);
    // Let the oracle reporters relay their first rounds, then stop as Ctrl-C would.
    await waitForOutput(first, /MarginBridge is running/);
    await new Promise((r) => setTimeout(r, 3_000));
    first.child.kill("SIGINT");
    expect(await first.exited).to.equal(0);

    const second = start(dataDir);
    await waitForOutput(second, /MarginBridge is running/);
    const replayed = /replayed (\d+) blocks/.exec(second.output());
    expect(replayed, second.output()).to.not.equal(null);
    expect(Number(replayed![1])).to.be.greaterThan(20);
    expect(second.output()).to.match(/deployment reused/);
    expect((await fetch(`http://127.0.0.1:${API_PORT}/v1/health`)).status).to.equal(200);
    // The same keys again (no second set beside the first), still out of the output.
    expect(keys()).to.deep.equal(firstKeys);
    for (const k of Object.values(firstKeys)) expect(second.output()).to.not.contain(k.secret);
    const me = await new ApiClient(`http://127.0.0.1:${API_PORT}`, firstKeys.operator).get<{ role: string }>("/v1/me");
    expect([me.status, me.body.role]).to.deep.equal([200, "operator"]);
    second.child.kill("SIGINT");
    expect(await second.exited).to.equal(0);
  });

  it("refuses to start when the recorded chain was reset under an existing database, naming the reset command", async () => {
    rmSync(path.join(dataDir, "chain"), { recursive: true, force: true });
    const third = start(dataDir);
    expect(await third.exited).to.equal(1);
    expect(third.output()).to.match(/npm start refused: .*belongs to another chain.*npm run reset/s);
  });
});
