import { KycRegistry__factory } from "../../../typechain-types";
import type { ContractHandler } from "./types";

/** KycRegistry → chain_identities: who is registered, tier, expiry, revocation. */
export function kycRegistryHandler(address: string): ContractHandler {
  return {
    contract: "KycRegistry",
    address,
    iface: KycRegistry__factory.createInterface(),
    events: ["IdentitySet", "IdentityRevoked"],
    async handle(e, tx) {
      if (e.event === "IdentitySet") {
        await tx.projections.upsertIdentity({
          account: String(e.args.account),
          tier: Number(e.args.tier),
          jurisdiction: Number(e.args.jurisdiction),
          expiresAt: Number(e.args.expiresAt),
          identityHash: String(e.args.identityHash),
          revoked: false,
          revokeReason: null,
          blockNumber: e.blockNumber,
        });
      } else if (e.event === "IdentityRevoked") {
        await tx.projections.markRevoked(String(e.args.account), String(e.args.reason), e.blockNumber);
      }
    },
    async reset(tx) {
      await tx.projections.clearIdentities();
    },
  };
}
