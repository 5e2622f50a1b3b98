import { time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { marginFixture, pct, setTier, zeroRate, CNY, type MarginFixture } from "../../helpers/marginFixture";
import { listOptionSeries } from "../../../scripts/deploy/options";
import { optionPrice } from "../../../offchain/risk";
import {
  OptionMarket__factory,
  OptionPriceFeed__factory,
  OptionToken__factory,
  SettableAggregatorV3__factory,
  type OptionMarket,
  type OptionPriceFeed,
  type OptionToken,
  type SettableAggregatorV3,
} from "../../../typechain-types";

export const WAD = 10n ** 18n;
export const DAY = 86_400;
/** Contracts of 100 shares; puts struck at 9 and calls at 11 on mbBANK (10 CNY), 90 days, σ 30%, r 0. */
export const SIZE = 100n;
export const VOLATILITY = (30n * WAD) / 100n;
export const FIXING_WINDOW = 1_800;

export interface OptionsFixture extends MarginFixture {
  market: OptionMarket;
  volatility: SettableAggregatorV3;
  put: OptionToken;
  putFeed: OptionPriceFeed;
  call: OptionToken;
  callFeed: OptionPriceFeed;
  expiry: bigint;
  /** Reports the implied volatility again (it ages like a price) and re-pokes the router for both series. */
  refreshOptions(): Promise<void>;
  /** The model price of one contract (wad CNY) at `spot` with `seconds` to expiry: the off-chain mirror. */
  mirror(isCall: boolean, spot: bigint, strike: bigint, seconds: bigint): bigint;
}

/**
 * The margin stack with the OptionMarket deployAll wires, tier margins 15% / 20% without a volatility term and no
 * interest (figures hold exactly), a settable implied-volatility feed at 30%, and two listed series on mbBANK: a put
 * struck at 9 and a call struck at 11, expiring in 90 days, 100 shares a contract, a 30-minute fixing window.
 */
export async function optionsFixture(): Promise<OptionsFixture> {
  const fx = await marginFixture();
  await zeroRate(fx);
  for (const tier of [1, 2, 3]) await setTier(fx, tier, pct(15), pct(5));
  const c = fx.record.contracts;
  const market = OptionMarket__factory.connect(c.OptionMarket, fx.actors.admin);
  const volatility = await new SettableAggregatorV3__factory(fx.actors.admin).deploy(8, "mbBANK implied volatility");
  await volatility.setAnswer(30_000_000n);
  const expiry = BigInt(await time.latest()) + 90n * BigInt(DAY);
  const bank = await fx.bank.getAddress();
  const list = async (isCall: boolean, strike: bigint, symbol: string): Promise<[OptionToken, OptionPriceFeed]> => {
    const series = await listOptionSeries({
      contracts: c,
      riskOfficer: fx.actors.riskOfficer,
      operator: fx.actors.operator,
      terms: {
        underlying: bank,
        isCall,
        strike,
        expiry,
        contractSize: SIZE,
        fixingWindow: FIXING_WINDOW,
        volatilityFeed: await volatility.getAddress(),
        rate: 0n,
      },
      name: symbol,
      symbol,
      maxStaleness: DAY,
    });
    const { feed } = await market.series(series);
    return [
      OptionToken__factory.connect(series, fx.actors.admin),
      OptionPriceFeed__factory.connect(feed, fx.actors.admin),
    ];
  };
  const [put, putFeed] = await list(false, 9n * WAD, "mbBANK-P9");
  const [call, callFeed] = await list(true, 11n * WAD, "mbBANK-C11");
  const refreshOptions = async (): Promise<void> => {
    await volatility.setAnswer((await volatility.latestRoundData())[1]);
    for (const s of [put, call]) await fx.router.poke(await s.getAddress());
  };
  const mirror = (isCall: boolean, spot: bigint, strike: bigint, seconds: bigint): bigint =>
    optionPrice({ isCall, spot, strike, secondsToExpiry: seconds, volatility: VOLATILITY, rate: 0n }) * SIZE;
  // the dealer writes: cash to lock puts (9 × 100 = 900 CNY a contract), shares it already holds to cover calls
  await fx.fundAccount(fx.dealer, fx.cash, 100_000n * CNY);
  return { ...fx, market, volatility, put, putFeed, call, callFeed, expiry, refreshOptions, mirror };
}
