import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

/** The project's root (where `npm start` and the scripts run). */
export const ROOT = path.join(__dirname, "..", "..");

/** A child process of an e2e test with its combined stdout and stderr. */
export interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number>;
}

/** Runs `args` (program first) in the project root with `env` added to the test's environment. */
export function spawnProc(args: readonly string[], env: Record<string, string> = {}): Proc {
  const child = spawn(args[0], args.slice(1), {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number>((resolve) => child.once("exit", (code) => resolve(code ?? -1)));
  return { child, output: () => out, exited };
}

/** A TypeScript program of the project (e.g. scripts/start.ts) through ts-node, as the npm scripts run it. */
export function runScript(script: string, env: Record<string, string> = {}): Proc {
  return spawnProc([process.execPath, require.resolve("ts-node/dist/bin.js"), "--transpile-only", script], env);
}

/** Waits until the output matches `pattern`; fails with the output's tail if the process exits or time runs out. */
export async function waitForOutput(p: Proc, pattern: RegExp, ms = 120_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pattern.test(p.output())) {
    if (p.child.exitCode !== null || p.child.signalCode !== null) {
      throw new Error(`process exited early (waiting for ${pattern}):\n${p.output().slice(-4000)}`);
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}:\n${p.output().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
