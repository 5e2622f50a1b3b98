import { ethers, type Signer, type TypedDataDomain } from "ethers";
import type { ICapitalPool } from "../../typechain-types/contracts/pool/CapitalPool";
import type { TrancheVault } from "../../typechain-types";

/** Tranche ids of the CapitalPool. */
export const TRANCHE = { SENIOR: 0, JUNIOR: 1 } as const;
export type TrancheName = "senior" | "junior";

/** EIP-712 domain names the providers sign under, per class. */
export const AGREEMENT_NAME: Record<TrancheName, string> = {
  senior: "MarginBridge Senior Tranche",
  junior: "MarginBridge Junior Tranche",
};

/** The EIP-712 struct a provider signs (TrancheVault.PROVIDER_AGREEMENT_TYPEHASH). */
export const PROVIDER_AGREEMENT_TYPES = {
  ProviderAgreement: [
    { name: "provider", type: "address" },
    { name: "termsHash", type: "bytes32" },
    { name: "termsVersion", type: "uint32" },
    { name: "signedAt", type: "uint64" },
  ],
};

/** The pool's rules a provider agreement states, as deployed (18-decimal ratios, seconds). */
export interface ProviderRules {
  rateModel: ICapitalPool.RateModelStruct;
  reserveFactor: bigint;
  tranches: ICapitalPool.TrancheParamsStruct;
  redemption: ICapitalPool.RedemptionParamsStruct;
}

const dec = (v: ethers.BigNumberish): string => BigInt(v).toString();

/**
 * The canonical JSON of a class's agreement terms: the loss waterfall, the tranche rules, the notice periods and the
 * gate, with every figure as the contracts hold it (decimal strings of 18-decimal ratios and seconds). Keys are
 * sorted and there is no whitespace, so keccak256 of the UTF-8 text is the `termsHash` the vault stores.
 */
export function providerTermsJson(tranche: TrancheName, rules: ProviderRules, version: number): string {
  const terms = {
    document: "MarginBridge capital provider agreement",
    version,
    class: tranche,
    lossWaterfall: ["client-collateral", "insurance-fund", "junior-class", "senior-class"],
    interest: {
      rule: "senior class earns its target rate first while junior capital covers it; the junior class takes the rest",
      seniorTargetRate: dec(rules.tranches.seniorRate),
      borrowRateModel: {
        base: dec(rules.rateModel.base),
        slope1: dec(rules.rateModel.slope1),
        slope2: dec(rules.rateModel.slope2),
        kink: dec(rules.rateModel.kink),
      },
      reserveFactor: dec(rules.reserveFactor),
    },
    tranches: {
      minJuniorRatioOfDebt: dec(rules.tranches.minJuniorRatio),
      liquidityBuffer: { senior: dec(rules.tranches.seniorBuffer), junior: dec(rules.tranches.juniorBuffer) },
    },
    redemption: {
      queue: "first in first out by due time across both classes (senior first on equal times)",
      noticeSeconds: { senior: dec(rules.redemption.seniorNotice), junior: dec(rules.redemption.juniorNotice) },
      gate: {
        aboveUtilisation: dec(rules.redemption.gateUtilisation),
        fractionPerWindow: dec(rules.redemption.gateFraction),
        windowSeconds: dec(rules.redemption.gateWindow),
      },
      priceAt: "when served (losses written off during the notice period are borne)",
    },
    governance: "risk parameters change through the AccessManager's execution delay; new terms need a new signature",
  };
  return canonicalJson(terms);
}

/** keccak256 of the canonical terms text. */
export function providerTermsHash(json: string): string {
  return ethers.keccak256(ethers.toUtf8Bytes(json));
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The vault's EIP-712 domain, read from the chain (ERC-5267). */
export async function agreementDomain(vault: TrancheVault): Promise<TypedDataDomain> {
  const d = await vault.eip712Domain();
  return { name: d.name, version: d.version, chainId: d.chainId, verifyingContract: d.verifyingContract };
}

/** `provider` signs the vault's current terms at `signedAt` (default: the latest block's time). */
export async function signProviderAgreement(
  vault: TrancheVault,
  provider: Signer,
  signedAt?: bigint,
): Promise<{ signedAt: bigint; signature: string }> {
  const at = signedAt ?? BigInt((await vault.runner!.provider!.getBlock("latest"))!.timestamp);
  const [termsHash, termsVersion] = await vault.agreementTerms();
  const signature = await provider.signTypedData(await agreementDomain(vault), PROVIDER_AGREEMENT_TYPES, {
    provider: await provider.getAddress(),
    termsHash,
    termsVersion,
    signedAt: at,
  });
  return { signedAt: at, signature };
}

/** Signs and anchors `provider`'s agreement on the vault's current terms unless it already has one. */
export async function ensureProviderAgreement(vault: TrancheVault, provider: Signer): Promise<void> {
  const address = await provider.getAddress();
  if (await vault.hasAgreement(address)) return;
  const { signedAt, signature } = await signProviderAgreement(vault, provider);
  await (await vault.connect(provider).anchorAgreement(address, signedAt, signature)).wait();
}

/** A token the provider approves the vault for (the cash token). */
interface ApprovableToken {
  connect(runner: Signer): { approve(spender: string, amount: bigint): Promise<{ wait(): Promise<unknown> }> };
}

/**
 * A capital provider joins a class: anchors its agreement on the current terms if it has none, approves the vault
 * and deposits `amount` of cash it already holds. Returns the shares it received.
 */
export async function supplyTranche(
  vault: TrancheVault,
  provider: Signer,
  cash: ApprovableToken,
  amount: bigint,
): Promise<bigint> {
  await ensureProviderAgreement(vault, provider);
  const address = await provider.getAddress();
  await (await cash.connect(provider).approve(await vault.getAddress(), amount)).wait();
  const before = await vault.balanceOf(address);
  await (await vault.connect(provider).deposit(amount, address)).wait();
  return (await vault.balanceOf(address)) - before;
}

/** Deployment contract names of the two classes. */
export const TRANCHE_CONTRACT: Record<TrancheName, string> = { senior: "SeniorTranche", junior: "JuniorTranche" };

/**
 * Funds both classes from one provider: `juniorPart` (default a fifth) of `amount` into the junior class, the rest
 * into the senior class (what test stacks use so that lending is not stopped by the junior bound).
 */
export async function supplyBothTranches(
  connect: (name: string) => TrancheVault,
  provider: Signer,
  cash: ApprovableToken,
  amount: bigint,
  juniorPart = amount / 5n,
): Promise<void> {
  await supplyTranche(connect(TRANCHE_CONTRACT.junior), provider, cash, juniorPart);
  await supplyTranche(connect(TRANCHE_CONTRACT.senior), provider, cash, amount - juniorPart);
}
