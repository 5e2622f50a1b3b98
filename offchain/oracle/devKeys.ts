import { HDNodeWallet, type Provider } from "ethers";

/** The well-known mnemonic of `hardhat node` accounts (DEV CHAIN ONLY: these keys are public). */
export const HARDHAT_DEV_MNEMONIC = "test test test test test test test test test test test junk";

/** The dev reporters are accounts 6, 7 and 8 (scripts/deploy devRoleHolders). */
export const DEV_REPORTER_INDICES = [6, 7, 8] as const;

/** Wallets of the dev chain's accounts by index, connected to `provider`. Never use these keys elsewhere. */
export function hardhatDevWallets(indices: readonly number[], provider?: Provider): HDNodeWallet[] {
  return indices.map((i) => {
    const w = HDNodeWallet.fromPhrase(HARDHAT_DEV_MNEMONIC, undefined, `m/44'/60'/0'/0/${i}`);
    return provider ? w.connect(provider) : w;
  });
}
