import type { Signer } from "ethers";
import { parseUnits } from "ethers";
import { OptionMarket__factory } from "../../typechain-types";
import { listOptionSeries } from "../deploy/options";
import { volatilityFeedKey, type DeploymentRecord, type TokenRecord } from "../../offchain/chain/deployment";

/** The development platform's series: a put and a call on mbBANK, 10% out of the money, 30 days, 100 shares. */
export const DEV_SERIES = [
  { symbol: "mbBANK-P9", name: "mbBANK put 9.00", isCall: false, strike: "9" },
  { symbol: "mbBANK-C11", name: "mbBANK call 11.00", isCall: true, strike: "11" },
] as const;
export const DEV_SERIES_UNDERLYING = "mbBANK";
export const DEV_SERIES_DAYS = 30;
export const DEV_CONTRACT_SIZE = 100;
/** The fixing window: the settlement price is the underlying's time-weighted average over 30 minutes from expiry. */
export const DEV_FIXING_WINDOW = 1_800;

/**
 * Lists the development series as the risk officer (and the operator, for the hub) would on a fresh deployment, and
 * adds them to the record's tokens (kind "option"), where the order book, the account summaries and GET /v1/options
 * find them. Idempotent: a record that already has them is returned as it is.
 */
export async function listDevSeries(
  record: DeploymentRecord,
  riskOfficer: Signer,
  operator: Signer,
  log: (line: string) => void = () => {},
): Promise<DeploymentRecord> {
  if (record.tokens.some((t) => t.kind === "option")) return record;
  const underlying = record.tokens.find((t) => t.symbol === DEV_SERIES_UNDERLYING);
  const volatilityFeed = record.contracts[volatilityFeedKey(DEV_SERIES_UNDERLYING)];
  if (!underlying || !volatilityFeed || !record.contracts.OptionMarket) return record;
  const latest = await riskOfficer.provider!.getBlock("latest");
  const expiry = latest!.timestamp + DEV_SERIES_DAYS * 86_400;
  const market = OptionMarket__factory.connect(record.contracts.OptionMarket, riskOfficer);
  const tokens: TokenRecord[] = [];
  for (const s of DEV_SERIES) {
    const terms = {
      underlying: underlying.address,
      isCall: s.isCall,
      strike: parseUnits(s.strike, 18),
      expiry,
      contractSize: DEV_CONTRACT_SIZE,
      fixingWindow: DEV_FIXING_WINDOW,
      volatilityFeed,
      rate: 0n,
    };
    const address = await listOptionSeries({
      contracts: record.contracts,
      riskOfficer,
      operator,
      terms,
      name: s.name,
      symbol: s.symbol,
    });
    const { feed } = await market.series(address);
    tokens.push({
      symbol: s.symbol,
      name: s.name,
      address,
      decimals: 0,
      kind: "option",
      liquidityTier: 3,
      sector: "options",
      option: {
        underlying: underlying.address,
        isCall: s.isCall,
        strike: terms.strike.toString(),
        expiry,
        contractSize: DEV_CONTRACT_SIZE,
        fixingWindow: DEV_FIXING_WINDOW,
        feed,
      },
    });
    log(`option series ${s.symbol} ${address} (expires ${new Date(expiry * 1000).toISOString()})`);
  }
  return { ...record, tokens: [...record.tokens, ...tokens] };
}
