import {
  CapitalPool__factory,
  InsuranceFund__factory,
  MarginEngine__factory,
  OracleRouter__factory,
  ReserveLedger__factory,
  TrancheVault__factory,
  type CapitalPool,
  type InsuranceFund,
  type MarginEngine,
  type OracleRouter,
  type ReserveLedger,
  type TrancheVault,
} from "../../typechain-types";
import type { ChainGateway, DeploymentRecord } from "../chain";
import { AppError } from "../shared/errors";

/**
 * Read-only bindings of the contracts the read model summarises, on the chain gateway's provider (no signer:
 * this capability never writes).
 */
export interface PortfolioChain {
  deployment: DeploymentRecord;
  engine: MarginEngine;
  pool: CapitalPool;
  /** The pool's senior share class (the pool itself has no shares since issue 19's tranches). */
  senior: TrancheVault;
  /** The junior (first-loss) class. */
  junior: TrancheVault;
  fund: InsuranceFund;
  ledger: ReserveLedger;
  router: OracleRouter;
  gateway: ChainGateway;
}

export function portfolioChain(gateway: ChainGateway): PortfolioChain {
  const { deployment, provider } = gateway;
  const address = (name: string): string => {
    const a = deployment.contracts[name];
    if (!a) throw new AppError("CONFIG_INVALID", `deployment ${deployment.network} has no ${name} address`);
    return a;
  };
  return {
    deployment,
    gateway,
    engine: MarginEngine__factory.connect(address("MarginEngine"), provider),
    pool: CapitalPool__factory.connect(address("CapitalPool"), provider),
    senior: TrancheVault__factory.connect(address("SeniorTranche"), provider),
    junior: TrancheVault__factory.connect(address("JuniorTranche"), provider),
    fund: InsuranceFund__factory.connect(address("InsuranceFund"), provider),
    ledger: ReserveLedger__factory.connect(address("ReserveLedger"), provider),
    router: OracleRouter__factory.connect(address("OracleRouter"), provider),
  };
}
