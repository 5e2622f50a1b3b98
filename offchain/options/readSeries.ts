import { PRICE_STATUSES } from "../portfolio";
import type { OptionsChain } from "./chain";

/** One listed series as GET /v1/options shows it (amounts are base-unit strings, prices WAD strings). */
export interface SeriesView {
  symbol: string;
  address: string;
  underlying: { symbol: string; address: string; price: string; priceStatus: string };
  type: "put" | "call";
  strike: string;
  expiry: number;
  contractSize: number;
  fixingWindow: number;
  /** The router's price of one contract (the model feed: Black-Scholes at the implied volatility), WAD CNY. */
  price: string;
  priceStatus: string;
  /** The implied volatility the feed prices with (WAD, annual), null when not reported yet. */
  impliedVolatility: string | null;
  openInterest: string;
  /** What a written contract locks: cash base units for a put, shares for a call. */
  lockPerContract: string;
  state: "open" | "expired" | "fixed";
  settlementPrice: string | null;
  payPerContract: string | null;
}

export interface SeriesList {
  block: number;
  chainTime: number;
  series: SeriesView[];
}

/** Every listed series at one block: terms, price and status from the router, open interest and fix from the market. */
export async function readSeries(chain: OptionsChain): Promise<SeriesList> {
  const blockTag = await chain.provider.getBlockNumber();
  const block = await chain.provider.getBlock(blockTag);
  const at = { blockTag };
  const symbolOf = new Map(chain.deployment.tokens.map((t) => [t.address.toLowerCase(), t.symbol]));
  const quote = async (asset: string): Promise<{ price: string; priceStatus: string }> => {
    try {
      const p = await chain.router.getPrice(asset, at);
      return { price: p.price.toString(), priceStatus: PRICE_STATUSES[Number(p.status)] ?? "Unset" };
    } catch {
      return { price: "0", priceStatus: "Unset" };
    }
  };
  const series = await Promise.all(
    chain.series.map(async (t): Promise<SeriesView> => {
      const s = await chain.market.series(t.address, at);
      const iv = chain.volatilityFeed(s.underlying);
      const impliedVolatility = iv
        ? await iv.latestRoundData(at).then(
            (r) => (r.answer * 10n ** 10n).toString(),
            () => null,
          )
        : null;
      const now = block!.timestamp;
      return {
        symbol: t.symbol,
        address: t.address,
        underlying: {
          symbol: symbolOf.get(s.underlying.toLowerCase()) ?? "",
          address: s.underlying,
          ...(await quote(s.underlying)),
        },
        type: s.isCall ? "call" : "put",
        strike: s.strike.toString(),
        expiry: Number(s.expiry),
        contractSize: Number(s.contractSize),
        fixingWindow: Number(s.fixingWindow),
        ...(await quote(t.address)),
        impliedVolatility,
        openInterest: s.openInterest.toString(),
        lockPerContract: s.lockPerContract.toString(),
        state: s.fixed_ ? "fixed" : now >= Number(s.expiry) ? "expired" : "open",
        settlementPrice: s.fixed_ ? s.settlementPrice.toString() : null,
        payPerContract: s.fixed_ ? s.payPerContract.toString() : null,
      };
    }),
  );
  return { block: blockTag, chainTime: block!.timestamp, series };
}
