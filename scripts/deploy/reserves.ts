import { ethers } from "ethers";
import {
  CollateralToken__factory,
  CustodianReserveFeed__factory,
  ReserveLedger__factory,
  type ProtocolAccessManager as AccessManager,
} from "../../typechain-types";
import { ROLE } from "./roles";
import type { DeployOptions, TokenRecord } from "./types";

export interface ReservesSettings {
  /** Point every token's secure mint at its custodian feed (mints then need a fresh attestation). Default off. */
  secureMint?: boolean;
  /** Seconds after which a custodian attestation is too old for secure mint. Default one day. */
  reserveMaxStaleness?: number;
}

/** Name of a token's custodian reserve feed in the deployment record. */
export function reserveFeedName(symbol: string): string {
  return `ReserveFeed_${symbol}`;
}

function selectors(iface: ethers.Interface, names: string[]): string[] {
  return names.map((n) => iface.getFunction(n)!.selector);
}

/**
 * Deploys the ReserveLedger (publish → RESERVE_PUBLISHER; setAssets, setReserveHolders → ADMIN) with the tokens
 * as its assets in record order, and one CustodianReserveFeed per token (attest → CUSTODIAN). The reserve holders
 * (MarginEngine, CapitalPool, InsuranceFund) are set by the modules that deploy them: ledger.setReserveHolders.
 */
export async function deployReserves(
  opts: DeployOptions,
  manager: AccessManager,
  tokens: TokenRecord[],
  settings: ReservesSettings = {},
): Promise<Record<string, string>> {
  const log = opts.log ?? (() => {});
  const managerAddress = await manager.getAddress();
  const ledger = await new ReserveLedger__factory(opts.deployer).deploy(managerAddress);
  await ledger.waitForDeployment();
  const ledgerAddress = await ledger.getAddress();
  log(`ReserveLedger ${ledgerAddress}`);
  const ledgerIface = ReserveLedger__factory.createInterface();
  await (
    await manager.setTargetFunctionRole(ledgerAddress, selectors(ledgerIface, ["publish"]), ROLE.RESERVE_PUBLISHER)
  ).wait();
  await (await ledger.setAssets(tokens.map((t) => t.address))).wait();

  const contracts: Record<string, string> = { ReserveLedger: ledgerAddress };
  const feedIface = CustodianReserveFeed__factory.createInterface();
  for (const token of tokens) {
    const feed = await new CustodianReserveFeed__factory(opts.deployer).deploy(
      managerAddress,
      token.decimals,
      `${token.symbol} custody reserves`,
    );
    await feed.waitForDeployment();
    const feedAddress = await feed.getAddress();
    log(`CustodianReserveFeed ${token.symbol} ${feedAddress}`);
    await (await manager.setTargetFunctionRole(feedAddress, selectors(feedIface, ["attest"]), ROLE.CUSTODIAN)).wait();
    if (settings.secureMint) {
      const t = CollateralToken__factory.connect(token.address, opts.deployer);
      await (await t.setReserveFeed(feedAddress, settings.reserveMaxStaleness ?? 86_400)).wait();
    }
    contracts[reserveFeedName(token.symbol)] = feedAddress;
  }
  return contracts;
}
