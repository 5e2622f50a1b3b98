import { expect } from "chai";
import type { JsonRpcSigner } from "ethers";
import type { ApiClient } from "../../../offchain/api";
import { MarginEngine__factory, type MarginEngine } from "../../../typechain-types";
import { CNY } from "../../helpers/e2eStack";
import { TradingStack } from "../../helpers/tradingStack";

const CHAIN_PORT = 8784;
const API_PORT = 18784;

interface Figures {
  state: string;
  marginRatio: string | null;
  cash: string;
  debt: string;
  positionValue: string;
  collateralValue: string;
  equity: string;
  maintenanceReq: string;
  initialReq: string;
  warningLine: string;
  hardLine: string;
  initialHeadroom: string;
  meetsInitialMargin: boolean;
  dailyInterest: string;
  liquidationPrice: string | null;
  liquidationReturn: string;
  positions: { symbol: string; quantity: string; liquidationPrice: string | null }[];
}
interface Simulation {
  block: number;
  before: Figures;
  after: Figures;
  feasible: boolean;
  problems: string[];
  costs: { total: string; financed: string; breakEvenMove: string | null; items: { name: string; amount: string }[] };
  stress: { before: { scenarios: { id: string; liquidated: boolean }[] }; after: { scenarios: { id: string }[] } };
  sizing: { budget: string; quantity: string; stopPrice: string; lossAtStop: string } | null;
}

const STATES = ["Healthy", "Warning", "MarginCall", "Liquidatable", "Underwater"];
const MAX_UINT = (1n << 256n) - 1n;

/** The engine's accountView in the API's shape (the fields simulate reproduces). */
async function engineView(engine: MarginEngine, account: string, blockTag: number) {
  const v = await engine.accountView(account, { blockTag });
  return {
    state: STATES[Number(v.state)],
    marginRatio: v.marginRatio === MAX_UINT ? null : v.marginRatio.toString(),
    cash: v.cash.toString(),
    debt: v.debt.toString(),
    positionValue: v.positionValue.toString(),
    collateralValue: v.collateralValue.toString(),
    equity: v.equity.toString(),
    maintenanceReq: v.maintenanceReq.toString(),
    initialReq: v.initialReq.toString(),
    warningLine: v.warningLine.toString(),
    hardLine: v.hardLine.toString(),
    liquidationPrice: v.liquidationPrice === 0n ? null : v.liquidationPrice.toString(),
    liquidationReturn: v.liquidationReturn.toString(),
  };
}

function engineFields(f: Figures) {
  const { initialHeadroom: _h, meetsInitialMargin: _m, dailyInterest: _d, positions: _p, ...view } = f;
  return view;
}

/**
 * POST /v1/simulate against the engine: the "before" figures equal the engine's accountView at the simulated block,
 * and after the order actually trades through the book and settles on-chain, the "after" figures equal accountView at
 * the settlement block (exactly for an account without debt; with debt, exactly but for the interest accrued in the
 * seconds between the two blocks).
 */
describe("POST /v1/simulate over a real node, the order book and on-chain settlement (e2e)", function () {
  this.timeout(180_000);
  let t: TradingStack;
  let engine: MarginEngine;
  let [a, c]: JsonRpcSigner[] = [];
  let [asA, asC]: ApiClient[] = [];

  before(async function () {
    const started = performance.now();
    t = await TradingStack.start(CHAIN_PORT, API_PORT, [10, 12]);
    const p = t.dev.chain.provider;
    [a, c] = [await p.getSigner(10), await p.getSigner(12)];
    engine = MarginEngine__factory.connect(t.dev.record.contracts.MarginEngine, p);
    // A: 60,000 CNY of its own and 60,000 borrowed; C: 20,000 CNY, no debt.
    await t.stack.mint("mbCNY", a, 60_000n * CNY, "sim-a");
    await t.stack.deposit(a, "mbCNY", 60_000n * CNY);
    await t.stack.borrow(a, 60_000n * CNY);
    await t.stack.mint("mbCNY", c, 20_000n * CNY, "sim-c");
    await t.stack.deposit(c, "mbCNY", 20_000n * CNY);
    [asA, asC] = [await t.client(a), await t.client(c)];
    console.log(`      setup ${Math.round(performance.now() - started)} ms`);
  });
  after(async () => t?.stop());

  const simulate = async (api: ApiClient, body: unknown) => {
    const r = await api.post<Simulation>("/v1/simulate", body);
    expect(r.status, JSON.stringify(r.body)).to.equal(200);
    return r.body;
  };
  const buy = (quantity: bigint, limitPrice: bigint) => ({
    kind: "order",
    side: "buy",
    instrument: "mbBANK",
    quantity: quantity.toString(),
    limitPrice: limitPrice.toString(),
  });

  /** The client buys `quantity` mbBANK at `price` from the maker; resolves with the block that settled it. */
  async function trade(signer: JsonRpcSigner, api: ApiClient, quantity: bigint, price: bigint): Promise<number> {
    await t.ask(price, quantity);
    const placed = await api.post<{ filledQuantity: string }>(
      "/v1/orders",
      await t.order(signer, 0, "mbBANK", price, quantity),
    );
    expect(placed.status, JSON.stringify(placed.body)).to.equal(201);
    expect(placed.body.filledQuantity).to.equal(quantity.toString());
    const orders = await api.get<{ fills: { tradeId: string }[] }>("/v1/orders");
    const settled = await t.settled(
      api,
      orders.body.fills.map((f) => f.tradeId),
    );
    expect(settled[0].txHash).to.match(/^0x[0-9a-f]{64}$/);
    return Math.max(...settled.map((x) => x.settledBlock!));
  }

  it("an account without debt: before and after equal the engine's accountView, figure for figure", async function () {
    const started = performance.now();
    const sim = await simulate(asC, { action: buy(1_000n, 10n * CNY) });
    const ms = performance.now() - started;
    console.log(`      simulate answered in ${Math.round(ms)} ms`);
    expect(engineFields(sim.before)).to.deep.equal(await engineView(engine, await c.getAddress(), sim.block));
    expect(sim.feasible).to.equal(true);
    expect(sim.after.cash).to.equal((10_000n * CNY).toString());
    const block = await trade(c, asC, 1_000n, 10n * CNY);
    expect(engineFields(sim.after)).to.deep.equal(await engineView(engine, await c.getAddress(), block));
    expect(sim.after.debt).to.equal("0");
    expect(sim.costs.financed).to.equal("0");
  });

  it("an indebted account: the same, but for the interest accrued between the simulated and the settling block", async function () {
    const address = await a.getAddress();
    const sim = await simulate(asA, { action: buy(10_000n, 10n * CNY), holdingDays: 30 });
    expect(engineFields(sim.before)).to.deep.equal(await engineView(engine, address, sim.block));
    expect(sim.feasible, sim.problems.join()).to.equal(true);
    expect(sim.after.liquidationPrice).to.not.equal(null);
    expect(sim.after.positions[0].liquidationPrice).to.not.equal(null);
    // financed: the trade raises net debt (debt − cash) from 0 to the debt less the 20,000 CNY of cash left
    expect(sim.costs.financed).to.equal((BigInt(sim.after.debt) - BigInt(sim.after.cash)).toString());
    expect(sim.after.cash).to.equal((20_000n * CNY).toString());
    const block = await trade(a, asA, 10_000n, 10n * CNY);
    const real = await engineView(engine, address, block);
    const accrued = BigInt(real.debt) - BigInt(sim.after.debt);
    expect(accrued >= 0n && accrued < 20n * CNY, `interest accrued ${accrued}`).to.equal(true);
    for (const k of [
      "cash",
      "positionValue",
      "collateralValue",
      "maintenanceReq",
      "initialReq",
      "warningLine",
      "hardLine",
    ] as const)
      expect(sim.after[k], k).to.equal(real[k]);
    expect(BigInt(real.equity)).to.equal(BigInt(sim.after.equity) - accrued);
    expect(sim.after.state).to.equal(real.state);
    // the liquidation price moves with the debt: ⌈(debt − cash) · scale / (units · (1 − h − m))⌉, so by the accrued share
    const lp = BigInt(sim.after.liquidationPrice!);
    const realLp = BigInt(real.liquidationPrice!);
    expect(realLp >= lp && realLp - lp <= (lp * accrued) / (40_000n * CNY) + 1n).to.equal(true);
  });

  it("names what the engine would refuse, and writes nothing", async function () {
    const before = await asC.get<{ cash: string }>("/v1/accounts/me");
    const sim = await simulate(asC, { action: buy(100_000n, 10n * CNY) });
    expect(sim.feasible).to.equal(false);
    expect(sim.problems).to.include("insufficient-cash");
    const borrow = await simulate(asA, { action: { kind: "borrow", amount: (200_000n * CNY).toString() } });
    expect(borrow.after.meetsInitialMargin).to.equal(false);
    expect(borrow.problems).to.deep.equal(["leverage"]);
    expect((await asC.get<{ cash: string }>("/v1/accounts/me")).body.cash).to.equal(before.body.cash);
  });

  it("borrow and deposit: the daily interest and the headroom follow the engine's rules", async function () {
    const sim = await simulate(asC, { action: { kind: "borrow", amount: (5_000n * CNY).toString() } });
    // the pool's roundings: scaled debt rounded up, the debt read from it rounded up again
    expect(BigInt(sim.after.debt) - 5_000n * CNY).to.be.oneOf([0n, 1n]);
    expect(BigInt(sim.after.dailyInterest) > 0n).to.equal(true);
    expect(BigInt(sim.after.cash) - BigInt(sim.before.cash)).to.equal(5_000n * CNY);
    const dep = await simulate(asA, { action: { kind: "deposit", asset: "mbCNY", amount: (1_000n * CNY).toString() } });
    expect(BigInt(dep.after.initialHeadroom) - BigInt(dep.before.initialHeadroom)).to.equal(1_000n * CNY);
  });

  it("replays the account through the 2015 and 2020 shock paths and the Monte Carlo run", async function () {
    const sim = await simulate(asA, { action: buy(1_000n, 10n * CNY) });
    const ids = sim.stress.after.scenarios.map((s) => s.id);
    expect(ids).to.have.length(3);
    expect(ids[2]).to.equal("monte-carlo-p99");
  });

  it("sizes a position to the risk budget: ⌊⌊equity · bps / 10⁴⌋ / stop distance⌋ in lots", async function () {
    const sim = await simulate(asA, {
      action: buy(1n, 10n * CNY),
      sizing: {
        riskBps: 100,
        instrument: "mbBANK",
        entryPrice: (10n * CNY).toString(),
        stopPrice: "9500000",
        lotSize: "100",
      },
    });
    const equity = BigInt(sim.before.equity);
    const budget = (equity * 100n) / 10_000n;
    expect(sim.sizing!.budget).to.equal(budget.toString());
    expect(sim.sizing!.quantity).to.equal(((budget / 500_000n / 100n) * 100n).toString());
    expect(BigInt(sim.sizing!.lossAtStop) <= budget).to.equal(true);
    const bad = await asA.post("/v1/simulate", {
      action: buy(1n, 10n * CNY),
      sizing: { riskBps: 100, instrument: "mbBANK", entryPrice: "10000000", stopPrice: "11000000" },
    });
    expect(bad.status).to.equal(400);
  });

  it("refuses malformed input and other roles", async function () {
    expect((await asA.post("/v1/simulate", { action: { kind: "order", side: "buy" } })).status).to.equal(400);
    expect((await asA.post("/v1/simulate", { action: buy(0n, 10n * CNY) })).status).to.equal(400);
    expect((await asA.post("/v1/simulate", { action: buy(1n, 1n), extra: 1 })).status).to.equal(400);
    expect(
      (await asA.post("/v1/simulate", { action: { kind: "deposit", asset: "mbNOPE", amount: "1" } })).status,
    ).to.equal(400);
  });
});
