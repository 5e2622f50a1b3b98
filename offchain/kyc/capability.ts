import { kycRegistryWriter } from "../chain";
import type { Capability } from "../service/capability";
import { acknowledgementDomain } from "./acknowledgement";
import { expireApprovals } from "./expireApprovals";
import type { KycDeps } from "./ports";
import { reconcileKyc } from "./reconcile";
import { kycRoutes } from "./routes";
import { loadSdnFile } from "./sanctions/list";

/** KYC: applications, screening, approvals; written to the KycRegistry when the chain and the officer key are there. */
export const kycCapability: Capability = {
  name: "kyc",
  needs: { contracts: [] },
  build: ({ store, chain, deployment, config, log }) => {
    const deps: KycDeps = {
      store,
      chain: chain?.kycOfficer ? kycRegistryWriter(chain) : undefined,
      sanctions: config.kyc.sanctionsFile ? loadSdnFile(config.kyc.sanctionsFile) : loadSdnFile(),
      settings: {
        dataKey: config.kyc.dataKey,
        fuzzyThreshold: config.kyc.fuzzyThreshold,
        reviewAboveTier: config.kyc.reviewAboveTier,
        validityDays: config.kyc.validityDays,
        claimTtlMs: config.kyc.claimTtlMs,
      },
      log: log.child({ component: "kyc" }),
      ackDomain: deployment ? acknowledgementDomain(deployment.chainId, deployment.contracts.KycRegistry) : undefined,
    };
    return {
      routes: [kycRoutes(deps)],
      jobs: [
        { name: "kyc-expiry", intervalMs: 60_000, timeoutMs: 30_000, run: () => expireApprovals(deps) },
        ...(deps.chain
          ? [
              {
                name: "kyc-reconcile",
                intervalMs: config.kyc.reconcileIntervalMs,
                timeoutMs: 120_000,
                run: () => reconcileKyc(deps),
              },
            ]
          : []),
      ],
      status: () => ({ kycSigner: chain?.kycOfficer?.address ?? null }),
      partial: deps.chain ? undefined : "approvals are not written to the KycRegistry (no chain or no KYC officer key)",
    };
  },
};
