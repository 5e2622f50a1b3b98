import type { Provider } from "ethers";
import { AgreementBinding__factory } from "../../typechain-types";
import type { ChainGateway } from "../chain";
import { withRetry } from "../chain";

/**
 * An agreement's binding as the chain has it: `bound` when the client's margin account is bound to this agreement
 * (AgreementBinding.bindingOf), `proposed` when the operator proposed numbers the client has not accepted yet,
 * `none` otherwise. The numbers are 18-decimal ratios (3× = 3e18, 5 % = 5e16); null for `none`.
 */
export interface BindingState {
  state: "none" | "proposed" | "bound";
  maxLeverage: bigint | null;
  maxPenalty: bigint | null;
  /** The binding contract the client accepts on (the console sends `accept` to it). */
  contract: string;
}

export type BindingReader = (agreementId: string, client: string) => Promise<BindingState>;

/** Use case: read an agreement's binding state from the chain (both reads at one block). */
export function bindingReader(
  chain: Pick<ChainGateway, "deployment" | "retry"> & { provider: Provider },
): BindingReader {
  const contract = chain.deployment.contracts.AgreementBinding;
  const binding = AgreementBinding__factory.connect(contract, chain.provider);
  return (agreementId, client) =>
    withRetry(async () => {
      const at = { blockTag: await chain.provider.getBlockNumber() };
      const [held, [maxLeverage, maxPenalty]] = await Promise.all([
        binding.bindingOf(client, at),
        binding.proposalOf(agreementId, at),
      ]);
      if (held.maxLeverage !== 0n && held.agreementId.toLowerCase() === agreementId.toLowerCase())
        return { state: "bound", maxLeverage: held.maxLeverage, maxPenalty: held.maxPenalty, contract };
      if (maxLeverage !== 0n) return { state: "proposed", maxLeverage, maxPenalty, contract };
      return { state: "none", maxLeverage: null, maxPenalty: null, contract };
    }, chain.retry);
}
