import { ethers } from "ethers";
import {
  AgreementSettlement__factory,
  CapitalPool__factory,
  KycRegistry__factory,
  type ProtocolAccessManager as AccessManager,
} from "../../typechain-types";
import { ROLE } from "./roles";
import type { DeployOptions } from "./types";

/** Default seconds between a binding's end and the first forced close-out: two days to sell and repay. */
export const DEFAULT_CLOSE_OUT_PERIOD = 2 * 86_400;
/** The identities deploy registers for system accounts: tier 1, China, a century. */
const SYSTEM_KYC = { tier: 1, jurisdiction: 156, years: 100 };

/**
 * Deploys the AgreementSettlement (the on-chain end of a financing agreement: fees, forced close-out, the end
 * waterfall) and wires it: SETTLER on the engine (its transferBetweenAccounts and settleTrade are mapped to SETTLER
 * by deployMargin and deploySettlement), AGREEMENT_SETTLER on the registry's close (deployAgreements maps it) and on
 * the pool's receiveProfitShare (mapped here); chargeFee and settleEnd to OPERATOR, setCloseOutPeriod to
 * RISK_OFFICER (behind its delay). KYC-verifies the contract (the providers' share passes through its own margin
 * account) and the platform account (it receives cash inside the engine) unless it already is verified: the deployer
 * takes the KYC officer's role for that only. Returns the address to merge into the record and the platform account.
 */
export async function deployAgreementSettlement(
  opts: DeployOptions,
  manager: AccessManager,
  contracts: Record<string, string>,
): Promise<{ contracts: { AgreementSettlement: string }; platformAccount: string }> {
  const log = opts.log ?? (() => {});
  const wait = async (tx: Promise<{ wait(): Promise<unknown> }>): Promise<void> => {
    await (await tx).wait();
  };
  const managerAddress = await manager.getAddress();
  const platformAccount = ethers.getAddress(opts.platformAccount ?? opts.roles.operator);
  const settlement = await new AgreementSettlement__factory(opts.deployer).deploy(
    contracts.MarginEngine,
    contracts.AgreementRegistry,
    contracts.AgreementBinding,
    contracts.CapitalPool,
    platformAccount,
    opts.closeOutPeriodSeconds ?? DEFAULT_CLOSE_OUT_PERIOD,
    managerAddress,
  );
  await settlement.waitForDeployment();
  const address = await settlement.getAddress();
  log(`AgreementSettlement ${address} (platform account ${platformAccount})`);

  const iface = AgreementSettlement__factory.createInterface();
  const operatorCalls = [iface.getFunction("chargeFee").selector, iface.getFunction("settleEnd").selector];
  await wait(manager.setTargetFunctionRole(address, operatorCalls, ROLE.OPERATOR));
  const riskCalls = [iface.getFunction("setCloseOutPeriod").selector];
  await wait(manager.setTargetFunctionRole(address, riskCalls, ROLE.RISK_OFFICER));
  const receive = CapitalPool__factory.createInterface().getFunction("receiveProfitShare").selector;
  await wait(manager.setTargetFunctionRole(contracts.CapitalPool, [receive], ROLE.AGREEMENT_SETTLER));
  await wait(manager.grantRole(ROLE.SETTLER, address, 0));
  await wait(manager.grantRole(ROLE.AGREEMENT_SETTLER, address, 0));

  await registerSystemIdentity(opts, manager, contracts.KycRegistry, address, "AgreementSettlement");
  const kyc = KycRegistry__factory.connect(contracts.KycRegistry, opts.deployer);
  if (!(await kyc.isVerified(platformAccount)))
    await registerSystemIdentity(opts, manager, contracts.KycRegistry, platformAccount, "PlatformAccount");
  return { contracts: { AgreementSettlement: address }, platformAccount };
}

/**
 * Registers a system account's identity (tier 1, China, a century) in the KycRegistry: contracts that hold balances
 * in their own margin account, and the platform account. The deployer takes the KYC officer's role for that only.
 */
export async function registerSystemIdentity(
  opts: DeployOptions,
  manager: AccessManager,
  kycAddress: string,
  account: string,
  label: string,
): Promise<void> {
  const wait = async (tx: Promise<{ wait(): Promise<unknown> }>): Promise<void> => {
    await (await tx).wait();
  };
  const me = await opts.deployer.getAddress();
  const [wasOfficer] = await manager.hasRole(ROLE.KYC_OFFICER, me);
  if (!wasOfficer) await wait(manager.grantRole(ROLE.KYC_OFFICER, me, 0));
  const kyc = KycRegistry__factory.connect(kycAddress, opts.deployer);
  const block = await opts.deployer.provider!.getBlock("latest");
  const expires = BigInt(block!.timestamp) + BigInt(SYSTEM_KYC.years * 365 * 86_400);
  const hash = ethers.id(`marginbridge-system:${label}:${account.toLowerCase()}`);
  await wait(kyc.setIdentity(account, SYSTEM_KYC.tier, SYSTEM_KYC.jurisdiction, expires, hash));
  if (!wasOfficer) await wait(manager.renounceRole(ROLE.KYC_OFFICER, me));
}
