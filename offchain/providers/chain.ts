import {
  CapitalPool__factory,
  MarginEngine__factory,
  OracleRouter__factory,
  ProtocolAccessManager__factory,
  TrancheVault__factory,
  type CapitalPool,
  type MarginEngine,
  type OracleRouter,
  type ProtocolAccessManager,
  type TrancheVault,
} from "../../typechain-types";
import type { Provider } from "ethers";
import type { ChainGateway, DeploymentRecord } from "../chain";
import { AppError } from "../shared/errors";

/** The two share classes of the pool, in the pool's tranche ids (0 senior, 1 junior). */
export const CLASSES = ["senior", "junior"] as const;
export type ClassName = (typeof CLASSES)[number];
export const TRANCHE_ID: Record<ClassName, 0 | 1> = { senior: 0, junior: 1 };

/** Read-only bindings of what a capital provider holds: the pool, its two classes, and the AccessManager. */
export interface ProvidersChain {
  deployment: DeploymentRecord;
  provider: Provider;
  pool: CapitalPool;
  vaults: Record<ClassName, TrancheVault>;
  manager: ProtocolAccessManager;
  /** For the cash-flow forecast (the borrowers' debt, the trading calendars); absent in a pool-only deployment. */
  engine?: MarginEngine;
  router?: OracleRouter;
}

/** The contracts this capability reads; a deployment without one of them cannot serve providers. */
export const PROVIDER_CONTRACTS = ["CapitalPool", "SeniorTranche", "JuniorTranche", "AccessManager"] as const;

export function providersChain(gateway: ChainGateway): ProvidersChain {
  return providersChainAt(gateway.provider, gateway.deployment);
}

/** The same bindings over any provider (the gateway's in the service; a test network's in tests). */
export function providersChainAt(provider: Provider, deployment: DeploymentRecord): ProvidersChain {
  const address = (name: (typeof PROVIDER_CONTRACTS)[number]): string => {
    const a = deployment.contracts[name];
    if (!a) throw new AppError("CONFIG_INVALID", `deployment ${deployment.network} has no ${name} address`);
    return a;
  };
  return {
    deployment,
    provider,
    pool: CapitalPool__factory.connect(address("CapitalPool"), provider),
    vaults: {
      senior: TrancheVault__factory.connect(address("SeniorTranche"), provider),
      junior: TrancheVault__factory.connect(address("JuniorTranche"), provider),
    },
    manager: ProtocolAccessManager__factory.connect(address("AccessManager"), provider),
    engine: deployment.contracts.MarginEngine
      ? MarginEngine__factory.connect(deployment.contracts.MarginEngine, provider)
      : undefined,
    router: deployment.contracts.OracleRouter
      ? OracleRouter__factory.connect(deployment.contracts.OracleRouter, provider)
      : undefined,
  };
}
