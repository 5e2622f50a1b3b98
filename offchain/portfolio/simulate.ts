import { readMarket, valueOffchain, type Market, type OffchainView, type Position } from "../keeper/valuation";
import {
  WAD,
  accountLiquidation,
  mulDivUp,
  type Account,
  type AssetRisk,
  type LiquidityTier,
  type Market as RiskMarket,
} from "../risk";
import type { TokenRecord } from "../chain";
import { AppError } from "../shared/errors";
import type { PortfolioChain } from "./chainReader";
import { fixedMargins, inFixedTerm, tierRiskAt } from "./readMarginModes";
import { stressRun } from "./readStress";
import { sizePosition, type Sizing } from "./sizing";
import { tradeCosts, DEFAULT_TRADE_FEES, type TradeCosts } from "./tradeCosts";

/** What a client proposes: an order, moving collateral in or out, or changing its leverage (borrow or repay). */
export type ProposedAction =
  | { kind: "order"; side: "buy" | "sell"; instrument: string; quantity: bigint; limitPrice: bigint }
  | { kind: "deposit" | "withdraw"; asset: string; amount: bigint }
  | { kind: "borrow" | "repay"; amount: bigint };

export interface SimulateInput {
  action: ProposedAction;
  /** Days the position is held, for the interest in the trade's costs (default 30). */
  holdingDays: number;
  sizing?: {
    riskBps: number;
    instrument: string;
    side: "buy" | "sell";
    entryPrice: bigint;
    stopPrice?: bigint;
    atr?: bigint;
    atrMultipleBps?: number;
    lotSize: bigint;
  };
}

export type Problem =
  | "insufficient-cash"
  | "insufficient-position"
  | "repay-exceeds-debt"
  | "initial-margin"
  | "leverage"
  | "price-unsafe"
  | "unknown-asset";

export interface PositionFigures {
  asset: string;
  symbol: string;
  quantity: bigint;
  price: bigint;
  value: bigint;
  liquidationPrice: bigint | undefined;
  moveToLiquidation: bigint | undefined;
}

export interface AccountFigures {
  view: OffchainView;
  initialHeadroom: bigint;
  meetsInitialMargin: boolean;
  dailyInterest: bigint;
  positions: PositionFigures[];
}

export interface StressFigures {
  scenarios: {
    id: string;
    name: string;
    kind: string;
    liquidated: boolean;
    liquidationVolume: bigint;
    badDebt: bigint;
  }[];
  monteCarlo: { paths: number; days: number; pathsWithBadDebt: number };
}

export interface Simulation {
  account: string;
  block: number;
  cashToken: TokenRecord;
  before: AccountFigures;
  after: AccountFigures;
  problems: Problem[];
  costs: TradeCosts | null;
  stress: { before: StressFigures; after: StressFigures };
  sizing: Sizing | null;
}

const RAY = 10n ** 27n;
const divUp = (a: bigint, b: bigint): bigint => (a === 0n ? 0n : (a - 1n) / b + 1n);

/** The chain's inputs of one simulation, read at one block. */
interface Inputs {
  block: number;
  market: Market;
  position: Position;
  tokens: TokenRecord[];
  cash: TokenRecord;
  penalties: Map<string, bigint>;
  ratePerDay: bigint;
  annualRate: bigint;
  maxLeverage: bigint;
}

function tokenOf(inputs: Inputs, id: string): TokenRecord {
  const t = inputs.tokens.find((x) => x.address.toLowerCase() === id.toLowerCase() || x.symbol === id);
  if (!t) throw new AppError("VALIDATION_FAILED", `no token ${id} in this deployment`, { details: { asset: id } });
  return t;
}

/**
 * Use case: what a proposed action does to the caller's account, without writing anything. The account and the
 * market are read at one block and valued before and after with the keeper's off-chain copy of the engine's
 * accountView (keeper/valuation.ts, held equal to the engine by its differential test): same formulas, same
 * rounding. An order is taken as filled in full at its limit price (cash leg ⌈quantity · price / 10^decimals⌉, as
 * the SettlementHub computes it); a borrow adds ⌈amount · RAY / index⌉ scaled debt and a repayment takes
 * ⌊amount · RAY / index⌋ off it (the pool's roundings). Interest accrued between this block and the one that settles
 * the action is not in the figures.
 */
export async function simulate(chain: PortfolioChain, account: string, input: SimulateInput): Promise<Simulation> {
  const inputs = await readInputs(chain, account);
  const problems: Problem[] = [];
  const after = apply(inputs, input.action, problems);
  const before = figures(inputs, account, inputs.position);
  const afterFigures = figures(inputs, account, after);
  if (after.scaledDebt > 0n && !afterFigures.meetsInitialMargin) problems.push(leverageProblem(inputs, afterFigures));
  const costs = input.action.kind === "order" ? orderCosts(inputs, input.action, before, afterFigures, input) : null;
  const sizing = input.sizing ? sizingOf(inputs, before, input.sizing) : null;
  return {
    account,
    block: inputs.block,
    cashToken: inputs.cash,
    before,
    after: afterFigures,
    problems: [...new Set(problems)],
    costs,
    stress: {
      before: stressOf(chain, inputs, account, inputs.position),
      after: stressOf(chain, inputs, account, after),
    },
    sizing,
  };
}

async function readInputs(chain: PortfolioChain, account: string): Promise<Inputs> {
  const { engine, router, pool, deployment, gateway } = chain;
  const block = await gateway.provider.getBlockNumber();
  const at = { blockTag: block };
  const cash = deployment.tokens.find((t) => t.kind === "cash");
  if (!cash) throw new AppError("CONFIG_INVALID", "the deployment has no cash token");
  const [market, cashBalance, debt, recorded, ratePerDay, annualRate, maxLeverage] = await Promise.all([
    readMarket(
      gateway.provider,
      { engine: await engine.getAddress(), router: await router.getAddress() },
      block,
      gateway.retry,
    ),
    engine.balanceOf(account, cash.address, at),
    engine.debtOf(account, at),
    engine.recordedState(account, at),
    pool.ratePerDay(at),
    pool.borrowRate(at),
    gateway.kycRegistry.maxLeverageOf(account, at),
  ]);
  const listed = [...market.assets.keys()];
  const [units, configs] = await Promise.all([
    Promise.all(listed.map((a) => engine.balanceOf(account, a, at))),
    Promise.all(listed.map((a) => engine.assetConfig(a, at))),
  ]);
  // in the account's fixed term the engine applies each tier's margins at its fixed volatility (readAccount does too)
  if (inFixedTerm(Number(recorded[3]), market.timestamp))
    for (const a of market.assets.values()) Object.assign(a, fixedMargins(await tierRiskAt(engine, a.tier, block)));
  const balances = new Map<string, bigint>();
  listed.forEach((a, i) => units[i] > 0n && balances.set(a, units[i]));
  return {
    block,
    market,
    position: { cash: cashBalance, scaledDebt: debt.scaled, balances },
    tokens: deployment.tokens,
    cash,
    penalties: new Map(listed.map((a, i) => [a, configs[i].liquidationPenalty])),
    ratePerDay,
    annualRate,
    maxLeverage,
  };
}

/** The position after the action; what the engine would refuse is named in `problems` (the figures still shown). */
function apply(inputs: Inputs, action: ProposedAction, problems: Problem[]): Position {
  const balances = new Map(inputs.position.balances);
  let { cash, scaledDebt } = inputs.position;
  const move = (asset: string, delta: bigint) => {
    const next = (balances.get(asset) ?? 0n) + delta;
    if (next < 0n) problems.push("insufficient-position");
    if (next === 0n) balances.delete(asset);
    else balances.set(asset, next);
  };
  const index = inputs.market.borrowIndex;
  switch (action.kind) {
    case "order": {
      const t = tokenOf(inputs, action.instrument);
      const asset = t.address.toLowerCase();
      if (!inputs.market.assets.has(asset)) problems.push("unknown-asset");
      const cashLeg = divUp(action.quantity * action.limitPrice, 10n ** BigInt(t.decimals));
      const sign = action.side === "buy" ? 1n : -1n;
      move(asset, sign * action.quantity);
      cash -= sign * cashLeg;
      break;
    }
    case "deposit":
    case "withdraw": {
      const t = tokenOf(inputs, action.asset);
      const sign = action.kind === "deposit" ? 1n : -1n;
      if (t.kind === "cash") cash += sign * action.amount;
      else move(t.address.toLowerCase(), sign * action.amount);
      break;
    }
    case "borrow":
      scaledDebt += divUp(action.amount * RAY, index);
      cash += action.amount;
      break;
    case "repay": {
      const scaled = (action.amount * RAY) / index;
      if (scaled > scaledDebt) problems.push("repay-exceeds-debt");
      scaledDebt -= scaled > scaledDebt ? scaledDebt : scaled;
      cash -= action.amount;
      break;
    }
  }
  if (cash < 0n) problems.push("insufficient-cash");
  return { cash: cash < 0n ? 0n : cash, scaledDebt, balances: clampNegatives(balances) };
}

function clampNegatives(balances: Map<string, bigint>): Map<string, bigint> {
  for (const [a, u] of balances) if (u < 0n) balances.delete(a);
  return balances;
}

/** The risk module's view of the account (for per-position liquidation prices and the stress run). */
function riskBook(inputs: Inputs, account: string, position: Position): { account: Account; market: RiskMarket } {
  const assets = new Map<string, AssetRisk>();
  const prices = new Map<string, bigint>();
  for (const [asset] of position.balances) {
    const a = inputs.market.assets.get(asset);
    const t = inputs.tokens.find((x) => x.address.toLowerCase() === asset);
    if (!a || !t || a.price === 0n) continue;
    assets.set(asset, {
      asset,
      symbol: t.symbol,
      decimals: t.decimals,
      haircut: a.haircut,
      initialMargin: a.initial,
      maintenanceMargin: a.maintenance,
      liquidationPenalty: inputs.penalties.get(asset) ?? 0n,
      liquidityTier: Math.min(3, Math.max(1, a.tier)) as LiquidityTier,
    });
    prices.set(asset, a.price);
  }
  const debt = position.scaledDebt > 0n ? divUp(position.scaledDebt * inputs.market.borrowIndex, RAY) : 0n;
  return {
    account: {
      id: account,
      cash: position.cash,
      debt,
      annualRate: inputs.annualRate,
      positions: [...assets.keys()].map((asset) => ({ asset, quantity: position.balances.get(asset)! })),
    },
    market: { cashDecimals: inputs.cash.decimals, assets, prices },
  };
}

function figures(inputs: Inputs, account: string, position: Position): AccountFigures {
  const view = valueOffchain(account, position, inputs.market);
  const { account: acct, market } = riskBook(inputs, account, position);
  const lines = accountLiquidation(acct, market).positions;
  const gross = view.cash + view.positionValue;
  const safe = [...position.balances.keys()].every((a) => inputs.market.assets.get(a)?.status === 0);
  const meets =
    view.debt === 0n ||
    (safe && view.equity >= view.initialReq && view.equity > 0n && gross * WAD <= inputs.maxLeverage * view.equity);
  return {
    view,
    initialHeadroom: view.equity - view.initialReq,
    meetsInitialMargin: meets,
    dailyInterest: mulDivUp(view.debt, inputs.ratePerDay, WAD),
    positions: lines.map((l) => {
      const a = inputs.market.assets.get(l.asset)!;
      const quantity = position.balances.get(l.asset)!;
      return {
        asset: l.asset,
        symbol: market.assets.get(l.asset)!.symbol,
        quantity,
        price: l.price,
        value: (quantity * a.price) / a.scale,
        liquidationPrice: l.liquidationPrice,
        moveToLiquidation: l.moveToLiquidation,
      };
    }),
  };
}

function leverageProblem(inputs: Inputs, f: AccountFigures): Problem {
  const safe = f.positions.every((p) => inputs.market.assets.get(p.asset)?.status === 0);
  if (!safe) return "price-unsafe";
  return f.view.equity < f.view.initialReq ? "initial-margin" : "leverage";
}

function orderCosts(
  inputs: Inputs,
  order: Extract<ProposedAction, { kind: "order" }>,
  before: AccountFigures,
  after: AccountFigures,
  input: SimulateInput,
): TradeCosts {
  const t = tokenOf(inputs, order.instrument);
  const notional = divUp(order.quantity * order.limitPrice, 10n ** BigInt(t.decimals));
  // the part of the trade paid with borrowed money: how much it raises the account's net debt (debt − cash)
  const net = (f: AccountFigures) => (f.view.debt > f.view.cash ? f.view.debt - f.view.cash : 0n);
  const raised = net(after) - net(before);
  const financed = raised < 0n ? 0n : raised > notional ? notional : raised;
  return tradeCosts({
    side: order.side,
    notional,
    limitPrice: order.limitPrice,
    financed,
    holdingDays: input.holdingDays,
    annualRate: inputs.annualRate,
    schedule: DEFAULT_TRADE_FEES,
    cashDecimals: inputs.cash.decimals,
  });
}

function sizingOf(inputs: Inputs, before: AccountFigures, s: NonNullable<SimulateInput["sizing"]>): Sizing {
  const t = tokenOf(inputs, s.instrument);
  return sizePosition({ ...s, equity: before.view.equity, decimals: t.decimals });
}

/** The account alone through the shipped 2015 and 2020 shock paths and the Monte Carlo run (readStress's settings). */
function stressOf(chain: PortfolioChain, inputs: Inputs, account: string, position: Position): StressFigures {
  const { account: acct, market } = riskBook(inputs, account, position);
  if (acct.positions.length === 0) return { scenarios: [], monteCarlo: { paths: 0, days: 0, pathsWithBadDebt: 0 } };
  const { summary } = stressRun(
    {
      block: inputs.block,
      symbols: new Map([...market.assets.values()].map((a) => [a.asset, a.symbol])),
      book: {
        market,
        accounts: [acct],
        // the account alone: no fund or pool cushion, so bad debt is the account's own shortfall
        funding: { insuranceFund: 0n, poolCash: 0n, providerClaims: 0n, insuranceShareOfPenalty: 0n },
      },
    },
    chain,
    { charts: false },
  );
  return {
    scenarios: summary.scenarios.map((s) => ({
      id: s.id,
      name: s.name,
      kind: s.kind,
      liquidated: s.accountsLiquidated > 0,
      liquidationVolume: BigInt(s.liquidationVolume),
      badDebt: BigInt(s.badDebt),
    })),
    monteCarlo: summary.monteCarlo,
  };
}
