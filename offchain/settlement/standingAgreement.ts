import { getAddress, keccak256, solidityPacked, type Signer, type TypedDataDomain } from "ethers";
import type { ChainScheduleReader } from "./readChainSchedule";
import {
  agreementMessage,
  agreementTypedData,
  buildAgreement,
  termsFromChain,
  type AgreementDocument,
  type FinancingAgreementMessage,
  type FinancingTerms,
} from "./legal";

/** What an agreement made for an account by a tool (the seed, the practice service, a test stack) names. */
export interface StandingAgreementRequest {
  client: string;
  platform: string;
  /** Unix seconds: the agreement binds from here (the chain's latest block time, so it is active at once). */
  effectiveAt: number;
  expiresAt: number;
  /** Own funds E in base units of the cash token (what the document states; the chain does not hold it). */
  ownFunds?: bigint;
  /** Leverage L in basis points; default: the client's verified limit, within what the initial margin allows. */
  leverageBps?: number;
  /** The cash token's symbol and decimals (the deployment's cash token). */
  currency: { symbol: string; decimals: number };
}

const BPS = 10_000n;
/** The largest leverage terms may state (validateTerms: 10×). */
const MAX_LEVERAGE_BPS = 100_000;

/** A fresh agreement id for the client: keccak256 of the platform, the client and the start (one per start). */
export function standingAgreementId(
  req: Pick<StandingAgreementRequest, "client" | "platform" | "effectiveAt">,
): string {
  return keccak256(
    solidityPacked(
      ["string", "address", "address", "uint64"],
      ["marginbridge standing agreement", getAddress(req.platform), getAddress(req.client), req.effectiveAt],
    ),
  );
}

/**
 * The financing terms of an agreement generated from the chain exactly as POST /v1/agreements/generate does
 * (termsFromChain over the chain's schedule for the client): the client's verified leverage — lowered to what the
 * calm initial margin allows, so the terms are consistent — and the engine's largest per-asset penalty, with no
 * fees. Used where a tool, not the platform desk, opens the account (seed, practice, test stacks).
 */
export async function standingAgreementTerms(
  readSchedule: ChainScheduleReader,
  req: StandingAgreementRequest,
): Promise<FinancingTerms> {
  const schedule = await readSchedule(req.client);
  const byLimit = Number(schedule.maxLeverage / 10n ** 14n);
  const probe = termsFromChain(schedule, { ...baseRequest(req), leverageBps: 10_000 });
  const byMargin = Number((BPS * BPS) / BigInt(probe.margin.initialMarginBps));
  const leverageBps = req.leverageBps ?? Math.max(10_000, Math.min(byLimit, byMargin, MAX_LEVERAGE_BPS));
  return termsFromChain(schedule, { ...baseRequest(req), leverageBps });
}

function baseRequest(req: StandingAgreementRequest) {
  const agreementId = standingAgreementId(req);
  return {
    agreementId,
    client: { address: getAddress(req.client), name: "Account holder", accountRef: agreementId.slice(2, 14) },
    platform: { address: getAddress(req.platform), name: "MarginBridge Platform Ltd." },
    currency: { symbol: req.currency.symbol, iso4217: "CNY", decimals: req.currency.decimals },
    ownFunds: req.ownFunds ?? 100_000n * 10n ** BigInt(req.currency.decimals),
    fees: [],
    effectiveAt: req.effectiveAt,
    expiresAt: req.expiresAt,
    governingLaw: "Governed by the laws of the People's Republic of China",
    disputeResolution: "Disputes go first to the MarginBridge dispute desk, then to arbitration in Shanghai.",
  };
}

/** The document of the terms and the arguments of AgreementRegistry.anchor, signed (EIP-712) by both parties. */
export async function signAgreement(
  terms: FinancingTerms,
  domain: TypedDataDomain,
  client: Signer,
  platform: Signer,
): Promise<{ document: AgreementDocument; anchorArgs: [FinancingAgreementMessage, string, string] }> {
  const document = buildAgreement(terms);
  const td = agreementTypedData(domain, agreementMessage(document));
  const sign = (s: Signer): Promise<string> => s.signTypedData(td.domain, td.types, td.message);
  return { document, anchorArgs: [td.message, await sign(client), await sign(platform)] };
}
