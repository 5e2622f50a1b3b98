import { z } from "zod";
import type { AccountFigures, ProposedAction, Simulation, SimulateInput, StressFigures } from "./simulate";

const uint = z.string().regex(/^[0-9]{1,78}$/, "unsigned integer as a decimal string");
// zod runs a refinement even after the regex failed: only a well-formed integer is converted
const positive = uint.refine((v) => !/^[0-9]{1,78}$/.test(v) || BigInt(v) > 0n, "must be positive");
const int = z.string();
const asset = z.string().min(1).max(64).openapi({ description: "token symbol or address" });

export const simulateBodySchema = z
  .object({
    action: z.discriminatedUnion("kind", [
      z
        .object({
          kind: z.literal("order"),
          side: z.enum(["buy", "sell"]),
          instrument: asset,
          quantity: positive.openapi({ description: "security base units" }),
          limitPrice: positive.openapi({ description: "cash base units per whole security token (the order's unit)" }),
        })
        .strict(),
      z.object({ kind: z.literal("deposit"), asset, amount: positive }).strict(),
      z.object({ kind: z.literal("withdraw"), asset, amount: positive }).strict(),
      z.object({ kind: z.literal("borrow"), amount: positive }).strict(),
      z.object({ kind: z.literal("repay"), amount: positive }).strict(),
    ]),
    holdingDays: z.number().int().min(0).max(3650).default(30),
    sizing: z
      .object({
        riskBps: z.number().int().min(1).max(10_000).openapi({ description: "risk budget, bps of equity (100 = 1%)" }),
        instrument: asset,
        side: z.enum(["buy", "sell"]).default("buy"),
        entryPrice: positive,
        stopPrice: positive.optional(),
        atr: positive.optional().openapi({ description: "average true range, in the entry price's unit" }),
        atrMultipleBps: z.number().int().min(1).max(1_000_000).optional(),
        lotSize: positive.default("1"),
      })
      .strict()
      .optional(),
  })
  .strict();

const figures = z.object({
  state: z.string(),
  marginRatio: uint.nullable(),
  cash: uint,
  debt: uint,
  positionValue: uint,
  collateralValue: uint,
  equity: int,
  maintenanceReq: uint,
  initialReq: uint,
  warningLine: uint,
  hardLine: uint,
  initialHeadroom: int,
  meetsInitialMargin: z.boolean(),
  dailyInterest: uint,
  liquidationPrice: uint.nullable(),
  liquidationReturn: int,
  positions: z.array(
    z.object({
      asset: z.string(),
      symbol: z.string(),
      quantity: uint,
      price: uint,
      value: uint,
      liquidationPrice: uint.nullable(),
      moveToLiquidation: int.nullable(),
    }),
  ),
});

const stress = z.object({
  scenarios: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      kind: z.string(),
      liquidated: z.boolean(),
      liquidationVolume: uint,
      badDebt: uint,
    }),
  ),
  monteCarlo: z.object({ paths: z.number(), days: z.number(), pathsWithBadDebt: z.number() }),
});

export const simulationSchema = z.object({
  account: z.string(),
  block: z.number(),
  cashToken: z.object({ symbol: z.string(), address: z.string(), decimals: z.number() }),
  before: figures,
  after: figures,
  feasible: z.boolean(),
  problems: z.array(z.string()),
  costs: z
    .object({
      items: z.array(z.object({ name: z.string(), amount: uint })),
      total: uint,
      financed: uint,
      holdingDays: z.number(),
      breakEvenMove: uint.nullable(),
      breakEvenPrice: uint.nullable(),
    })
    .nullable(),
  stress: z.object({ before: stress, after: stress }),
  sizing: z
    .object({
      budget: uint,
      stopDistance: uint,
      stopPrice: int,
      quantity: uint,
      lossAtStop: uint,
      notional: uint,
    })
    .nullable(),
});

const STATES = ["Healthy", "Warning", "MarginCall", "Liquidatable", "Underwater"] as const;
const MAX_UINT256 = (1n << 256n) - 1n;
const s = (v: bigint) => v.toString();
const opt = (v: bigint | undefined) => (v === undefined ? null : v.toString());

function figuresJson(f: AccountFigures): z.input<typeof figures> {
  const v = f.view;
  return {
    state: STATES[v.state] ?? String(v.state),
    marginRatio: v.marginRatio === MAX_UINT256 ? null : s(v.marginRatio),
    cash: s(v.cash),
    debt: s(v.debt),
    positionValue: s(v.positionValue),
    collateralValue: s(v.collateralValue),
    equity: s(v.equity),
    maintenanceReq: s(v.maintenanceReq),
    initialReq: s(v.initialReq),
    warningLine: s(v.warningLine),
    hardLine: s(v.hardLine),
    initialHeadroom: s(f.initialHeadroom),
    meetsInitialMargin: f.meetsInitialMargin,
    dailyInterest: s(f.dailyInterest),
    liquidationPrice: v.liquidationPrice === 0n ? null : s(v.liquidationPrice),
    liquidationReturn: s(v.liquidationReturn),
    positions: f.positions.map((p) => ({
      asset: p.asset,
      symbol: p.symbol,
      quantity: s(p.quantity),
      price: s(p.price),
      value: s(p.value),
      liquidationPrice: opt(p.liquidationPrice),
      moveToLiquidation: opt(p.moveToLiquidation),
    })),
  };
}

function stressJson(f: StressFigures): z.input<typeof stress> {
  return {
    scenarios: f.scenarios.map((x) => ({ ...x, liquidationVolume: s(x.liquidationVolume), badDebt: s(x.badDebt) })),
    monteCarlo: f.monteCarlo,
  };
}

export function simulationJson(sim: Simulation): z.input<typeof simulationSchema> {
  return {
    account: sim.account,
    block: sim.block,
    cashToken: { symbol: sim.cashToken.symbol, address: sim.cashToken.address, decimals: sim.cashToken.decimals },
    before: figuresJson(sim.before),
    after: figuresJson(sim.after),
    feasible: sim.problems.length === 0,
    problems: sim.problems,
    costs: sim.costs && {
      items: sim.costs.items.map((i) => ({ name: i.name, amount: s(i.amount) })),
      total: s(sim.costs.total),
      financed: s(sim.costs.financed),
      holdingDays: sim.costs.holdingDays,
      breakEvenMove: opt(sim.costs.breakEvenMove ?? undefined),
      breakEvenPrice: opt(sim.costs.breakEvenPrice ?? undefined),
    },
    stress: { before: stressJson(sim.stress.before), after: stressJson(sim.stress.after) },
    sizing: sim.sizing && {
      budget: s(sim.sizing.budget),
      stopDistance: s(sim.sizing.stopDistance),
      stopPrice: s(sim.sizing.stopPrice),
      quantity: s(sim.sizing.quantity),
      lossAtStop: s(sim.sizing.lossAtStop),
      notional: s(sim.sizing.notional),
    },
  };
}

/** The validated body as the use case takes it (amounts as bigint). */
export function simulateInputOf(body: z.output<typeof simulateBodySchema>): SimulateInput {
  const a = body.action;
  const action: ProposedAction =
    a.kind === "order"
      ? { ...a, quantity: BigInt(a.quantity), limitPrice: BigInt(a.limitPrice) }
      : a.kind === "deposit" || a.kind === "withdraw"
        ? { ...a, amount: BigInt(a.amount) }
        : { ...a, amount: BigInt(a.amount) };
  const z_ = body.sizing;
  const big = (v: string | undefined) => (v === undefined ? undefined : BigInt(v));
  return {
    action,
    holdingDays: body.holdingDays,
    sizing: z_ && {
      ...z_,
      entryPrice: BigInt(z_.entryPrice),
      stopPrice: big(z_.stopPrice),
      atr: big(z_.atr),
      lotSize: BigInt(z_.lotSize),
    },
  };
}
