import { Wallet } from "ethers";
import {
  MarginEngine__factory,
  ReserveLedger__factory,
  type MarginEngine,
  type ReserveLedger,
} from "../../typechain-types";
import type { ChainGateway } from "./gateway";

/** What proof of reserves needs from the chain: the engine to read balances, the ledger to read and publish. */
export interface ReservesContracts {
  engine: MarginEngine;
  /** Read-only binding. */
  ledger: ReserveLedger;
  /** Bound to the reserve publisher's key; absent when no key is configured. */
  publisherLedger?: ReserveLedger;
  publisherAddress?: string;
  /** The cash token (the asset whose column carries an account's debt). */
  cashAsset: string;
}

/** Undefined when the deployment has no MarginEngine or ReserveLedger (an older record). */
export function reservesContracts(gateway: ChainGateway, publisherKey?: string): ReservesContracts | undefined {
  const c = gateway.deployment.contracts;
  const cash = gateway.deployment.tokens.find((t) => t.kind === "cash");
  if (!c.MarginEngine || !c.ReserveLedger || !cash) return undefined;
  const wallet = publisherKey ? new Wallet(publisherKey, gateway.provider) : undefined;
  return {
    engine: MarginEngine__factory.connect(c.MarginEngine, gateway.provider),
    ledger: ReserveLedger__factory.connect(c.ReserveLedger, gateway.provider),
    publisherLedger: wallet ? ReserveLedger__factory.connect(c.ReserveLedger, wallet) : undefined,
    publisherAddress: wallet?.address,
    cashAsset: cash.address,
  };
}
