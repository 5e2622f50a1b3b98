import { ethers } from "ethers";
import {
  ProtocolAccessManager__factory,
  CollateralToken__factory,
  KycRegistry__factory,
  type ProtocolAccessManager as AccessManager,
} from "../../typechain-types";
import { ROLE, ROLE_LABELS } from "./roles";
import type { DeployOptions, TokenRecord } from "./types";

/** The assets of the embedded default: one cash token and three security tokens of different liquidity. */
export const DEFAULT_TOKENS: Omit<TokenRecord, "address">[] = [
  { symbol: "mbCNY", name: "MarginBridge CNY Deposit", decimals: 6, kind: "cash", liquidityTier: 0 },
  {
    symbol: "mbBANK",
    name: "MarginBridge Bank Share",
    decimals: 0,
    kind: "security",
    liquidityTier: 1,
    sector: "financials",
  },
  {
    symbol: "mbTECH",
    name: "MarginBridge Tech Share",
    decimals: 0,
    kind: "security",
    liquidityTier: 2,
    sector: "technology",
  },
  {
    symbol: "mbSMALL",
    name: "MarginBridge Small-Cap Share",
    decimals: 0,
    kind: "security",
    liquidityTier: 3,
    sector: "industrials",
  },
];

export interface CoreContracts {
  manager: AccessManager;
  contracts: Record<string, string>;
  tokens: TokenRecord[];
}

function selectors(iface: ethers.Interface, names: string[]): string[] {
  return names.map((n) => {
    const fn = iface.getFunction(n);
    if (!fn) throw new Error(`no function ${n} in interface`);
    return fn.selector;
  });
}

/**
 * Deploys the AccessManager, the KycRegistry and the collateral tokens, wires every restricted function to its
 * role and grants the roles. Safe to call on a fresh chain only; scripts/deploy.ts decides whether to reuse.
 */
export async function deployCore(opts: DeployOptions): Promise<CoreContracts> {
  const log = opts.log ?? (() => {});
  const deployerAddress = await opts.deployer.getAddress();
  const manager = await new ProtocolAccessManager__factory(opts.deployer).deploy(deployerAddress);
  await manager.waitForDeployment();
  const managerAddress = await manager.getAddress();
  log(`AccessManager ${managerAddress}`);

  for (const [id, label] of Object.entries(ROLE_LABELS)) {
    if (Number(id) === 0) continue;
    await (await manager.labelRole(id, label)).wait();
  }

  const kyc = await new KycRegistry__factory(opts.deployer).deploy(managerAddress);
  await kyc.waitForDeployment();
  const kycAddress = await kyc.getAddress();
  log(`KycRegistry ${kycAddress}`);
  const kycIface = KycRegistry__factory.createInterface();
  await (
    await manager.setTargetFunctionRole(kycAddress, selectors(kycIface, ["setIdentity", "revoke"]), ROLE.KYC_OFFICER)
  ).wait();
  await (
    await manager.setTargetFunctionRole(kycAddress, selectors(kycIface, ["setTierLeverage"]), ROLE.RISK_OFFICER)
  ).wait();

  const tokens: TokenRecord[] = [];
  const contracts: Record<string, string> = { AccessManager: managerAddress, KycRegistry: kycAddress };
  const tokenIface = CollateralToken__factory.createInterface();
  for (const spec of DEFAULT_TOKENS) {
    const token = await new CollateralToken__factory(opts.deployer).deploy(
      spec.name,
      spec.symbol,
      spec.decimals,
      managerAddress,
      kycAddress,
    );
    await token.waitForDeployment();
    const address = await token.getAddress();
    log(`CollateralToken ${spec.symbol} ${address}`);
    await (await manager.setTargetFunctionRole(address, selectors(tokenIface, ["mint"]), ROLE.CUSTODIAN)).wait();
    await (
      await manager.setTargetFunctionRole(
        address,
        selectors(tokenIface, ["pause", "unpause", "setFrozen"]),
        ROLE.OPERATOR,
      )
    ).wait();
    await (
      await manager.setTargetFunctionRole(address, selectors(tokenIface, ["forcedTransfer"]), ROLE.LIQUIDATOR)
    ).wait();
    // setSystemAccount and setReserveFeed stay with ADMIN (role 0), the default for unconfigured functions.
    tokens.push({ ...spec, address });
    contracts[spec.symbol] = address;
  }

  // Initial tier table (tier n may take n-fold leverage, capped at 5x). Later changes go through the risk
  // officer's delayed role; at deployment the deployer takes the risk role for a moment without delay.
  await (await manager.grantRole(ROLE.RISK_OFFICER, deployerAddress, 0)).wait();
  for (let tier = 1; tier <= 5; tier++) await (await kyc.setTierLeverage(tier, BigInt(tier) * 10n ** 18n)).wait();
  await (await manager.renounceRole(ROLE.RISK_OFFICER, deployerAddress)).wait();

  await grantPeopleRoles(manager, opts);
  return { manager, contracts, tokens };
}

async function grantPeopleRoles(manager: AccessManager, opts: DeployOptions): Promise<void> {
  const r = opts.roles;
  const grants: [bigint, string, number][] = [
    [ROLE.KYC_OFFICER, r.kycOfficer, 0],
    [ROLE.CUSTODIAN, r.custodian, 0],
    [ROLE.RISK_OFFICER, r.riskOfficer, opts.riskDelaySeconds],
    [ROLE.OPERATOR, r.operator, 0],
    [ROLE.RESERVE_PUBLISHER, r.reservePublisher, 0],
    // Legal orders are executed by the operator's desk unless a separate legal officer is named.
    [ROLE.LEGAL_OFFICER, r.legalOfficer ?? r.operator, 0],
  ];
  for (const reporter of r.reporters) grants.push([ROLE.ORACLE_REPORTER, reporter, 0]);
  for (const [role, account, delay] of grants) {
    await (await manager.grantRole(role, account, delay)).wait();
  }
}
