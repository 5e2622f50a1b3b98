/**
 * npm run bench -- keeper [--accounts 10000] [--liquidatable 1000] [--port 8693]
 *
 * A real `hardhat node`, `--accounts` margin accounts each holding 200 mbSMALL (tier 3) at 50 CNY, of which
 * `--liquidatable` borrowed 5,000 CNY and the rest 1,500. A small round (50 → 49.5) and then a shock (→ 30) make
 * exactly the borrowers of 5,000 liquidatable. Measured: index build (first full read), accounts re-checked per
 * round, time from the shock round until every liquidatable account is liquidated, round → mined latency.
 * JSON lines out. Accounts are set up in large blocks (automine off) through the SETTLER role given to the admin,
 * which the bench grants itself on this throwaway chain.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { JsonRpcProvider, Wallet, id as keccakId } from "ethers";
import { KycRegistry__factory, ProtocolAccessManager__factory } from "../typechain-types";
import { DEFAULT_KEEPER_SETTINGS, Keeper } from "../offchain/keeper";
import { DEV_KEYS } from "../offchain/shared/config";
import { silentLogger } from "../offchain/shared/logger";
import { openStore } from "../offchain/store";
import { ROLE } from "../scripts/deploy/roles";
import { startDevChain } from "../fixtures/devChain";
import { CNY, prepareKeeperChain } from "../fixtures/keeperChain";

const UNITS = 200n;
const WAD = 10n ** 18n;

function arg(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

function emit(metric: string, value: number | string, unit: string, extra: Record<string, unknown> = {}): void {
  process.stdout.write(JSON.stringify({ bench: "keeper", metric, value, unit, ...extra }) + "\n");
}

export async function main(args: string[]): Promise<void> {
  const n = arg(args, "--accounts", 10_000);
  const m = arg(args, "--liquidatable", 1_000);
  const port = arg(args, "--port", 8693);
  const dev = await startDevChain(port);
  const dir = mkdtempSync(path.join(tmpdir(), "mb-bench-keeper-"));
  const p = dev.chain.provider;
  try {
    const setupStart = Date.now();
    const kc = await prepareKeeperChain(dev, { poolCny: 50_000_000n, keeperCny: 20_000_000n });
    const c = dev.record.contracts;
    const admin = await dev.signers[0].getAddress();
    const small = await kc.tokens.mbSMALL.getAddress();
    const cash = await kc.tokens.mbCNY.getAddress();
    // no seizure cap in the way of 1,000 liquidations in one window
    await kc.engine.connect(dev.signers[3]).configureAsset(small, 3, WAD / 10n, WAD / 10n, 2n ** 127n);
    await ProtocolAccessManager__factory.connect(c.AccessManager, dev.signers[0]).grantRole(ROLE.SETTLER, admin, 0);
    const dealer = await dev.signers[4].getAddress();
    await kc.verify(dealer, 1);
    await kc.mint("mbSMALL", dealer, UNITS * BigInt(n));
    await kc.tokens.mbSMALL.connect(dev.signers[4]).approve(c.MarginEngine, UNITS * BigInt(n));
    await kc.engine.connect(dev.signers[4]).deposit(small, UNITS * BigInt(n));

    const accounts = Array.from({ length: n }, (_, i) => Wallet.createRandom().address.toLowerCase() + ":" + i).map(
      (s) => s.split(":")[0],
    );
    const debt = (i: number): bigint => (i < m ? 5_000n : 1_500n) * CNY;
    const engineIface = kc.engine.interface;
    const kycIface = KycRegistry__factory.createInterface();
    const kycOfficer = await dev.signers[1].getAddress();
    const expires = (await p.getBlock("latest"))!.timestamp + 365 * 86400;
    const send = (from: string, to: string, data: string, gas = 400_000): Promise<unknown> =>
      p.send("eth_sendTransaction", [{ from, to, data, gas: "0x" + gas.toString(16) }]);
    const mineAll = async (): Promise<void> => {
      for (;;) {
        await p.send("evm_mine", []);
        const b = await p.getBlock("latest");
        if (!b || b.transactions.length === 0) return;
      }
    };
    const inBatches = async (fn: (a: string, i: number) => Promise<unknown>): Promise<void> => {
      for (let s = 0; s < n; s += 500) {
        await Promise.all(accounts.slice(s, s + 500).map((a, j) => fn(a, s + j)));
        await mineAll();
      }
    };
    await p.send("evm_setAutomine", [false]);
    await inBatches(async (a) => {
      await p.send("hardhat_impersonateAccount", [a]);
      await p.send("hardhat_setBalance", [a, "0x56BC75E2D63100000"]);
      await send(
        kycOfficer,
        c.KycRegistry,
        kycIface.encodeFunctionData("setIdentity", [a, 5, 156, expires, keccakId(a)]),
      );
      await send(
        admin,
        c.MarginEngine,
        engineIface.encodeFunctionData("transferBetweenAccounts", [dealer, a, small, UNITS]),
      );
    });
    await inBatches((a, i) => send(a, c.MarginEngine, engineIface.encodeFunctionData("borrow", [debt(i)])));
    await inBatches((a, i) =>
      send(
        admin,
        c.MarginEngine,
        engineIface.encodeFunctionData("transferBetweenAccounts", [a, dealer, cash, debt(i)]),
      ),
    );
    await p.send("evm_setAutomine", [true]);
    emit("setup", Date.now() - setupStart, "ms", { accounts: n, liquidatable: m });

    const store = await openStore({ engine: "sqlite", path: path.join(dir, "keeper.sqlite") });
    const provider = new JsonRpcProvider(dev.chain.url, dev.record.chainId, { staticNetwork: true, cacheTimeout: -1 });
    const keeper = new Keeper({
      store,
      provider,
      deployment: dev.record,
      settings: {
        ...DEFAULT_KEEPER_SETTINGS,
        signerKey: DEV_KEYS.keeperKey,
        resyncIntervalMs: 24 * 3600_000,
        readConcurrency: 16,
      },
      log: silentLogger,
    });
    let t = Date.now();
    await keeper.tick();
    emit("index_build", Date.now() - t, "ms", { accountsIndexed: keeper.index.size, reads: keeper.metrics.reads });

    await kc.setPrice("mbSMALL", "49.5");
    t = Date.now();
    const readsBefore = keeper.metrics.reads;
    await keeper.tick();
    emit("small_round_rechecked", keeper.metrics.lastRoundRechecked, "accounts", {
      ms: Date.now() - t,
      reads: keeper.metrics.reads - readsBefore,
      of: keeper.index.size,
    });

    const shockAt = Date.now();
    await kc.setPrice("mbSMALL", "30");
    let shockRechecked = -1;
    for (;;) {
      await keeper.tick();
      if (shockRechecked < 0) shockRechecked = keeper.metrics.lastRoundRechecked;
      const states = keeper.index.countByState();
      if (keeper.metrics.liquidationsMined >= m && states.Liquidatable + states.Defaulted === 0) break;
      if (Date.now() - shockAt > 30 * 60_000) throw new Error("liquidations did not finish within 30 minutes");
    }
    const total = Date.now() - shockAt;
    emit("shock_round_rechecked", shockRechecked, "accounts", { of: keeper.index.size });
    emit("all_liquidated", total, "ms", {
      liquidations: keeper.metrics.liquidationsMined,
      segments: keeper.metrics.segmentsLiquidated,
      perSecond: Math.round((keeper.metrics.liquidationsMined * 1000) / total),
    });
    const l = keeper.metrics.latencyMs;
    emit("round_to_mined_latency", Math.round(l.sum / Math.max(1, l.count)), "ms", { max: l.max, count: l.count });
    emit("accounts_by_state", JSON.stringify(keeper.index.countByState()), "json");
    const intents = await store.keeper.intentCounts();
    emit("intents", JSON.stringify(intents), "json");
    provider.destroy();
    await store.close();
  } finally {
    await dev.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
