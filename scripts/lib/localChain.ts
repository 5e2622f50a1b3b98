import { spawn, type ChildProcess } from "node:child_process";
import { JsonRpcProvider } from "ethers";
import path from "node:path";

export interface LocalChain {
  url: string;
  provider: JsonRpcProvider;
  process: ChildProcess;
  stop(): Promise<void>;
}

const ROOT = path.join(__dirname, "..", "..");

/**
 * Starts `hardhat node` as a real JSON-RPC child process on 127.0.0.1:<port> and waits until it answers.
 * The node keeps state only in memory; callers that need durability record and replay it themselves.
 */
export async function startLocalChain(port = 8545, opts: { silent?: boolean } = {}): Promise<LocalChain> {
  const hardhatBin = require.resolve("hardhat/internal/cli/cli.js", { paths: [ROOT] });
  const child = spawn(process.execPath, [hardhatBin, "node", "--hostname", "127.0.0.1", "--port", String(port)], {
    cwd: ROOT,
    stdio: ["ignore", opts.silent === false ? "inherit" : "ignore", "inherit"],
    env: { ...process.env, HARDHAT_DISABLE_TELEMETRY_PROMPT: "true" },
  });
  const url = `http://127.0.0.1:${port}`;
  const provider = new JsonRpcProvider(url, 31337, { staticNetwork: true, polling: true, pollingInterval: 250 });
  const deadline = Date.now() + 60_000;
  let exited: number | null = null;
  child.once("exit", (code) => (exited = code ?? -1));
  for (;;) {
    if (exited !== null) throw new Error(`hardhat node exited with code ${exited} before answering on ${url}`);
    try {
      await provider.getBlockNumber();
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`hardhat node did not answer on ${url} within 60 s`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return {
    url,
    provider,
    process: child,
    async stop() {
      provider.destroy();
      if (child.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
      });
    },
  };
}
