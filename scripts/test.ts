/**
 * npm test — every test in test/, as two Mocha processes at once (`hardhat test --no-compile` each; `pretest`
 * compiles first):
 *   contracts  test/contracts/**  the contract suites on the in-process Hardhat network (CPU-bound, no ports; run
 *              at a lower priority so that the service group's timing bounds see the machine they expect);
 *   service    test/offchain/** and test/e2e/**  real JSON-RPC nodes, HTTP, PostgreSQL and Chromium (mostly waiting
 *              on processes and sockets; their ports are fixed, so these files run one after another).
 * Each line is prefixed with its group; the exit code is non-zero when either group fails.
 * `npm test -- <files…>` runs just those files in one process.
 */
import { spawn } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";

const ROOT = path.join(__dirname, "..");

function testFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(path.join(ROOT, dir)).sort()) {
    const rel = path.join(dir, entry);
    if (statSync(path.join(ROOT, rel)).isDirectory()) out.push(...testFiles(rel));
    else if (entry.endsWith(".test.ts")) out.push(rel);
  }
  return out;
}

interface Outcome {
  name: string;
  code: number;
  summary: string[];
  seconds: number;
}

function run(name: string, files: string[], prefix: boolean, niceness = 0): Promise<Outcome> {
  const started = Date.now();
  const command = ["npx", "hardhat", "test", "--no-compile", ...files];
  // The CPU-bound group yields to the timing-sensitive one (service recovery and failover bounds).
  const [cmd, ...argv] = niceness > 0 ? ["nice", "-n", String(niceness), ...command] : command;
  const child = spawn(cmd, argv, {
    cwd: ROOT,
    env: { ...process.env, FORCE_COLOR: process.env.FORCE_COLOR ?? "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const summary: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on("line", (line) => {
      if (/^\s+\d+ (passing|failing|pending)/.test(line)) summary.push(line.trim());
      process.stdout.write(prefix ? `[${name}] ${line}\n` : `${line}\n`);
    });
  }
  return new Promise((resolve) =>
    child.on("close", (code) =>
      resolve({ name, code: code ?? 1, summary, seconds: Math.round((Date.now() - started) / 1000) }),
    ),
  );
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.length > 0) {
    process.exitCode = (await run("tests", args, false)).code;
    return;
  }
  const outcomes = await Promise.all([
    run("contracts", testFiles("test/contracts"), true, 10),
    run("service", [...testFiles("test/offchain"), ...testFiles("test/e2e")], true),
  ]);
  for (const o of outcomes) {
    console.log(`${o.name}: ${o.summary.join(", ") || "no summary"} (${o.seconds} s, exit ${o.code})`);
  }
  process.exitCode = outcomes.some((o) => o.code !== 0) ? 1 : 0;
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
