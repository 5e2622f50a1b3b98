import { Wallet } from "ethers";
import type { AccountSummary } from "../../offchain/portfolio";
import { OracleRouter__factory } from "../../typechain-types";
import { DemoError, DemoPlatform, cny, ok, pct, until, type DemoState } from "../lib/demoPlatform";
import type { User, Notice } from "./plan";
import { STATE_ZH, say } from "./narration";

/** One demo run: the platform it drives, the run's state (users, keys, steps done) and the helpers steps share. */
export class DemoRun {
  readonly d: DemoPlatform;
  cfg!: Awaited<ReturnType<DemoPlatform["config"]>>;

  constructor(dataDir: string) {
    this.d = new DemoPlatform(dataDir);
  }

  get state(): DemoState {
    return this.d.state!;
  }

  wallet(user: User): Wallet {
    return new Wallet(this.state.wallets[user], this.d.provider);
  }

  address(user: User): string {
    return new Wallet(this.state.wallets[user]).address;
  }

  contract(name: string): string {
    const a = this.cfg.contracts[name];
    if (!a) throw new DemoError(`the deployment has no ${name}`);
    return a;
  }

  close(): void {
    this.d.close();
  }

  /** The risk officer schedules the same move on every security client A holds; waits until it is on the chain. */
  async moveMarket(a: AccountSummary, moveBps: number, maxStepBps: number): Promise<void> {
    const officer = this.d.staff("risk_officer");
    for (const p of a.positions) {
      ok(
        await officer.post("/v1/dev/market/shocks", { symbol: p.token.symbol, moveBps, maxStepBps }),
        "POST /v1/dev/market/shocks",
      );
    }
    const symbols = a.positions.map((p) => p.token.symbol);
    const move = (moveBps / 100).toFixed(2);
    say(
      `  market: ${symbols.join(" and ")} move ${move}% (risk officer, /v1/dev/market)`,
      `  市场：${symbols.join(" 和 ")} 变动 ${move}%（风控官，/v1/dev/market）`,
    );
    await until("the move to reach the oracle", async () => ((await this.marketSettled()) ? true : undefined));
  }

  /** True once the simulator has no move pending and the router's prices match it (the rounds are relayed). */
  async marketSettled(): Promise<boolean> {
    const m = ok(
      await this.d
        .staff("risk_officer")
        .get<{ assets: { symbol: string; price: string; pendingMoveBps: number }[] }>("/v1/dev/market"),
      "GET /v1/dev/market",
    );
    if (m.assets.some((x) => x.pendingMoveBps !== 0)) return false;
    const router = OracleRouter__factory.connect(this.contract("OracleRouter"), this.d.provider);
    for (const x of m.assets) {
      const [onChain] = await router.getPrice(this.contract(x.symbol));
      const model = BigInt(x.price) * 10n ** 10n;
      // within the reporters' 0.5% deviation band
      if (onChain === 0n || (model > onChain ? model - onChain : onChain - model) * 200n > onChain) return false;
    }
    return true;
  }

  /** Waits for a round newer than the chain's current time on every held security (reporters use chain time). */
  async freshRounds(a: AccountSummary): Promise<void> {
    const since = await this.d.chainTime();
    const router = OracleRouter__factory.connect(this.contract("OracleRouter"), this.d.provider);
    await until("fresh oracle rounds", async () => {
      for (const p of a.positions) {
        const [, , updatedAt] = await router.getPrice(p.token.address);
        if (Number(updatedAt) < since - 60) return undefined;
      }
      return true;
    });
  }

  async notices(): Promise<Notice[]> {
    return ok(
      await this.d.user("clientA").get<{ notifications: Notice[] }>("/v1/keeper/notifications"),
      "GET /v1/keeper/notifications",
    ).notifications;
  }

  /** The account as the engine sees it. */
  describe(a: AccountSummary): void {
    say(
      `  client A: state ${a.state}, equity ${cny(a.equity)}, positions ${cny(a.positionValue)}, debt ${cny(a.debt)}, ` +
        `margin ratio ${pct(a.marginRatio)} (maintenance line ${cny(a.maintenanceReq)}, warning ${cny(a.warningLine)}, hard ${cny(a.hardLine)})`,
      `  客户 A：状态 ${a.state}（${STATE_ZH[a.state] ?? a.state}），权益 ${cny(a.equity)}，持仓 ${cny(a.positionValue)}，负债 ${cny(a.debt)}，` +
        `保证金比率 ${pct(a.marginRatio)}（维持线 ${cny(a.maintenanceReq)}，预警线 ${cny(a.warningLine)}，强平线 ${cny(a.hardLine)}）`,
    );
    say(
      `  engine's liquidation threshold: a uniform move of ${pct(a.liquidationReturn)} reaches maintenance`,
      `  引擎的强平阈值：所有持仓同时变动 ${pct(a.liquidationReturn)} 即触及维持保证金`,
    );
  }
}
