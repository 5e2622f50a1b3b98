import { expect } from "chai";
import type { BaseContract, ContractTransactionResponse, Signer } from "ethers";

export interface RestrictedCall {
  name: string;
  call(as: Signer): Promise<ContractTransactionResponse>;
}

/**
 * Shared behaviour: every listed restricted function refuses a caller without the role with the AccessManager's
 * `AccessManagedUnauthorized(caller)` error.
 */
export function itRejectsCallersWithoutRole(
  setup: () => Promise<{ contract: BaseContract; outsider: Signer; calls: RestrictedCall[] }>,
): void {
  it("refuses every restricted function to a caller without the role", async () => {
    const { contract, outsider, calls } = await setup();
    const who = await outsider.getAddress();
    for (const c of calls) {
      await expect(c.call(outsider), c.name)
        .to.be.revertedWithCustomError(contract, "AccessManagedUnauthorized")
        .withArgs(who);
    }
  });
}
