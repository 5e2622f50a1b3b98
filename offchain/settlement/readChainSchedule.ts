import {
  ProtocolAccessManager__factory,
  CapitalPool__factory,
  KycRegistry__factory,
  MarginEngine__factory,
} from "../../typechain-types";
import type { Provider } from "ethers";
import type { ChainGateway } from "../chain";
import { withRetry } from "../chain";
import { AppError } from "../shared/errors";
import type { AssetSchedule, ChainSchedule } from "./legal";

/** AccessManager role id of the risk officer (contracts/shared/Roles.sol). */
const RISK_OFFICER = 3n;

/** Reads what the chain applies to `client`'s account, every read at one block. */
export type ChainScheduleReader = (client: string) => Promise<ChainSchedule>;

/**
 * Use case: the chain's side of a financing agreement — every listed security's assetConfig and its tier's
 * tierRisk, the engine's params, the pool's rate and rate model, the client's verified leverage limit and the risk
 * officer's execution delay (the notice period before a parameter change takes effect), all at the latest block.
 */
export function chainScheduleReader(
  chain: Pick<ChainGateway, "deployment" | "retry"> & { provider: Provider },
): ChainScheduleReader {
  const { provider, deployment } = chain;
  const c = deployment.contracts;
  for (const name of ["MarginEngine", "CapitalPool", "AccessManager"]) {
    if (!c[name]) throw new AppError("CONFIG_INVALID", `the deployment has no ${name}: agreements cannot be generated`);
  }
  const engine = MarginEngine__factory.connect(c.MarginEngine, provider);
  const pool = CapitalPool__factory.connect(c.CapitalPool, provider);
  const kyc = KycRegistry__factory.connect(c.KycRegistry, provider);
  const manager = ProtocolAccessManager__factory.connect(c.AccessManager, provider);
  const tokens = new Map(deployment.tokens.map((t) => [t.address.toLowerCase(), t]));
  return (client) =>
    withRetry(async () => {
      const block = await provider.getBlockNumber();
      const at = { blockTag: block };
      const [listed, params, rate, model, maxLeverage, access] = await Promise.all([
        engine.listedAssets(at),
        engine.params(at),
        pool.borrowRate(at),
        pool.rateModel(at),
        kyc.maxLeverageOf(client, at),
        manager.getAccess(RISK_OFFICER, deployment.roles.riskOfficer, at),
      ]);
      const assets = await Promise.all(
        listed.map(async (address): Promise<AssetSchedule> => {
          const a = await engine.assetConfig(address, at);
          const r = await engine.tierRisk(a.liquidityTier, at);
          const token = tokens.get(address.toLowerCase());
          return {
            symbol: token?.symbol ?? address,
            address,
            liquidityTier: Number(a.liquidityTier),
            haircut: a.haircut,
            liquidationPenalty: a.liquidationPenalty,
            windowCap: a.windowCap,
            assetDecimals: token?.decimals ?? 18,
            tier: {
              liquidityAddOn: r.liquidityAddOn,
              volatilityMultiplier: r.volatilityMultiplier,
              floor: r.floor,
              cap: r.cap,
              initialBuffer: r.initialBuffer,
              fixedVolatility: r.fixedVolatility,
            },
          };
        }),
      );
      return {
        chainId: deployment.chainId,
        block,
        engine: c.MarginEngine,
        pool: c.CapitalPool,
        assets,
        params: {
          warningBuffer: params.warningBuffer,
          hardFloorFactor: params.hardFloorFactor,
          targetBuffer: params.targetBuffer,
          liquidatorShare: params.liquidatorShare,
          gracePeriod: Number(params.gracePeriod),
          oracleGrace: Number(params.oracleGrace),
          liquidationWindow: Number(params.liquidationWindow),
          dustValue: params.dustValue,
        },
        rate: {
          annualRate: rate,
          model: { base: model.base, slope1: model.slope1, slope2: model.slope2, kink: model.kink },
          dayCount: "ACT/365",
        },
        maxLeverage,
        // getAccess: [since, currentDelay, pendingDelay, effect]; the delay in force now.
        noticePeriodSeconds: Number(access[1]),
      };
    }, chain.retry);
}
