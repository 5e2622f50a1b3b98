import { spawn, type ChildProcess } from "node:child_process";
import { JsonRpcProvider } from "ethers";
import http from "node:http";
import net from "node:net";
import path from "node:path";

export interface LocalChain {
  url: string;
  provider: JsonRpcProvider;
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface LocalChainOptions {
  /** false: the node's stdout (accounts, mined blocks) goes to ours. Default: discarded. */
  silent?: boolean;
  /** A Hardhat config file for the node instead of the project's hardhat.config.ts (e.g. a pinned genesis). */
  configFile?: string;
  /**
   * The node reads nothing from stdin; with a pipe its stdin closes when this process dies, even by kill -9,
   * so a config that exits on stdin's end takes the node down with us instead of leaving it on the port.
   */
  stdinPipe?: boolean;
  /**
   * Run the node in its own process group, so a Ctrl-C in the terminal reaches only us and we stop the node
   * after our own shutdown work (with stdinPipe it still dies with us).
   */
  ownProcessGroup?: boolean;
  /**
   * The chain process: `hardhat node` (default), or anvil (`@foundry-rs/anvil`, a dev dependency) with
   * `--prune-history 64` — the same dev accounts, chain id 31337 and 30 M block gas limit, but the state of only the
   * last 64 blocks kept. For runs too large for hardhat's in-memory history: the keeper bench's 100,000 accounts took
   * the hardhat node past this machine's 24 GB (docs/keeper.md). Calls at an older block fail there. Do not give it
   * `evm_setIntervalMining` of 2 s or less: anvil then keeps 1,500 blocks' states whatever `--prune-history` says
   * (each a full copy of the state); mine with `evm_mine` on a timer instead (bench/keeper.ts `BlockMiner`).
   */
  node?: "hardhat" | "anvil";
}

/** The anvil binary of this platform's `@foundry-rs/anvil-<os>-<arch>` package (installed with `@foundry-rs/anvil`). */
function anvilBinary(): string {
  const arch = process.arch === "x64" ? "amd64" : process.arch;
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch}`;
  try {
    return require.resolve(`${pkg}/bin/anvil${process.platform === "win32" ? ".exe" : ""}`, { paths: [ROOT] });
  } catch {
    throw new Error(`anvil is not installed for ${process.platform}-${process.arch} (${pkg}): run npm ci`);
  }
}

const ROOT = path.join(__dirname, "..", "..");

/** Thrown when something already listens on the port: we refuse rather than talk to a node we did not start. */
export class PortInUseError extends Error {
  constructor(
    readonly port: number,
    readonly detail: string,
  ) {
    super(
      `port ${port} on 127.0.0.1 is already in use${detail} — probably a hardhat node left running. ` +
        `Stop it (find it with \`lsof -iTCP:${port} -sTCP:LISTEN\` or \`fuser ${port}/tcp\`) or choose another port.`,
    );
    this.name = "PortInUseError";
  }
}

/** Resolves when nothing accepts connections on 127.0.0.1:<port>; rejects with PortInUseError otherwise. */
export async function assertPortFree(port: number): Promise<void> {
  const listening = await new Promise<boolean>((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
  if (!listening) return;
  let detail = "";
  const answer = await postJson(`http://127.0.0.1:${port}`, [
    { jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] },
    { jsonrpc: "2.0", id: 2, method: "eth_blockNumber", params: [] },
  ]);
  if (Array.isArray(answer)) {
    const [chainId, head] = answer as { result?: string }[];
    if (chainId?.result && head?.result)
      detail = ` by a JSON-RPC node (chain id ${Number(chainId.result)}, block ${Number(head.result)})`;
  }
  throw new PortInUseError(port, detail);
}

/**
 * Starts `hardhat node` as a real JSON-RPC child process on 127.0.0.1:<port> and waits until it answers.
 * Refuses a port that is already taken (the new node would fail to bind while we talked to the old one).
 * The node keeps state only in memory; scripts/lib/durableChain.ts records and replays it.
 */
export async function startLocalChain(port = 8545, opts: LocalChainOptions = {}): Promise<LocalChain> {
  await assertPortFree(port);
  const [command, args] =
    opts.node === "anvil"
      ? [
          anvilBinary(),
          [
            ...["--host", "127.0.0.1", "--port", String(port), "--chain-id", "31337", "--hardfork", "cancun"],
            ...["--accounts", "20", "--balance", "10000", "--gas-limit", "30000000", "--prune-history", "64"],
          ],
        ]
      : [
          process.execPath,
          [
            require.resolve("hardhat/internal/cli/cli.js", { paths: [ROOT] }),
            ...(opts.configFile ? ["--config", opts.configFile] : []),
            ...["node", "--hostname", "127.0.0.1", "--port", String(port)],
          ],
        ];
  const child = spawn(command, args, {
    cwd: ROOT,
    stdio: [opts.stdinPipe ? "pipe" : "ignore", opts.silent === false ? "inherit" : "ignore", "inherit"],
    env: { ...process.env, HARDHAT_DISABLE_TELEMETRY_PROMPT: "true" },
    detached: opts.ownProcessGroup === true,
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  let exited: string | null = null;
  child.once("exit", (code, signal) => (exited = String(signal ?? code)));
  // Raw requests until it answers: an ethers provider would log its own retries meanwhile.
  while (!(await answers(url))) {
    if (exited !== null)
      throw new Error(`${opts.node ?? "hardhat"} node exited (${exited}) before answering on ${url}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${opts.node ?? "hardhat"} node did not answer on ${url} within 60 s`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  // No response cache: callers (tests, the dev tools) send from the same accounts through several providers, and a
  // cached eth_getTransactionCount would hand out a nonce another sender already used.
  const provider = new JsonRpcProvider(url, undefined, {
    staticNetwork: true,
    polling: true,
    pollingInterval: 250,
    cacheTimeout: -1,
  });
  return {
    url,
    provider,
    process: child,
    async stop() {
      provider.destroy();
      if (child.exitCode !== null || child.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
      });
    },
  };
}

async function answers(url: string): Promise<boolean> {
  const answer = await postJson(url, { jsonrpc: "2.0", id: 1, method: "eth_blockNumber", params: [] });
  return typeof (answer as { result?: unknown } | undefined)?.result === "string";
}

/**
 * One POST on its own connection (no keep-alive pool: a pooled socket to a server that never answers would
 * hang the next request to that port), with a timeout. undefined when there is no JSON answer.
 */
function postJson(url: string, body: unknown, timeoutMs = 2_000): Promise<unknown> {
  return new Promise((resolve) => {
    const req = http.request(url, { method: "POST", agent: false, headers: { "content-type": "application/json" } });
    req.setTimeout(timeoutMs, () => req.destroy());
    req.on("error", () => resolve(undefined));
    req.on("response", (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("error", () => resolve(undefined));
      res.on("end", () => {
        try {
          resolve(JSON.parse(text));
        } catch {
          resolve(undefined);
        }
      });
    });
    req.end(JSON.stringify(body));
  });
}
