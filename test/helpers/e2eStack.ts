import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { encodeBytes32String, type JsonRpcSigner } from "ethers";
import { chromium, type Browser } from "playwright-core";
import { startService, type Service } from "../../offchain/main";
import {
  DEV_REPORTER_INDICES,
  JsonPriceSource,
  hardhatDevWallets,
  reporterFromDeployment,
} from "../../offchain/oracle";
import { DEV_KEYS, parseConfig, type ConfigInput } from "../../offchain/shared/config";
import { silentLogger } from "../../offchain/shared/logger";
import {
  CollateralToken__factory,
  KycRegistry__factory,
  MarginEngine__factory,
  TrancheVault__factory,
  type MarginEngine,
} from "../../typechain-types";
import { supplyBothTranches } from "../../scripts/deploy/providers";
import { bindAgreement, type BoundAgreement } from "../../scripts/lib/bindAgreement";
import type { DevChain } from "./devChain";

export const CNY = 10n ** 6n;
export const CHROMIUM = "/usr/bin/chromium";
/** Where browser tests save their screenshots. */
export const SHOTS = path.join(__dirname, "..", "..", "test-results");

type Sent = Promise<{ wait(): Promise<unknown> }>;
const send = async (tx: Sent): Promise<void> => void (await (await tx).wait());

/**
 * The on-chain steps the e2e tests share, each through the role that performs it in production: the KYC officer
 * verifies, three reporters sign prices that one relays, the custodian mints, clients deposit, borrow and withdraw
 * from their own wallets, a capital provider funds the pool.
 */
export class E2eStack {
  constructor(
    readonly dev: DevChain,
    /** A temporary directory the test owns (price files, data). */
    readonly dir: string,
  ) {}

  private get record() {
    return this.dev.record;
  }

  /** The KYC officer verifies each signer at `tier` for a year; `tag` becomes its identity hash. */
  async verify(tier: number, ...who: [JsonRpcSigner, string][]): Promise<void> {
    const kyc = KycRegistry__factory.connect(this.record.contracts.KycRegistry, this.dev.signers[1]);
    const expires = (await this.dev.chain.provider.getBlock("latest"))!.timestamp + 365 * 86_400;
    for (const [s, tag] of who)
      await send(kyc.setIdentity(await s.getAddress(), tier, 156, expires, encodeBytes32String(tag)));
  }

  /**
   * One round of prices (whole-token decimal strings per symbol), signed by the three dev reporters and relayed;
   * observations carry the chain's time, so this works after the test moved the chain forward.
   */
  async relayPrices(prices: Record<string, string>): Promise<void> {
    const file = path.join(this.dir, "prices.json");
    writeFileSync(file, JSON.stringify({ prices }));
    const p = this.dev.chain.provider;
    const reporter = await reporterFromDeployment({
      record: this.record,
      provider: p,
      reporters: hardhatDevWallets(DEV_REPORTER_INDICES, p),
      relayer: hardhatDevWallets([9], p)[0],
      source: new JsonPriceSource({ location: file }),
      policy: { heartbeatSeconds: 600, deviationBps: 50 },
      intervalMs: 60_000,
      clock: "chain",
    });
    const { failures } = await reporter.tick();
    if (failures.length) throw new Error(`price relay failed: ${JSON.stringify(failures)}`);
  }

  /** The custodian mints `amount` base units of `symbol` to `to` against the custody reference `ref`. */
  async mint(symbol: string, to: JsonRpcSigner, amount: bigint, ref: string): Promise<void> {
    const token = CollateralToken__factory.connect(this.record.contracts[symbol], this.dev.signers[2]);
    await send(token.mint(await to.getAddress(), amount, encodeBytes32String(ref)));
  }

  /**
   * A capital provider deposits `amount` base units of mbCNY (already held) into the pool's classes: a fifth into the
   * junior (first-loss) class, the rest into the senior class, each after anchoring its agreement.
   */
  async supplyPool(lender: JsonRpcSigner, amount: bigint): Promise<void> {
    const cash = CollateralToken__factory.connect(this.record.contracts.mbCNY, lender);
    await supplyBothTranches(
      (name) => TrancheVault__factory.connect(this.record.contracts[name], lender),
      lender,
      cash,
      amount,
    );
  }

  /** The client's margin engine handle (its own wallet). */
  engine(client: JsonRpcSigner): MarginEngine {
    return MarginEngine__factory.connect(this.record.contracts.MarginEngine, client);
  }

  /** The client approves and deposits `amount` of `symbol` (already held) into its margin account. */
  async deposit(client: JsonRpcSigner, symbol: string, amount: bigint): Promise<void> {
    const token = CollateralToken__factory.connect(this.record.contracts[symbol], client);
    await send(token.approve(this.record.contracts.MarginEngine, amount));
    await send(this.engine(client).deposit(this.record.contracts[symbol], amount));
  }

  /**
   * The client's margin account gets an active financing agreement bound to it (the deployment requires one to
   * borrow): anchored and proposed by the operator, accepted from the client's wallet. Nothing is sent when bound.
   */
  bindAgreement(client: JsonRpcSigner): Promise<BoundAgreement> {
    return bindAgreement(this.record, this.dev.signers[4], client);
  }

  /**
   * Borrows `borrow` base units of cash (after binding the client's agreement when it has none) and takes `takeOut`
   * of it out of the margin account.
   */
  async borrow(client: JsonRpcSigner, borrow: bigint, takeOut = 0n): Promise<void> {
    await this.bindAgreement(client);
    await send(this.engine(client).borrow(borrow));
    if (takeOut > 0n) await send(this.engine(client).withdraw(this.record.contracts.mbCNY, takeOut));
  }

  /**
   * The service on SQLite in the test's directory, indexing this chain, with the demo API keys; `extra` adds the
   * configuration's risk section (e.g. the breaker reset key) and a KYC officer key.
   */
  startService(
    port: number,
    demoClientAccount?: string,
    extra: { risk?: ConfigInput["risk"]; kycOfficerKey?: string } = {},
  ): Promise<Service> {
    const config = parseConfig({
      env: "test",
      dataDir: this.dir,
      log: { level: "silent" },
      chain: {
        rpcUrl: this.dev.chain.url,
        network: "localhost",
        deploymentsDir: this.dev.deploymentsDir,
        confirmations: 1,
        pollIntervalMs: 500,
        kycOfficerKey: extra.kycOfficerKey,
      },
      api: { host: "127.0.0.1", port, secretKey: DEV_KEYS.apiSecretKey },
      risk: extra.risk,
    });
    return startService(config, { deployment: this.record, demoKeys: true, demoClientAccount, log: silentLogger });
  }
}

/** Debian's chromium, headless, with the flags these machines need; screenshots go to SHOTS. */
export async function launchChromium(): Promise<Browser> {
  mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
}
