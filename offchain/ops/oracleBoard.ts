import { AppError } from "../shared/errors";
import type { OracleAssetReading, BreakerResetPath } from "../chain/opsChain";
import type { BreakerResetRecord } from "../store";
import type { OpsDeps } from "./ports";

export interface OracleBoard {
  block: number;
  chainTime: number;
  reset: BreakerResetPath;
  assets: (OracleAssetReading & { symbol: string; ageSeconds: number | null; lastReset: BreakerResetRecord | null })[];
}

/**
 * Use case: the oracle board. Per listed security its primary feed's last round (answer, age, the reporters that
 * signed it, the quorum), the router's price and status, the breaker and the last re-arm requested here; and
 * whether this service can re-arm a breaker now (and if not, why).
 */
export async function readOracleBoard(deps: OpsDeps): Promise<OracleBoard> {
  if (!deps.chain) throw new AppError("CHAIN_UNAVAILABLE", "no deployment: the oracle board reads the chain");
  const { ops, deployment } = deps.chain;
  const securities = deployment.tokens.filter((t) => t.kind === "security");
  const [time, readings, reset] = await Promise.all([
    ops.chainTime(),
    ops.oracle(securities.map((t) => t.address)),
    ops.resetPath(),
  ]);
  const assets = await Promise.all(
    readings.map(async (r, i) => ({
      ...r,
      symbol: securities[i].symbol,
      ageSeconds: r.updatedAt > 0 ? Math.max(0, time.timestamp - r.updatedAt) : null,
      lastReset: (await deps.store.ops.breakerResets({ asset: r.asset, limit: 1 }))[0] ?? null,
    })),
  );
  return { block: time.block, chainTime: time.timestamp, reset, assets };
}
