import { accountLiquidation, mulDivUp, WAD, type AssetRisk, type LiquidityTier } from "../risk";
import type { TokenRecord } from "../chain";
import { AppError } from "../shared/errors";
import type { PortfolioChain } from "./chainReader";
import { fixedMargins, inFixedTerm, tierRiskAt } from "./readMarginModes";
import { ACCOUNT_STATES, PRICE_STATUSES, type AccountSummary } from "./schemas";

const MAX_UINT256 = (1n << 256n) - 1n;

function tokenOf(t: TokenRecord): { symbol: string; address: string; decimals: number } {
  return { symbol: t.symbol, address: t.address, decimals: t.decimals };
}

/**
 * Use case: one client's margin account as the console shows it. Every figure is read from the chain at one
 * block (the engine's accountView, balances, router prices, pool rate); per-position liquidation prices and the
 * cushion come from offchain/risk over the same numbers.
 */
export async function readAccount(chain: PortfolioChain, account: string): Promise<AccountSummary> {
  const { engine, router, pool, deployment, gateway } = chain;
  const blockTag = await gateway.provider.getBlockNumber();
  const at = { blockTag };
  const cashToken = deployment.tokens.find((t) => t.kind === "cash");
  if (!cashToken) throw new AppError("CONFIG_INVALID", "the deployment has no cash token");
  // every position the engine can hold: securities and option series
  const securities = deployment.tokens.filter((t) => t.kind !== "cash");

  const [view, annualRate, ratePerDay, recorded] = await Promise.all([
    engine.accountView(account, at),
    pool.borrowRate(at),
    pool.ratePerDay(at),
    engine.recordedState(account, at),
  ]);
  const fixedUntilDay = Number(recorded[3]);
  // the block's time only for an account that ever chose a fixed term
  const block = fixedUntilDay > 0 ? await gateway.provider.getBlock(blockTag) : null;
  const fixedTerm = block !== null && inFixedTerm(fixedUntilDay, block.timestamp);
  const lines = await Promise.all(
    securities.map(async (t) => {
      const [quantity, config, margins, priced] = await Promise.all([
        engine.balanceOf(account, t.address, at),
        engine.assetConfig(t.address, at),
        engine.assetMargins(t.address, at),
        router.getPrice(t.address, at).then(
          (p) => ({ price: p.price, status: PRICE_STATUSES[Number(p.status)] ?? "Unset" }),
          () => ({ price: 0n, status: "Unset" as const }),
        ),
      ]);
      // in the account's fixed term the engine applies the tier's margins at its fixed volatility
      const own = fixedTerm ? fixedMargins(await tierRiskAt(engine, config.liquidityTier, blockTag)) : undefined;
      const [mm, im] = own ? [own.maintenance, own.initial] : [margins[0], margins[1]];
      return { token: t, quantity, config, mm, im, ...priced };
    }),
  );
  const wallet = await Promise.all(
    deployment.tokens.map(async (t) => ({
      token: tokenOf(t),
      balance: (await gateway.tokens[t.symbol].balanceOf(account, at)).toString(),
    })),
  );

  const held = lines.filter((l) => l.quantity > 0n && l.price > 0n);
  const assets = new Map<string, AssetRisk>(
    held.map((l) => [
      l.token.address,
      {
        asset: l.token.address,
        symbol: l.token.symbol,
        decimals: l.token.decimals,
        haircut: l.config.haircut,
        initialMargin: l.im,
        maintenanceMargin: l.mm,
        liquidationPenalty: l.config.liquidationPenalty,
        liquidityTier: Math.min(3, Math.max(1, Number(l.config.liquidityTier))) as LiquidityTier,
      },
    ]),
  );
  const risk = accountLiquidation(
    {
      id: account,
      cash: view.cash,
      debt: view.debt,
      annualRate,
      positions: held.map((l) => ({ asset: l.token.address, quantity: l.quantity })),
    },
    {
      cashDecimals: cashToken.decimals,
      assets,
      prices: new Map(held.map((l) => [l.token.address, l.price])),
    },
  );
  const byAsset = new Map(risk.positions.map((p) => [p.asset, p]));
  const str = (v: bigint | undefined): string | null => (v === undefined ? null : v.toString());
  const scale = (t: TokenRecord): bigint => 10n ** BigInt(t.decimals + 18 - cashToken.decimals);

  return {
    account,
    block: blockTag,
    cashToken: tokenOf(cashToken),
    state: ACCOUNT_STATES[Number(view.state)],
    pricesSafe: view.pricesSafe,
    callDeadline: view.callDeadline === 0n ? null : Number(view.callDeadline),
    cash: view.cash.toString(),
    debt: view.debt.toString(),
    positionValue: view.positionValue.toString(),
    collateralValue: view.collateralValue.toString(),
    equity: view.equity.toString(),
    marginRatio: view.marginRatio === MAX_UINT256 ? null : view.marginRatio.toString(),
    maintenanceReq: view.maintenanceReq.toString(),
    initialReq: view.initialReq.toString(),
    warningLine: view.warningLine.toString(),
    hardLine: view.hardLine.toString(),
    liquidationReturn: view.liquidationReturn.toString(),
    liquidationPrice: view.liquidationPrice === 0n ? null : view.liquidationPrice.toString(),
    marginMode: {
      mode: fixedTerm ? "fixed" : "dynamic",
      fixedUntil: fixedTerm ? new Date(fixedUntilDay * 86_400_000).toISOString().slice(0, 10) : null,
    },
    positions: lines
      .filter((l) => l.quantity > 0n)
      .map((l) => {
        const r = byAsset.get(l.token.address);
        return {
          token: tokenOf(l.token),
          liquidityTier: Number(l.config.liquidityTier),
          quantity: l.quantity.toString(),
          price: l.price > 0n ? l.price.toString() : null,
          priceStatus: l.status,
          value: ((l.quantity * l.price) / scale(l.token)).toString(),
          haircut: l.config.haircut.toString(),
          maintenanceMargin: l.mm.toString(),
          initialMargin: l.im.toString(),
          liquidationPrice: str(r?.liquidationPrice),
          moveToLiquidation: str(r?.moveToLiquidation),
        };
      }),
    wallet,
    interest: {
      annualRate: annualRate.toString(),
      ratePerDay: ratePerDay.toString(),
      dailyInterest: mulDivUp(view.debt, ratePerDay, WAD).toString(),
    },
    risk: { cushion: risk.cushion.toString(), uniformShock: str(risk.uniformShock) },
  };
}
