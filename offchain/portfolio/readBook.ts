import type { Account, AssetRisk, Book, LiquidityTier } from "../risk";
import { WAD } from "../risk";
import { AppError } from "../shared/errors";
import type { PortfolioChain } from "./chainReader";

/** The book at one block, with the block it was read at. */
export interface ChainBook {
  readonly block: number;
  readonly book: Book;
  /** Asset address → symbol, for labels. */
  readonly symbols: ReadonlyMap<string, string>;
}

/**
 * Use case: the whole book as the risk model needs it, read from the chain at one block.
 *
 * Account set: every address the margin engine has named as an account holder since deployment
 * (CollateralDeposited, Borrowed, AccountTransfer to), kept when it still holds cash, a position or debt.
 * Per account: MarginEngine.accountView (cash, debt) and balanceOf per listed security. Per asset: assetConfig
 * (haircut, penalty, tier) and assetMargins (maintenance, initial); prices from OracleRouter.getPrice (an asset
 * without a price is left out of the book and its positions with it). Funding: the insurance fund's balance
 * plus what the engine still owes it (insuranceOwed), the pool's available cash, its totalAssets as the
 * providers' claims (so reserve ratio after = 1 − pool loss / totalAssets), the fund's share of a penalty
 * = 1 − params.liquidatorShare, and the pool's current borrow rate as every account's rate.
 */
export async function readBook(chain: PortfolioChain): Promise<ChainBook> {
  const { engine, router, pool, fund, deployment, gateway } = chain;
  const blockTag = await gateway.provider.getBlockNumber();
  const at = { blockTag };
  const cashToken = deployment.tokens.find((t) => t.kind === "cash");
  if (!cashToken) throw new AppError("CONFIG_INVALID", "the deployment has no cash token");
  const securities = deployment.tokens.filter((t) => t.kind === "security");

  const range = [deployment.deployBlock, blockTag] as const;
  const [deposited, borrowed, transferred] = await Promise.all([
    engine.queryFilter(engine.filters.CollateralDeposited(), ...range),
    engine.queryFilter(engine.filters.Borrowed(), ...range),
    engine.queryFilter(engine.filters.AccountTransfer(), ...range),
  ]);
  const named = new Map<string, string>();
  for (const a of [
    ...deposited.map((l) => l.args.account),
    ...borrowed.map((l) => l.args.account),
    ...transferred.map((l) => l.args.to),
  ])
    named.set(a.toLowerCase(), a);

  const [annualRate, params, fundBalance, owed, availableCash, totalAssets] = await Promise.all([
    pool.borrowRate(at),
    engine.params(at),
    fund.balance(at),
    engine.insuranceOwed(at),
    pool.availableCash(at),
    pool.totalAssets(at),
  ]);

  const priced = (
    await Promise.all(
      securities.map(async (t) => {
        const [config, margins, price] = await Promise.all([
          engine.assetConfig(t.address, at),
          engine.assetMargins(t.address, at),
          router.getPrice(t.address, at).then(
            (p) => p.price,
            () => 0n,
          ),
        ]);
        const risk: AssetRisk = {
          asset: t.address,
          symbol: t.symbol,
          decimals: t.decimals,
          haircut: config.haircut,
          initialMargin: margins[1],
          maintenanceMargin: margins[0],
          liquidationPenalty: config.liquidationPenalty,
          liquidityTier: Math.min(3, Math.max(1, Number(config.liquidityTier))) as LiquidityTier,
        };
        return { risk, price, listed: config.listed };
      }),
    )
  ).filter((a) => a.listed && a.price > 0n);

  const accounts = (
    await Promise.all(
      [...named.values()].map(async (id): Promise<Account> => {
        const [view, quantities] = await Promise.all([
          engine.accountView(id, at),
          Promise.all(priced.map((a) => engine.balanceOf(id, a.risk.asset, at))),
        ]);
        return {
          id,
          cash: view.cash,
          debt: view.debt,
          annualRate,
          positions: priced
            .map((a, i) => ({ asset: a.risk.asset, quantity: quantities[i] }))
            .filter((p) => p.quantity > 0n),
        };
      }),
    )
  )
    .filter((a) => a.cash > 0n || a.debt > 0n || a.positions.length > 0)
    .sort((a, b) => (a.id.toLowerCase() < b.id.toLowerCase() ? -1 : 1));

  return {
    block: blockTag,
    symbols: new Map(priced.map((a) => [a.risk.asset, a.risk.symbol])),
    book: {
      market: {
        cashDecimals: cashToken.decimals,
        assets: new Map(priced.map((a) => [a.risk.asset, a.risk])),
        prices: new Map(priced.map((a) => [a.risk.asset, a.price])),
      },
      accounts,
      funding: {
        insuranceFund: fundBalance + owed,
        poolCash: availableCash,
        providerClaims: totalAssets,
        insuranceShareOfPenalty: WAD - BigInt(params.liquidatorShare),
      },
    },
  };
}
