/**
 * npm test — every test in test/, as four Mocha processes at once (`hardhat test --no-compile` each; `pretest`
 * compiles first):
 *   contracts,  test/contracts/**  the contract suites on the in-process Hardhat network (CPU-bound, no ports; run
 *   properties  at a lower priority so that the service groups' timing bounds see the machine they expect), the two
 *               longest random-walk suites in a process of their own;
 *   service-1,  test/offchain/** and test/e2e/**  real JSON-RPC nodes, HTTP, PostgreSQL and Chromium (mostly waiting
 *   service-2   on processes and sockets), split in two by the files' recorded durations (test/durations.json,
 *               longest first onto the lighter group). Every file has its own ports and database (the port check in
 *               test/offchain/shared/testPorts.test.ts keeps them apart), so the two groups never meet. The files
 *               with timing bounds (failover, restart) run in service-1, which the other two yield to.
 * Each line is prefixed with its group; the exit code is non-zero when any group fails. Each service group records
 * how long its files took; `MB_TEST_DURATIONS=update npm test` writes them to test/durations.json.
 * `npm test -- <files…>` runs just those files in one process.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
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

function run(
  name: string,
  files: string[],
  prefix: boolean,
  niceness = 0,
  env: Record<string, string> = {},
): Promise<Outcome> {
  const started = Date.now();
  const command = ["npx", "hardhat", "test", "--no-compile", ...files];
  // The CPU-bound group yields to the timing-sensitive one (service recovery and failover bounds).
  const [cmd, ...argv] = niceness > 0 ? ["nice", "-n", String(niceness), ...command] : command;
  const child = spawn(cmd, argv, {
    cwd: ROOT,
    env: { ...process.env, FORCE_COLOR: process.env.FORCE_COLOR ?? "0", ...env },
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

/**
 * The two longest random-walk suites (in CI at stop 28: 221 s and 122 s of the contracts' 582 s of tests), a process
 * of their own, so the contract suites use both cores whenever the service groups wait on their processes.
 */
const LONG_PROPERTY_SUITES = [
  "test/contracts/margin/AdversarialProperties.test.ts",
  "test/contracts/margin/MarginProperties.test.ts",
];

/** Files whose tests bound a recovery or failover time: in service-1, the group the others yield to. */
const TIMING_BOUND = ["test/e2e/production.test.ts", "test/e2e/productionLeases.test.ts"];
const DURATIONS = path.join(ROOT, "test", "durations.json");
const TIMING_HOOK = "test/helpers/fileTiming.ts";

/** The service files in `groups` sets of about equal recorded duration (longest first, onto the lighter set). */
export function splitByDuration(files: string[], durations: Record<string, number>, groups: number): string[][] {
  const known = files.map((f) => durations[f]).filter((d): d is number => d !== undefined);
  const typical = known.length > 0 ? [...known].sort((a, b) => a - b)[Math.floor(known.length / 2)] : 10;
  const sets = Array.from({ length: groups }, () => ({ files: [] as string[], seconds: 0 }));
  const place = (f: string, i: number): void => {
    sets[i].files.push(f);
    sets[i].seconds += durations[f] ?? typical;
  };
  for (const f of files.filter((x) => TIMING_BOUND.includes(x))) place(f, 0);
  const rest = files.filter((f) => !TIMING_BOUND.includes(f));
  rest.sort((a, b) => (durations[b] ?? typical) - (durations[a] ?? typical) || a.localeCompare(b));
  for (const f of rest)
    place(
      f,
      sets.reduce((lo, s, i) => (s.seconds < sets[lo].seconds ? i : lo), 0),
    );
  return sets.map((s) => s.files.sort());
}

/** Per file, seconds from the previous file's last test (or the group's start) to its own last test. */
function fileDurations(timingFile: string, startedAt: number): Record<string, number> {
  if (!existsSync(timingFile)) return {};
  const last = new Map<string, number>();
  for (const line of readFileSync(timingFile, "utf8").split("\n").filter(Boolean)) {
    const { file, at } = JSON.parse(line) as { file: string; at: number };
    last.set(path.relative(ROOT, file), at);
  }
  const out: Record<string, number> = {};
  let previous = startedAt;
  for (const [file, at] of [...last].sort((a, b) => a[1] - b[1])) {
    out[file] = Math.round((at - previous) / 100) / 10;
    previous = at;
  }
  return out;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.length > 0) {
    process.exitCode = (await run("tests", args, false)).code;
    return;
  }
  const recorded = existsSync(DURATIONS) ? (JSON.parse(readFileSync(DURATIONS, "utf8")) as Record<string, number>) : {};
  const service = splitByDuration([...testFiles("test/offchain"), ...testFiles("test/e2e")], recorded, 2);
  const tmp = mkdtempSync(path.join(os.tmpdir(), "mb-test-timing-"));
  const startedAt = Date.now();
  const contracts = testFiles("test/contracts");
  const outcomes = await Promise.all([
    run(
      "contracts",
      contracts.filter((f) => !LONG_PROPERTY_SUITES.includes(f)),
      true,
      10,
    ),
    run("properties", LONG_PROPERTY_SUITES, true, 10),
    ...service.map((files, i) =>
      run(`service-${i + 1}`, [TIMING_HOOK, ...files], true, i === 0 ? 0 : 5, {
        MB_TEST_TIMING_FILE: path.join(tmp, `service-${i + 1}.jsonl`),
      }),
    ),
  ]);
  const measured = Object.assign(
    {},
    ...service.map((_, i) => fileDurations(path.join(tmp, `service-${i + 1}.jsonl`), startedAt)),
  ) as Record<string, number>;
  rmSync(tmp, { recursive: true, force: true });
  for (const o of outcomes) {
    console.log(`${o.name}: ${o.summary.join(", ") || "no summary"} (${o.seconds} s, exit ${o.code})`);
  }
  const slowest = Object.entries(measured)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8);
  console.log(`slowest service files: ${slowest.map(([f, s]) => `${path.basename(f)} ${s} s`).join(", ")}`);
  if (process.env.MB_TEST_DURATIONS === "update") {
    const merged = Object.fromEntries(
      Object.entries({ ...recorded, ...measured }).sort(([a], [b]) => a.localeCompare(b)),
    );
    writeFileSync(DURATIONS, `${JSON.stringify(merged, null, 2)}\n`);
    console.log(`test/durations.json: ${Object.keys(measured).length} files' durations written`);
  }
  process.exitCode = outcomes.some((o) => o.code !== 0) ? 1 : 0;
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
