/**
 * What `npm run demo` needs to act as the platform's users: the running service's API (one signing client per
 * key), the chain's JSON-RPC (wallets sign their own transactions; the dev chain's unlocked accounts stand for
 * the custodian and the risk officer), a run state that survives a stop, and the formatting of figures.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { JsonRpcProvider, formatUnits, type JsonRpcSigner } from "ethers";
import { ApiClient, type ApiCredentials, type ApiResponse } from "../../offchain/api";
import type { AccountSummary, PoolSummary, PublicConfig } from "../../offchain/portfolio";

const WAD = 10n ** 18n;
export const CNY = 10n ** 6n;

/** What `npm start` writes for this start: the URLs and one demo key per role. */
export interface DemoKeysFile {
  url: string;
  rpcUrl: string;
  keys: Record<string, ApiCredentials & { subject: string }>;
  /** The practice (paper-trading) service's URL and demo keys, when it runs. */
  practice?: { url: string; keys: Record<string, ApiCredentials & { subject: string }> };
}

/** One demo run: its users' wallets and keys, the steps done and what later steps need. Kept across restarts. */
export interface DemoState {
  runId: string;
  startedAt: string;
  wallets: Record<string, string>;
  keys: Record<string, ApiCredentials>;
  done: string[];
  facts: Record<string, string>;
}

export class DemoError extends Error {}

export class DemoPlatform {
  readonly provider: JsonRpcProvider;
  readonly keysFile: DemoKeysFile;
  private readonly stateFile: string;
  state: DemoState | undefined;

  constructor(readonly dataDir: string) {
    const file = path.join(dataDir, "demo-keys.json");
    if (!existsSync(file)) {
      throw new DemoError(`no ${file}: start the platform first with \`npm start\` (in another terminal)`);
    }
    this.keysFile = JSON.parse(readFileSync(file, "utf8")) as DemoKeysFile;
    this.provider = new JsonRpcProvider(this.keysFile.rpcUrl, undefined, {
      staticNetwork: true,
      polling: true,
      cacheTimeout: -1,
    });
    this.provider.pollingInterval = 250;
    this.stateFile = path.join(dataDir, "demo", "state.json");
  }

  /** A client for a staff role's demo key (the same across `npm start` restarts of one data directory). */
  staff(role: "operator" | "risk_officer" | "kyc_officer" | "capital_provider" | "auditor"): ApiClient {
    const key = this.keysFile.keys[role];
    if (!key) throw new DemoError(`the running service printed no ${role} key`);
    return new ApiClient(this.keysFile.url, key);
  }

  /** A client for one of the run's own users (keys issued by the operator, kept in the run state). */
  user(name: string): ApiClient {
    const key = this.state?.keys[name];
    if (!key) throw new DemoError(`no API key for ${name} yet`);
    return new ApiClient(this.keysFile.url, key);
  }

  get public(): ApiClient {
    return new ApiClient(this.keysFile.url);
  }

  /** One of the dev chain's unlocked accounts (#2 custodian, #3 risk officer, #0 the faucet). */
  devAccount(index: number): Promise<JsonRpcSigner> {
    return this.provider.getSigner(index);
  }

  loadState(): DemoState | undefined {
    this.state = existsSync(this.stateFile)
      ? (JSON.parse(readFileSync(this.stateFile, "utf8")) as DemoState)
      : undefined;
    return this.state;
  }

  /** Written whole to a temporary file and renamed: a stop mid-write leaves the previous state. 0600: it holds keys. */
  saveState(): void {
    mkdirSync(path.dirname(this.stateFile), { recursive: true, mode: 0o700 });
    const tmp = `${this.stateFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.state, null, 2), { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.stateFile);
  }

  get stateFilePath(): string {
    return this.stateFile;
  }

  async config(): Promise<PublicConfig> {
    return ok(await this.public.get<PublicConfig>("/v1/config"), "GET /v1/config");
  }

  async account(name: string): Promise<AccountSummary> {
    return ok(await this.user(name).get<AccountSummary>("/v1/accounts/me"), `GET /v1/accounts/me (${name})`);
  }

  async pool(): Promise<PoolSummary> {
    return ok(await this.staff("capital_provider").get<PoolSummary>("/v1/pool"), "GET /v1/pool");
  }

  async chainTime(): Promise<number> {
    return (await this.provider.getBlock("latest"))!.timestamp;
  }

  /** Moves the dev chain's clock (what a real network does by waiting); mines one block at the new time. */
  async advanceTime(seconds: number): Promise<void> {
    await this.provider.send("evm_increaseTime", [seconds]);
    await this.provider.send("evm_mine", []);
  }

  close(): void {
    this.provider.destroy();
  }
}

/** The body of a 2xx answer; anything else stops the demo with the service's own error. */
export function ok<T>(res: ApiResponse<T>, what: string): T {
  if (res.status >= 200 && res.status < 300) return res.body;
  throw new DemoError(`${what} answered ${res.status}: ${JSON.stringify(res.body)}`);
}

/** Polls `probe` until it returns a value (not undefined), or fails naming what it waited for. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  ms = 120_000,
  every = 500,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new DemoError(`timed out after ${ms / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

/** Cash base units (6 decimals) as "1,234,567.89". */
export function cny(units: bigint | string): string {
  const v = BigInt(units);
  const sign = v < 0n ? "-" : "";
  const [whole, frac = ""] = formatUnits(v < 0n ? -v : v, 6).split(".");
  return `${sign}${BigInt(whole).toLocaleString("en-US")}.${frac.padEnd(2, "0").slice(0, 2)}`;
}

/** An 18-decimal ratio as a percentage with `digits` decimals (truncated). */
export function pct(wad: bigint | string | null, digits = 2): string {
  if (wad === null) return "n/a";
  const unit = 10n ** BigInt(digits);
  const scaled = (BigInt(wad) * 100n * unit) / WAD;
  const sign = scaled < 0n ? "-" : "";
  const a = scaled < 0n ? -scaled : scaled;
  return `${sign}${a / unit}.${(a % unit).toString().padStart(digits, "0")}%`;
}

/** An 18-decimal price as "10.0400". */
export function price(wad: bigint | string | null): string {
  if (wad === null) return "n/a";
  const v = BigInt(wad) / 10n ** 14n;
  return `${v / 10_000n}.${(v % 10_000n).toString().padStart(4, "0")}`;
}

export function count(n: bigint | string | number): string {
  return BigInt(n).toLocaleString("en-US");
}
