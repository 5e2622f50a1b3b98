import { tierMargins, WAD, type TierMargins, type TierRule } from "../risk";
import type { MarginEngine } from "../../typechain-types";
import { AppError } from "../shared/errors";
import type { PortfolioChain } from "./chainReader";
import type { MarginModesSummary } from "./schemas";

const DAY = 86_400;

/** IMarginEngine.TierRisk as read, with the fixed mode's volatility beside the rule. */
export type EngineTierRisk = TierRule & { fixedVolatility: bigint };

export async function tierRiskAt(
  engine: MarginEngine,
  tier: bigint | number,
  blockTag: number,
): Promise<EngineTierRisk> {
  const r = await engine.tierRisk(tier, { blockTag });
  return {
    liquidityAddOn: r.liquidityAddOn,
    volatilityMultiplier: r.volatilityMultiplier,
    floor: r.floor,
    cap: r.cap,
    initialBuffer: r.initialBuffer,
    fixedVolatility: r.fixedVolatility,
  };
}

/** The engine's margins of a tier for an account in its fixed term: the rule at the tier's fixed volatility. */
export function fixedMargins(rule: EngineTierRisk): TierMargins {
  return tierMargins(rule, rule.fixedVolatility);
}

/** Whether an account whose term ends at the start of `fixedUntilDay` (UTC days since 1970) is in it at `time`. */
export function inFixedTerm(fixedUntilDay: number, time: number): boolean {
  return fixedUntilDay > Math.floor(time / DAY);
}

const margins = (m: TierMargins) => ({
  maintenance: m.maintenance.toString(),
  initial: m.initial.toString(),
  maxLeverage: m.maxLeverage.toString(),
});

/**
 * Use case: the two margin modes side by side, before a client chooses (issue 23). For every listed security at one
 * block: the dynamic margins now (the tier's rule at the router's current daily σ, as MarginEngine.assetMargins
 * answers) and the fixed mode's (the same rule at the tier's fixedVolatility, held for the whole term whatever
 * the market does); the highest leverage each allows is 1 / initial. With `account`, the account's own mode.
 */
export async function readMarginModes(chain: PortfolioChain, account?: string): Promise<MarginModesSummary> {
  const { engine, gateway, deployment } = chain;
  const blockTag = await gateway.provider.getBlockNumber();
  const block = await gateway.provider.getBlock(blockTag);
  if (block === null) throw new AppError("CHAIN_UNAVAILABLE", `block ${blockTag} is not available`);
  const securities = deployment.tokens.filter((t) => t.kind === "security");
  const assets = await Promise.all(
    securities.map(async (t) => {
      const [config, [maintenance, initial, volatility]] = await Promise.all([
        engine.assetConfig(t.address, { blockTag }),
        engine.assetMargins(t.address, { blockTag }),
      ]);
      const rule = await tierRiskAt(engine, config.liquidityTier, blockTag);
      return {
        symbol: t.symbol,
        address: t.address,
        liquidityTier: Number(config.liquidityTier),
        volatility: volatility.toString(),
        dynamic: margins({ maintenance, initial, maxLeverage: initial === 0n ? 0n : (WAD * WAD) / initial }),
        fixed: { volatility: rule.fixedVolatility.toString(), ...margins(fixedMargins(rule)) },
      };
    }),
  );
  let mine: MarginModesSummary["account"] = null;
  if (account !== undefined) {
    const [, , , fixedUntilDay] = await engine.recordedState(account, { blockTag });
    const day = Number(fixedUntilDay);
    const fixed = inFixedTerm(day, block.timestamp);
    mine = {
      address: account,
      mode: fixed ? "fixed" : "dynamic",
      fixedUntil: fixed ? new Date(day * DAY * 1000).toISOString().slice(0, 10) : null,
    };
  }
  return { block: blockTag, chainTime: block.timestamp, maxTermDays: 366, assets, account: mine };
}
