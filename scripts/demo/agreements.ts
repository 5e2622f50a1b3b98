import type { Signer } from "ethers";
import { agreementDomain, agreementMessage, agreementTypedData } from "../../offchain/settlement/legal";
import { CNY, DemoError, ok } from "../lib/demoPlatform";
import type { User } from "./plan";
import type { DemoRun } from "./run";

/** A stored or generated agreement, as the service returns it. */
export interface AgreementView {
  status: string;
  termsHash: string;
  document: Parameters<typeof agreementMessage>[0];
  anchor: { txHash: string; blockNumber: number } | null;
}

/** What differs between the demo's two financings; everything else is the platform's standard offer. */
export interface Financing {
  agreementId: string;
  client: User;
  name: string;
  accountRef: string;
  ownFunds: bigint;
  leverageBps: number;
  /** Chain time the term starts at; it runs a year. */
  effectiveAt: number;
}

/**
 * POST /v1/agreements/generate's request for one financing: the platform's standard fees, profit split and law.
 * Everything the engine applies (per-asset margins, penalties, the pool's rate, the leverage limit, the notice
 * period) is read from the chain by the service: the operator states only what the platform decides.
 */
export async function financingRequest(run: DemoRun, f: Financing): Promise<Record<string, unknown>> {
  const platform = await run.d.devAccount(4); // the operator signs for the platform on the dev chain
  return {
    agreementId: f.agreementId,
    client: { address: run.address(f.client), name: f.name, accountRef: f.accountRef },
    platform: { address: await platform.getAddress(), name: "MarginBridge Platform Ltd." },
    currency: { symbol: "mbCNY", iso4217: "CNY", decimals: 6 },
    ownFunds: f.ownFunds.toString(),
    leverageBps: f.leverageBps,
    fees: [
      {
        code: "COMMISSION",
        label: "Brokerage commission",
        kind: "per-trade",
        bps: 3,
        minimum: (5n * CNY).toString(),
      },
      { code: "MGMT", label: "Account management", kind: "daily-on-own-funds", annualBps: 200 },
    ],
    profitSplit: { clientBps: 8_000, capitalProvidersBps: 1_000, platformBps: 1_000 },
    marginMode: { chosen: "dynamic", fixedUntil: null },
    effectiveAt: f.effectiveAt,
    expiresAt: f.effectiveAt + 365 * 86_400,
    governingLaw: "Governed by the laws of the People's Republic of China",
    disputeResolution: "Disputes go first to the MarginBridge dispute desk, then to arbitration in Shanghai.",
  };
}

/**
 * Both parties sign the generated agreement (EIP-712), the client acknowledges the financing summary in its approved
 * KYC file, and the operator anchors it on-chain. `tag` keeps each financing's idempotency keys apart.
 */
export async function signAndAnchor(
  run: DemoRun,
  agreementId: string,
  client: User,
  document: AgreementView["document"],
  tag: string,
  acknowledge: (application: string) => Promise<unknown>,
): Promise<AgreementView> {
  const operator = run.d.staff("operator");
  const platform = await run.d.devAccount(4);
  const domain = agreementDomain(run.cfg.chainId!, run.contract("AgreementRegistry"));
  const td = agreementTypedData(domain, agreementMessage(document));
  const sign = async (signer: Signer): Promise<string> => signer.signTypedData(td.domain, td.types, td.message);
  ok(
    await run.d
      .user(client)
      .post(
        `/v1/agreements/${agreementId}/signatures`,
        { signature: await sign(run.wallet(client)) },
        `demo-${run.state.runId}-sign-client${tag}`,
      ),
    `${client}'s signature`,
  );
  ok(
    await operator.post(
      `/v1/agreements/${agreementId}/signatures`,
      { signature: await sign(platform) },
      `demo-${run.state.runId}-sign-platform${tag}`,
    ),
    "platform signature",
  );
  const application = run.state.facts[`kycApplication.${client}`];
  if (typeof application !== "string")
    throw new DemoError(`${client}'s KYC application is not known: run the kyc step`);
  await acknowledge(application);
  return ok(
    await operator.post<AgreementView>(
      `/v1/agreements/${agreementId}/anchor`,
      undefined,
      `demo-${run.state.runId}-anchor${tag}`,
    ),
    `POST /v1/agreements/:id/anchor (${client})`,
  );
}
