import { AppError } from "../shared/errors";
import type { ChainGateway } from "./gateway";
import { withRetry } from "./retry";

/** The KYC capability's view of KycRegistry: writes signed by the KYC officer's key, reads through the provider. */
export function kycRegistryWriter(gateway: ChainGateway) {
  const sender = gateway.kycOfficer;
  if (!sender) throw new AppError("CONFIG_INVALID", "chain.kycOfficerKey is not configured");
  const registry = gateway.kycRegistry;
  return {
    async setIdentity(account: string, tier: number, jurisdiction: number, expiresAt: number, identityHash: string) {
      const sent = await sender.send(registry, "setIdentity", [account, tier, jurisdiction, expiresAt, identityHash]);
      return { txHash: sent.hash };
    },
    async revoke(account: string, reason: string) {
      const sent = await sender.send(registry, "revoke", [account, reason]);
      return { txHash: sent.hash };
    },
    tierLeverage: (tier: number) => withRetry(() => registry.tierLeverage(tier), gateway.retry),
    async identityOf(account: string) {
      const i = await withRetry(() => registry.identityOf(account), gateway.retry);
      return {
        registered: i.registered,
        revoked: i.revoked,
        tier: Number(i.tier),
        jurisdiction: Number(i.jurisdiction),
        expiresAt: Number(i.expiresAt),
        identityHash: i.identityHash,
      };
    },
    async now() {
      const block = await withRetry(() => gateway.provider.getBlock("latest"), gateway.retry);
      if (!block) throw new AppError("CHAIN_UNAVAILABLE", "no latest block");
      return block.timestamp;
    },
  };
}
