import { ethers, type Signer } from "ethers";
import {
  AgreementBinding__factory,
  CapitalPool__factory,
  CollateralToken__factory,
  InsuranceFund__factory,
  MarginAccounts__factory,
  MarginAdmin__factory,
  MarginEngine__factory,
  MarginSettlement__factory,
  MarginViews__factory,
  TrancheVault__factory,
  type ProtocolAccessManager as AccessManager,
} from "../../typechain-types";
import type { ICapitalPool } from "../../typechain-types/contracts/pool/CapitalPool";
import type { MarginEngineLibraryAddresses } from "../../typechain-types/factories/contracts/margin/MarginEngine__factory";
import type { IMarginEngine } from "../../typechain-types/contracts/margin/MarginEngine";
import { ROLE } from "./roles";
import { AGREEMENT_NAME, TRANCHE, providerTermsHash, providerTermsJson, type ProviderRules } from "./providers";
import type { DeployOptions, ProviderTermsRecord, TokenRecord } from "./types";

const WAD = 10n ** 18n;
/** 18-decimal ratio from a percentage given with up to 4 decimals (e.g. pct(2.5) = 0.025e18). */
export const pct = (p: number): bigint => (BigInt(Math.round(p * 10_000)) * WAD) / 1_000_000n;

/** Annual rate model of the dev pool: a fixed 8% (DESIGN.md's worked example). */
export const DEFAULT_RATE_MODEL = { base: pct(8), slope1: 0n, slope2: 0n, kink: 0n };
/** Share of interest owed to the insurance fund. */
export const DEFAULT_RESERVE_FACTOR = pct(10);

/**
 * Tranche rules of the dev pool (docs/providers.md): the senior class's target 4% a year; new borrowing needs junior
 * assets of at least 10% of the debt after the loan; 10% of the senior and 5% of the junior class's assets never
 * lent.
 */
export const DEFAULT_TRANCHE_PARAMS: ICapitalPool.TrancheParamsStruct = {
  seniorRate: pct(4),
  minJuniorRatio: pct(10),
  seniorBuffer: pct(10),
  juniorBuffer: pct(5),
};

/**
 * Redemption rules of the dev pool: senior requests are served at once when cash allows, junior ones after 7 days'
 * notice. Borrowing stops near 90.5% utilisation (the buffer); above 92% (the buffer being drawn by redemptions) a
 * request is served at most 5% of its size a day, so a run takes at most 5% of the book a day out of a buffer of
 * about 9.5%.
 */
export const DEFAULT_REDEMPTION_PARAMS: ICapitalPool.RedemptionParamsStruct = {
  seniorNotice: 0,
  juniorNotice: 7 * 86_400,
  gateUtilisation: pct(92),
  gateFraction: pct(5),
  gateWindow: 86_400,
};

export const DEFAULT_MARGIN_PARAMS: IMarginEngine.ParamsStruct = {
  warningBuffer: pct(5),
  hardFloorFactor: pct(50),
  targetBuffer: pct(2.5),
  liquidatorShare: pct(50),
  gracePeriod: 3600,
  oracleGrace: 300,
  liquidationWindow: 3600,
  dustValue: 100n * 10n ** 6n,
};

/**
 * z · √(liquidation horizon in days) of the volatility margin: z = 2.33 (one-sided 99%) over a 2-day horizon, 3.295,
 * in the engine's 1e-9 steps. With the router's daily σ, the volatility margin is 3.3 σ_daily.
 */
export const VOL_K = 3_295_000_000n * 10n ** 9n;

/**
 * Per liquidity tier: maintenance = max(floor, liquidityAddOn + VOL_K · σ_daily), capped; initial = maintenance +
 * buffer. Tier 1 carries DESIGN.md's seed margins in calm markets (maintenance 15%, initial 20%); above σ_daily ≈ 4.6%
 * the volatility margin takes over (docs/risk.md, calibration).
 * The fixed mode (an account's choice, MarginEngine.setFixedTerm) applies the same rule at `fixedVolatility` for the
 * whole term: 6% a day for tiers 1–2 and 8% for tier 3, which is its volatility premium — maintenance 19.77 / 21.77 /
 * 31.36% where the dynamic mode asks 15 / 20 / 25% in calm markets (docs/margin.md, "Fixed or dynamic margins").
 */
export const DEFAULT_TIER_RISK: Record<number, IMarginEngine.TierRiskStruct> = {
  1: {
    liquidityAddOn: 0n,
    volatilityMultiplier: VOL_K,
    floor: pct(15),
    cap: pct(40),
    initialBuffer: pct(5),
    fixedVolatility: pct(6),
  },
  2: {
    liquidityAddOn: pct(2),
    volatilityMultiplier: VOL_K,
    floor: pct(20),
    cap: pct(50),
    initialBuffer: pct(5),
    fixedVolatility: pct(6),
  },
  3: {
    liquidityAddOn: pct(5),
    volatilityMultiplier: VOL_K,
    floor: pct(25),
    cap: pct(60),
    initialBuffer: pct(10),
    fixedVolatility: pct(8),
  },
};

/** Per liquidity tier: haircut, liquidation penalty and the per-window seizure cap (in whole shares). */
export const DEFAULT_ASSET_RISK: Record<number, { haircut: bigint; penalty: bigint; windowCap: bigint }> = {
  1: { haircut: 0n, penalty: pct(5), windowCap: 1_000_000n },
  2: { haircut: pct(5), penalty: pct(7.5), windowCap: 500_000n },
  3: { haircut: pct(10), penalty: pct(10), windowCap: 200_000n },
};

export interface MarginContracts {
  CapitalPool: string;
  /** The pool's two share classes (ERC-4626 / ERC-7540 vaults). */
  SeniorTranche: string;
  JuniorTranche: string;
  InsuranceFund: string;
  MarginEngine: string;
  /** The engine's linked libraries (recorded so that an auditor can check the code the engine runs). */
  MarginAdmin: string;
  MarginViews: string;
  MarginSettlement: string;
  MarginAccounts: string;
  /** Each account's bound financing agreement (agreed leverage and penalty), consulted by the engine. */
  AgreementBinding: string;
}

function selectors(iface: ethers.Interface, names: string[]): string[] {
  return names.map((n) => {
    const fn = iface.getFunction(n);
    if (!fn) throw new Error(`no function ${n} in interface`);
    return fn.selector;
  });
}

/** The terms each class's providers sign at deployment (version 1), from the deployed rules. */
export function initialProviderTerms(rules: ProviderRules = DEFAULT_PROVIDER_RULES): ProviderTermsRecord {
  const record = {} as ProviderTermsRecord;
  for (const tranche of ["senior", "junior"] as const) {
    const json = providerTermsJson(tranche, rules, 1);
    record[tranche] = { version: 1, hash: providerTermsHash(json), json };
  }
  return record;
}

export const DEFAULT_PROVIDER_RULES: ProviderRules = {
  rateModel: DEFAULT_RATE_MODEL,
  reserveFactor: DEFAULT_RESERVE_FACTOR,
  tranches: DEFAULT_TRANCHE_PARAMS,
  redemption: DEFAULT_REDEMPTION_PARAMS,
};

/**
 * Deploys the funding layer and the margin engine on top of the core contracts and an OracleRouter:
 * InsuranceFund → CapitalPool → its senior and junior TrancheVaults → MarginEngine; wires every restricted function to
 * its role (the pool's and vaults' provider-facing rules to the delayed risk officer), grants the engine BORROWER,
 * INSURANCE_CLAIMANT and LIQUIDATOR, registers the three as system accounts of every token and lists the securities
 * with the default risk table (the deployer holds the risk role without delay only for that moment).
 */
export async function deployMargin(
  opts: DeployOptions,
  manager: AccessManager,
  contracts: Record<string, string>,
  tokens: TokenRecord[],
  oracleRouter: string,
): Promise<{ contracts: MarginContracts; providerTerms: ProviderTermsRecord }> {
  const log = opts.log ?? (() => {});
  const deployerAddress = await opts.deployer.getAddress();
  const managerAddress = await manager.getAddress();
  const cash = tokens.find((t) => t.kind === "cash");
  if (!cash) throw new Error("no cash token to deploy the capital pool over");
  const wait = async (tx: Promise<{ wait(): Promise<unknown> }>): Promise<void> => {
    await (await tx).wait();
  };

  const fund = await new InsuranceFund__factory(opts.deployer).deploy(cash.address, managerAddress);
  await fund.waitForDeployment();
  const fundAddress = await fund.getAddress();
  log(`InsuranceFund ${fundAddress}`);

  const pool = await new CapitalPool__factory(opts.deployer).deploy(
    cash.address,
    fundAddress,
    managerAddress,
    DEFAULT_RATE_MODEL,
    DEFAULT_RESERVE_FACTOR,
    DEFAULT_TRANCHE_PARAMS,
    DEFAULT_REDEMPTION_PARAMS,
  );
  await pool.waitForDeployment();
  const poolAddress = await pool.getAddress();
  log(`CapitalPool ${poolAddress}`);

  const providerTerms = initialProviderTerms();
  const vaults: Record<"senior" | "junior", string> = { senior: "", junior: "" };
  for (const tranche of ["senior", "junior"] as const) {
    const label = tranche === "senior" ? "Senior" : "Junior";
    const vault = await new TrancheVault__factory(opts.deployer).deploy(
      cash.address,
      poolAddress,
      tranche === "senior" ? TRANCHE.SENIOR : TRANCHE.JUNIOR,
      `MarginBridge ${label} ${cash.symbol}`,
      `mb${tranche === "senior" ? "s" : "j"}${cash.symbol}`,
      AGREEMENT_NAME[tranche],
      managerAddress,
      providerTerms[tranche].hash,
      providerTerms[tranche].version,
    );
    await vault.waitForDeployment();
    vaults[tranche] = await vault.getAddress();
    log(`${label}Tranche ${vaults[tranche]}`);
  }

  // Before the engine, which keeps its address; the AgreementRegistry it reads is set when that is deployed.
  const binding = await new AgreementBinding__factory(opts.deployer).deploy(managerAddress);
  await binding.waitForDeployment();
  const bindingAddress = await binding.getAddress();
  log(`AgreementBinding ${bindingAddress}`);

  const libraries = await deployMarginLibraries(opts.deployer, log);
  const engine = await new MarginEngine__factory(libraries, opts.deployer).deploy(
    cash.address,
    poolAddress,
    fundAddress,
    oracleRouter,
    contracts.KycRegistry,
    managerAddress,
    DEFAULT_MARGIN_PARAMS,
    bindingAddress,
  );
  await engine.waitForDeployment();
  const engineAddress = await engine.getAddress();
  log(`MarginEngine ${engineAddress}`);

  const poolIface = CapitalPool__factory.createInterface();
  const engineIface = MarginEngine__factory.createInterface();
  const fundIface = InsuranceFund__factory.createInterface();
  // The pool's borrower calls check the engine's address directly (bound once here by the admin) instead of the
  // AccessManager; BORROWER stays granted to the engine as the record of who borrows.
  await wait(pool.bindBorrower(engineAddress));
  await wait(pool.bindTranches(vaults.senior, vaults.junior));
  await wait(
    manager.setTargetFunctionRole(
      poolAddress,
      selectors(poolIface, [
        "setRateModel",
        "setReserveFactor",
        "acknowledgeDeficit",
        "setTrancheParams",
        "setRedemptionParams",
      ]),
      ROLE.RISK_OFFICER,
    ),
  );
  // New agreement terms change what every later deposit binds a provider to: behind the risk officer's delay.
  const vaultIface = TrancheVault__factory.createInterface();
  for (const vault of [vaults.senior, vaults.junior]) {
    await wait(manager.setTargetFunctionRole(vault, selectors(vaultIface, ["setAgreementTerms"]), ROLE.RISK_OFFICER));
  }
  await wait(
    manager.setTargetFunctionRole(fundAddress, selectors(fundIface, ["coverBadDebt"]), ROLE.INSURANCE_CLAIMANT),
  );
  await wait(
    manager.setTargetFunctionRole(
      engineAddress,
      selectors(engineIface, ["configureAsset", "setTierRisk", "setParams", "setPortfolioRisk"]),
      ROLE.RISK_OFFICER,
    ),
  );
  await wait(
    manager.setTargetFunctionRole(engineAddress, selectors(engineIface, ["transferBetweenAccounts"]), ROLE.SETTLER),
  );
  await wait(manager.setTargetFunctionRole(engineAddress, selectors(engineIface, ["legalSeize"]), ROLE.LEGAL_OFFICER));
  for (const role of [ROLE.BORROWER, ROLE.INSURANCE_CLAIMANT, ROLE.LIQUIDATOR]) {
    await wait(manager.grantRole(role, engineAddress, 0));
  }

  for (const t of tokens) {
    const token = CollateralToken__factory.connect(t.address, opts.deployer);
    for (const system of [poolAddress, fundAddress, engineAddress]) await wait(token.setSystemAccount(system, true));
    // A freeze of a holder reaches its balance inside the engine in the same transaction.
    await wait(token.setFreezeListener(engineAddress));
  }

  // Initial risk table: the deployer takes the risk role for a moment without delay, as deployCore does.
  await wait(manager.grantRole(ROLE.RISK_OFFICER, deployerAddress, 0));
  for (const [tier, risk] of Object.entries(DEFAULT_TIER_RISK)) await wait(engine.setTierRisk(Number(tier), risk));
  for (const t of tokens.filter((x) => x.kind === "security")) {
    const r = DEFAULT_ASSET_RISK[t.liquidityTier] ?? DEFAULT_ASSET_RISK[3];
    await wait(engine.configureAsset(t.address, t.liquidityTier, r.haircut, r.penalty, r.windowCap));
  }
  await wait(manager.renounceRole(ROLE.RISK_OFFICER, deployerAddress));

  const deployed: MarginContracts = {
    CapitalPool: poolAddress,
    SeniorTranche: vaults.senior,
    JuniorTranche: vaults.junior,
    InsuranceFund: fundAddress,
    MarginEngine: engineAddress,
    MarginAdmin: libraries["contracts/margin/MarginAdmin.sol:MarginAdmin"],
    MarginViews: libraries["contracts/margin/MarginViews.sol:MarginViews"],
    MarginSettlement: libraries["contracts/margin/MarginSettlement.sol:MarginSettlement"],
    MarginAccounts: libraries["contracts/margin/MarginAccounts.sol:MarginAccounts"],
    AgreementBinding: bindingAddress,
  };
  return { contracts: deployed, providerTerms };
}

/** Deploys the engine's linked libraries (its setters and views, kept out of its EIP-170 code budget). */
export async function deployMarginLibraries(
  deployer: Signer,
  log: (line: string) => void = () => {},
): Promise<MarginEngineLibraryAddresses> {
  const admin = await new MarginAdmin__factory(deployer).deploy();
  const views = await new MarginViews__factory(deployer).deploy();
  const settlement = await new MarginSettlement__factory(deployer).deploy();
  const accounts = await new MarginAccounts__factory(deployer).deploy();
  await Promise.all([
    admin.waitForDeployment(),
    views.waitForDeployment(),
    settlement.waitForDeployment(),
    accounts.waitForDeployment(),
  ]);
  const addresses: MarginEngineLibraryAddresses = {
    "contracts/margin/MarginAdmin.sol:MarginAdmin": await admin.getAddress(),
    "contracts/margin/MarginViews.sol:MarginViews": await views.getAddress(),
    "contracts/margin/MarginSettlement.sol:MarginSettlement": await settlement.getAddress(),
    "contracts/margin/MarginAccounts.sol:MarginAccounts": await accounts.getAddress(),
  };
  for (const [name, address] of Object.entries(addresses)) log(`${name.split(":")[1]} ${address}`);
  return addresses;
}
