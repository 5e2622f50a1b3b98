/**
 * npm run lint — solhint, prettier, ESLint and the TypeScript compiler, all four at once (`prelint` compiles the
 * contracts first, for the typechain types tsc reads). Each is single-threaded, so on CI's two cores running them
 * side by side takes about the time of the longest (tsc) instead of the sum. Each tool's output is printed whole
 * when it ends, under its name; the exit code is non-zero when any of them fails (a warning is a failure: solhint
 * and ESLint run with --max-warnings 0).
 */
import { spawn } from "node:child_process";
import path from "node:path";

const ROOT = path.join(__dirname, "..");
const FORMATTED = [
  "contracts/**/*.sol",
  "offchain/**/*.ts",
  "scripts/**/*.ts",
  "test/**/*.ts",
  "bench/**/*.ts",
  "fixtures/**/*.ts",
  "hardhat.config.ts",
];

const TOOLS: { name: string; argv: string[] }[] = [
  { name: "solhint", argv: ["solhint", "--max-warnings", "0", "contracts/**/*.sol"] },
  { name: "prettier", argv: ["prettier", "--check", "--no-error-on-unmatched-pattern", ...FORMATTED] },
  { name: "eslint", argv: ["eslint", "--max-warnings", "0", "."] },
  { name: "tsc", argv: ["tsc", "--noEmit", "-p", "."] },
];

interface Result {
  name: string;
  code: number;
  output: string;
  seconds: number;
}

function runTool(name: string, argv: string[]): Promise<Result> {
  const started = Date.now();
  const [cmd, ...args] = argv;
  const child = spawn(path.join(ROOT, "node_modules", ".bin", cmd), args, {
    cwd: ROOT,
    env: { ...process.env, FORCE_COLOR: process.env.FORCE_COLOR ?? "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) => {
    child.on("error", (err) =>
      resolve({ name, code: 1, output: `${output}${String(err)}\n`, seconds: (Date.now() - started) / 1000 }),
    );
    child.on("close", (code) =>
      resolve({ name, code: code ?? 1, output, seconds: Math.round((Date.now() - started) / 100) / 10 }),
    );
  });
}

async function main(): Promise<void> {
  const results = await Promise.all(TOOLS.map((t) => runTool(t.name, t.argv)));
  for (const r of results) {
    const text = r.output.trim();
    console.log(`── ${r.name}: ${r.code === 0 ? "ok" : `FAILED (exit ${r.code})`} in ${r.seconds} s`);
    if (text) console.log(text);
  }
  process.exitCode = results.some((r) => r.code !== 0) ? 1 : 0;
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
