import { NonceManager, Wallet, id, type Provider, type Signer } from "ethers";
import { PRACTICE_DEV_KEYS } from "../../offchain/shared/config";
import { CollateralToken__factory, KycRegistry__factory, TrancheVault__factory } from "../../typechain-types";
import { deployAll } from "./index";
import { supplyBothTranches } from "./providers";
import type { DeploymentRecord } from "./types";

/** What the practice pool lends from (whole practice mbCNY), supplied by the practice admin at deployment. */
export const PRACTICE_POOL_WHOLE = 50_000_000n;
/** Gas money each practice role holder receives from the funder (wei). */
const ROLE_FLOAT = 1_000n * 10n ** 18n;

/** The practice deployment's development role holders (PRACTICE_DEV_KEYS), as wallets on `provider`. */
export function practiceDevWallets(provider: Provider) {
  const w = (k: string) => new Wallet(k, provider);
  const k = PRACTICE_DEV_KEYS;
  return {
    admin: w(k.admin),
    kycOfficer: w(k.kycOfficer),
    custodian: w(k.custodian),
    riskOfficer: w(k.riskOfficer),
    operator: w(k.operator),
    reservePublisher: w(k.reservePublisher),
    queueServer: w(k.queueServer),
    relayer: w(k.relayer),
  };
}

/**
 * The practice (paper-trading) deployment on a development chain: every contract a second time (deployAll), with
 * its own role holders (PRACTICE_DEV_KEYS, funded with gas by `funder`), the real oracle reporters (they sign; the
 * practice relayer sends), and a practice pool supplied by the practice admin so that practice accounts can borrow.
 * Its EIP-712 domains name its own contracts, so nothing signed for it is valid on the real deployment.
 */
export async function deployPractice(opts: {
  provider: Provider;
  funder: Signer;
  reporters: string[];
  network: string;
  log?: (line: string) => void;
}): Promise<DeploymentRecord> {
  const wallets = practiceDevWallets(opts.provider);
  const funder = new NonceManager(opts.funder);
  for (const w of Object.values(wallets))
    await (await funder.sendTransaction({ to: w.address, value: ROLE_FLOAT })).wait();
  const admin = new NonceManager(wallets.admin);
  const record = await deployAll(
    {
      deployer: admin,
      roles: {
        admin: wallets.admin.address,
        kycOfficer: wallets.kycOfficer.address,
        custodian: wallets.custodian.address,
        riskOfficer: wallets.riskOfficer.address,
        operator: wallets.operator.address,
        reservePublisher: wallets.reservePublisher.address,
        reporters: opts.reporters,
      },
      riskDelaySeconds: 0,
      log: opts.log,
    },
    opts.network,
  );
  await supplyPracticePool(record, wallets, admin);
  return record;
}

/** The practice admin, verified as a capital provider, supplies the practice pool with minted practice cash. */
async function supplyPracticePool(
  record: DeploymentRecord,
  wallets: ReturnType<typeof practiceDevWallets>,
  admin: Signer,
): Promise<void> {
  const cash = record.tokens.find((t) => t.kind === "cash")!;
  const amount = PRACTICE_POOL_WHOLE * 10n ** BigInt(cash.decimals);
  const provider = wallets.admin.provider!;
  const now = (await provider.getBlock("latest"))!.timestamp;
  const kyc = KycRegistry__factory.connect(record.contracts.KycRegistry, wallets.kycOfficer);
  await (await kyc.setIdentity(wallets.admin.address, 1, 156, now + 10 * 365 * 86_400, id("practice pool"))).wait();
  const token = CollateralToken__factory.connect(cash.address, wallets.custodian);
  await (await token.mint(wallets.admin.address, amount, id("practice pool supply"))).wait();
  await supplyBothTranches(
    (name) => TrancheVault__factory.connect(record.contracts[name], admin),
    admin,
    CollateralToken__factory.connect(cash.address, admin),
    amount,
  );
}
