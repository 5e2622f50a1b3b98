import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { JsonRpcSigner } from "ethers";
import { ApiClient, createApiKey } from "../../offchain/api";
import { startService, type Service } from "../../offchain/main";
import { orderToJson, settlementDomain, signOrder, type SignedOrderFields } from "../../offchain/settlement/orders";
import { DEV_KEYS, DEV_OPERATOR_KEY, parseConfig } from "../../offchain/shared/config";
import { silentLogger } from "../../offchain/shared/logger";
import { PLATFORM_RISK_LIMITS } from "../../scripts/lib/riskLimits";
import { mine, startDevChain, type DevChain } from "./devChain";
import { CNY, E2eStack } from "./e2eStack";

export const TICK = 10_000n; // 0.01 CNY

/**
 * A market to trade in end to end: a real hardhat node with the full deployment, prices relayed, a capital provider
 * funding the pool, a market maker (account #11) with 20,000 mbBANK in its margin account, and the service with the
 * order books (pre-trade risk over the chain) and the settlement batcher sending as the operator, on SQLite.
 */
export class TradingStack {
  private nonce = 1n;

  private constructor(
    readonly dev: DevChain,
    readonly stack: E2eStack,
    readonly service: Service,
    readonly maker: JsonRpcSigner,
    readonly dir: string,
  ) {}

  /** Clients are KYC-verified at tier 3 (3x leverage), the maker and the lender at tier 2. */
  static async start(chainPort: number, apiPort: number, clients: number[]): Promise<TradingStack> {
    const dir = mkdtempSync(path.join(tmpdir(), "mb-trading-"));
    const dev = await startDevChain(chainPort);
    try {
      return await TradingStack.prepare(dev, dir, apiPort, clients);
    } catch (err) {
      await dev.stop();
      throw err;
    }
  }

  private static async prepare(dev: DevChain, dir: string, apiPort: number, clients: number[]): Promise<TradingStack> {
    const stack = new E2eStack(dev, dir);
    const p = dev.chain.provider;
    const maker = await p.getSigner(11);
    const lender = await p.getSigner(13);
    const who = await Promise.all(clients.map((c) => p.getSigner(c)));
    await stack.verify(2, [maker, "trading-maker"], [lender, "trading-lender"]);
    await stack.verify(3, ...who.map((c, i) => [c, `trading-client-${i}`] as [JsonRpcSigner, string]));
    await stack.relayPrices({ mbBANK: "10", mbTECH: "50", mbSMALL: "20" });
    await stack.mint("mbCNY", lender, 2_000_000n * CNY, "trading-lender");
    await stack.supplyPool(lender, 2_000_000n * CNY);
    await stack.mint("mbBANK", maker, 20_000n, "trading-maker");
    await stack.deposit(maker, "mbBANK", 20_000n);
    const config = parseConfig({
      env: "test",
      dataDir: dir,
      log: { level: "silent" },
      chain: {
        rpcUrl: dev.chain.url,
        network: "localhost",
        deploymentsDir: dev.deploymentsDir,
        confirmations: 1,
        pollIntervalMs: 300,
      },
      api: { host: "127.0.0.1", port: apiPort, secretKey: DEV_KEYS.apiSecretKey },
      settlement: { operatorKey: DEV_OPERATOR_KEY, intervalMs: 300 },
    });
    const service = await startService(config, {
      deployment: dev.record,
      log: silentLogger,
      orderbook: { limits: PLATFORM_RISK_LIMITS },
    });
    return new TradingStack(dev, stack, service, maker, dir);
  }

  /** An API client acting for `signer`'s account with a fresh client key. */
  async client(signer: JsonRpcSigner): Promise<ApiClient> {
    const key = await createApiKey(this.service.store, Buffer.from(DEV_KEYS.apiSecretKey, "hex"), {
      role: "client",
      subject: await signer.getAddress(),
      label: "trading stack client",
    });
    return new ApiClient(this.service.url, key);
  }

  /** A signed order body for POST /v1/orders (price: cash base units per whole token). */
  async order(signer: JsonRpcSigner, side: 0 | 1, symbol: string, limitPrice: bigint, quantity: bigint) {
    const order: SignedOrderFields = {
      account: await signer.getAddress(),
      instrument: this.dev.record.contracts[symbol],
      side,
      expiry: BigInt(Math.floor(Date.now() / 1000) + 3600),
      limitPrice,
      quantity,
      nonce: this.nonce++,
    };
    const domain = settlementDomain(this.dev.record.chainId, this.dev.record.contracts.SettlementHub);
    return { order: orderToJson(order), signature: await signOrder(signer, domain, order) };
  }

  /** The maker rests an ask of `quantity` mbBANK at `price`. */
  async ask(price: bigint, quantity: bigint): Promise<void> {
    const r = await (
      await this.client(this.maker)
    ).post("/v1/orders", await this.order(this.maker, 1, "mbBANK", price, quantity));
    if (r.status !== 201) throw new Error(`maker ask refused: ${JSON.stringify(r.body)}`);
  }

  /** Waits until every trade of `ids` is settled on-chain (mining blocks so the indexer confirms the batch). */
  async settled(api: ApiClient, ids: string[]): Promise<TradeSettlement[]> {
    return until("the trades to settle on-chain", async () => {
      await mine(this.dev.chain);
      const r = await api.get<{ trades: TradeSettlement[] }>(`/v1/settlements/trades?ids=${ids.join(",")}`);
      const mine_ = r.body.trades;
      return mine_.length === ids.length && mine_.every((x) => x.status === "settled") ? mine_ : undefined;
    });
  }

  async stop(): Promise<void> {
    await this.service.stop();
    await this.dev.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface TradeSettlement {
  tradeId: string;
  status: string;
  batchId: string | null;
  txHash: string | null;
  settledBlock: number | null;
}

/** Polls `fn` every 200 ms until it returns a value (or throws after `ms`). */
export async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
