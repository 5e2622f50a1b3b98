import hre from "hardhat";
import { deployAll, devRoleHolders, type DeploymentRecord } from "../../scripts/deploy/index";
import {
  CollateralToken__factory,
  KycRegistry__factory,
  ProtocolAccessManager__factory,
  type CollateralToken,
  type KycRegistry,
  type ProtocolAccessManager,
} from "../../typechain-types";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";

export interface Actors {
  admin: HardhatEthersSigner;
  kycOfficer: HardhatEthersSigner;
  custodian: HardhatEthersSigner;
  riskOfficer: HardhatEthersSigner;
  operator: HardhatEthersSigner;
  reservePublisher: HardhatEthersSigner;
  reporters: HardhatEthersSigner[];
  /** Accounts with no role: clients, capital providers, liquidators, outsiders. */
  users: HardhatEthersSigner[];
}

export interface CoreFixture {
  record: DeploymentRecord;
  actors: Actors;
  manager: ProtocolAccessManager;
  kyc: KycRegistry;
  cash: CollateralToken;
  securities: CollateralToken[];
}

export async function actors(): Promise<Actors> {
  const s = await hre.ethers.getSigners();
  return {
    admin: s[0],
    kycOfficer: s[1],
    custodian: s[2],
    riskOfficer: s[3],
    operator: s[4],
    reservePublisher: s[5],
    reporters: [s[6], s[7], s[8]],
    users: s.slice(10),
  };
}

/** Deploys the full stack through the same code path as scripts/deploy.ts. Use with loadFixture. */
export async function deployCoreFixture(): Promise<CoreFixture> {
  const signers = await hre.ethers.getSigners();
  const record = await deployAll(
    { deployer: signers[0], roles: await devRoleHolders(signers), riskDelaySeconds: 0 },
    "hardhat",
  );
  const a = await actors();
  const token = (symbol: string): CollateralToken =>
    CollateralToken__factory.connect(record.contracts[symbol], a.admin);
  return {
    record,
    actors: a,
    manager: ProtocolAccessManager__factory.connect(record.contracts.AccessManager, a.admin),
    kyc: KycRegistry__factory.connect(record.contracts.KycRegistry, a.admin),
    cash: token("mbCNY"),
    securities: record.tokens.filter((t) => t.kind === "security").map((t) => token(t.symbol)),
  };
}

/** A year from now, in unix seconds of the current block. */
export async function inAYear(): Promise<bigint> {
  const block = await hre.ethers.provider.getBlock("latest");
  return BigInt(block!.timestamp + 365 * 24 * 3600);
}

export function identityHash(label: string): string {
  return hre.ethers.keccak256(hre.ethers.toUtf8Bytes(`salt:${label}`));
}

/** Registers `account` as a verified identity of `tier` (officer call), valid for a year. */
export async function verify(fx: CoreFixture, account: string, tier = 2): Promise<void> {
  await fx.kyc.connect(fx.actors.kycOfficer).setIdentity(account, tier, 156, await inAYear(), identityHash(account));
}
