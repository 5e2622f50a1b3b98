import hre from "hardhat";
import { deployCoreFixture, verify, type CoreFixture } from "./fixtures";
import { ROLE } from "../../scripts/deploy/roles";
import { AGREEMENT_NAME, TRANCHE, ensureProviderAgreement } from "../../scripts/deploy/providers";
import {
  CapitalPool__factory,
  InsuranceFund__factory,
  TrancheVault__factory,
  type CapitalPool,
  type InsuranceFund,
  type TrancheVault,
} from "../../typechain-types";
import type { ICapitalPool } from "../../typechain-types/contracts/pool/CapitalPool";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";

export const CNY = 10n ** 6n;
export const WAD = 10n ** 18n;
export const RAY = 10n ** 27n;
export const DAY = 86_400n;
/** One whole share of a class (12 decimals). */
export const SHARE = 10n ** 12n;
/** 18-decimal ratio from a percentage (pct(2.5) = 0.025e18). */
export const pct = (p: number): bigint => (BigInt(Math.round(p * 10_000)) * WAD) / 1_000_000n;
export const SENIOR = TRANCHE.SENIOR;
export const JUNIOR = TRANCHE.JUNIOR;

/** Tranche rules off: no senior target, no bound, no buffer (the pool then behaves as one class). */
export const PLAIN_TRANCHES: ICapitalPool.TrancheParamsStruct = {
  seniorRate: 0n,
  minJuniorRatio: 0n,
  seniorBuffer: 0n,
  juniorBuffer: 0n,
};
/** Redemption rules off: no notice, no gate. */
export const PLAIN_REDEMPTION: ICapitalPool.RedemptionParamsStruct = {
  seniorNotice: 0,
  juniorNotice: 0,
  gateUtilisation: WAD,
  gateFraction: WAD,
  gateWindow: 86_400,
};
/** The deployment's defaults (scripts/deploy/margin.ts). */
export const TRANCHES: ICapitalPool.TrancheParamsStruct = {
  seniorRate: pct(4),
  minJuniorRatio: pct(10),
  seniorBuffer: pct(10),
  juniorBuffer: pct(5),
};
export const REDEMPTION: ICapitalPool.RedemptionParamsStruct = {
  seniorNotice: 0,
  juniorNotice: 7 * 86_400,
  gateUtilisation: pct(92),
  gateFraction: pct(5),
  gateWindow: 86_400,
};
/** 8% fixed. */
export const RATE_MODEL = { base: pct(8), slope1: 0n, slope2: 0n, kink: 0n };
export const ZERO_RATE = { base: 0n, slope1: 0n, slope2: 0n, kink: 0n };

export interface PoolFixture extends CoreFixture {
  pool: CapitalPool;
  fund: InsuranceFund;
  senior: TrancheVault;
  junior: TrancheVault;
  /** Bound as the pool's borrower so that the pool is exercised on its own (the MarginEngine in deployment). */
  borrower: HardhatEthersSigner;
  /** Senior providers with agreements. */
  lp: HardhatEthersSigner;
  lp2: HardhatEthersSigner;
  /** A junior provider with agreements in both classes (the platform's first-loss capital in the stories). */
  platform: HardhatEthersSigner;
  /** An attacker and its accomplice, each with agreements in both classes. */
  attacker: HardhatEthersSigner;
  accomplice: HardhatEthersSigner;
  /** KYC-verified, funded, approved, but without any agreement. */
  outsider: HardhatEthersSigner;
  /** Everyone above but the borrower, each holding 1,000,000 CNY and having approved both vaults and the pool. */
  providers: HardhatEthersSigner[];
}

export interface PoolOptions {
  tranches: ICapitalPool.TrancheParamsStruct;
  redemption: ICapitalPool.RedemptionParamsStruct;
  rateModel?: ICapitalPool.RateModelStruct;
}

const TERMS = {
  senior: hre.ethers.id("test senior terms v1"),
  junior: hre.ethers.id("test junior terms v1"),
};

/**
 * A stand-alone CapitalPool with its two TrancheVaults and an InsuranceFund on the core deployment (its
 * AccessManager, cash token and KYC registry), an EOA bound as the borrower, the risk officer without delay, and funded
 * providers. Build one fixture function per option set at module level (loadFixture keys on the function).
 */
export function makePoolFixture(options: PoolOptions): () => Promise<PoolFixture> {
  return async function poolFixture(): Promise<PoolFixture> {
    const fx = await deployCoreFixture();
    const { admin, custodian, users } = fx.actors;
    const [borrower, lp, lp2, platform, attacker, accomplice, outsider] = users;
    const managerAddress = await fx.manager.getAddress();
    const cashAddress = await fx.cash.getAddress();
    const fund = await new InsuranceFund__factory(admin).deploy(cashAddress, managerAddress);
    const pool = await new CapitalPool__factory(admin).deploy(
      cashAddress,
      await fund.getAddress(),
      managerAddress,
      options.rateModel ?? RATE_MODEL,
      WAD / 10n,
      options.tranches,
      options.redemption,
    );
    const poolAddress = await pool.getAddress();
    const vault = async (tranche: "senior" | "junior"): Promise<TrancheVault> => {
      const v = await new TrancheVault__factory(admin).deploy(
        cashAddress,
        poolAddress,
        tranche === "senior" ? SENIOR : JUNIOR,
        `Test ${tranche}`,
        tranche === "senior" ? "tsCNY" : "tjCNY",
        AGREEMENT_NAME[tranche],
        managerAddress,
        TERMS[tranche],
        1,
      );
      return v;
    };
    const senior = await vault("senior");
    const junior = await vault("junior");
    const p = CapitalPool__factory.createInterface();
    await fx.manager.setTargetFunctionRole(
      poolAddress,
      (
        ["setRateModel", "setReserveFactor", "acknowledgeDeficit", "setTrancheParams", "setRedemptionParams"] as const
      ).map((n) => p.getFunction(n)!.selector),
      ROLE.RISK_OFFICER,
    );
    const v = TrancheVault__factory.createInterface();
    for (const x of [senior, junior]) {
      await fx.manager.setTargetFunctionRole(
        await x.getAddress(),
        [v.getFunction("setAgreementTerms")!.selector],
        ROLE.RISK_OFFICER,
      );
    }
    await fx.manager.setTargetFunctionRole(
      await fund.getAddress(),
      [InsuranceFund__factory.createInterface().getFunction("coverBadDebt")!.selector],
      ROLE.INSURANCE_CLAIMANT,
    );
    await pool.connect(admin).bindBorrower(borrower.address);
    await pool.connect(admin).bindTranches(await senior.getAddress(), await junior.getAddress());
    await fx.cash.setSystemAccount(poolAddress, true);
    await fx.cash.setSystemAccount(await fund.getAddress(), true);
    const providers = [lp, lp2, platform, attacker, accomplice, outsider];
    for (const [i, u] of [borrower, ...providers].entries()) {
      await verify(fx, u.address);
      await fx.cash.connect(custodian).mint(u.address, 1_000_000n * CNY, hre.ethers.id(`pool-mint-${i}`));
      for (const spender of [poolAddress, await senior.getAddress(), await junior.getAddress()]) {
        await fx.cash.connect(u).approve(spender, hre.ethers.MaxUint256);
      }
    }
    for (const u of [lp, lp2, platform, attacker, accomplice]) await ensureProviderAgreement(senior, u);
    for (const u of [platform, attacker, accomplice]) await ensureProviderAgreement(junior, u);
    return {
      ...fx,
      pool,
      fund,
      senior,
      junior,
      borrower,
      lp,
      lp2,
      platform,
      attacker,
      accomplice,
      outsider,
      providers,
    };
  };
}

/** Pool with every tranche and redemption rule off (the single-class behaviour the lending tests need). */
export const plainPoolFixture = makePoolFixture({ tranches: PLAIN_TRANCHES, redemption: PLAIN_REDEMPTION });
/** Pool with the deployment's tranche and redemption rules. */
export const tranchePoolFixture = makePoolFixture({ tranches: TRANCHES, redemption: REDEMPTION });
/** The deployment's rules at zero interest (figures that must hold exactly). */
export const zeroRatePoolFixture = makePoolFixture({
  tranches: { ...TRANCHES, seniorRate: 0n },
  redemption: REDEMPTION,
  rateModel: ZERO_RATE,
});

/** Views at the last mined block (a plain eth_call runs one second later and sees one more second of interest). */
export const atHead = async (): Promise<{ blockTag: number }> => ({
  blockTag: await hre.ethers.provider.getBlockNumber(),
});

/** Requests `shares` of `who` in `vault` and claims whatever became claimable; returns the cash received. */
export async function exitNow(vault: TrancheVault, who: HardhatEthersSigner, shares: bigint): Promise<bigint> {
  const cash = await hre.ethers.getContractAt("IERC20", await vault.asset());
  const before = await cash.balanceOf(who.address);
  await vault.connect(who).requestRedeem(shares, who.address, who.address);
  const claimable = await vault.maxRedeem(who.address);
  if (claimable > 0n) await vault.connect(who).redeem(claimable, who.address, who.address);
  return (await cash.balanceOf(who.address)) - before;
}
