import type { Provider, Signer } from "ethers";
import type { DeploymentRecord } from "../../offchain/chain/deployment";
import { chainScheduleReader, signAgreement, standingAgreementTerms } from "../../offchain/settlement";
import { agreementDomain, bindingNumbersOf } from "../../offchain/settlement/legal";
import { AgreementBinding__factory, AgreementRegistry__factory } from "../../typechain-types";

/** How long a tool's standing agreement runs unless told: long enough for test stacks that move time forward. */
const DEFAULT_TERM_SECONDS = 5 * 365 * 86_400;
/** Retry policy of the schedule reads (a busy dev node drops connections now and then). */
const READ_RETRY = { retries: 5, baseMs: 200 };

export interface BindAgreementOptions {
  /** Leverage in basis points; default: the client's verified limit (within its calm initial margin). */
  leverageBps?: number;
  /** Own funds the document states (base units of the cash token). */
  ownFunds?: bigint;
  termSeconds?: number;
}

export interface BoundAgreement {
  agreementId: string;
  maxLeverage: bigint;
  maxPenalty: bigint;
  /** False when the account was already bound to an active agreement (nothing was sent). */
  sent: boolean;
}

/**
 * Gives `client` an active agreement bound to its margin account, the way production does it: the agreement is
 * generated from the chain's schedule (termsFromChain, as POST /v1/agreements/generate), signed by both parties
 * (EIP-712), anchored by the operator (AgreementRegistry.anchor), proposed by the operator with the terms' leverage
 * and penalty (AgreementBinding.propose) and accepted by the client (accept). Safe to re-run: an account bound to
 * an agreement that is still open and within its term is left as it is. For scripts and tests (seed, demo stacks,
 * e2e stacks, the keeper chain, fixtures); the service's operator route is POST /v1/agreements/:id/binding.
 */
export async function bindAgreement(
  record: DeploymentRecord,
  operator: Signer,
  client: Signer,
  opts: BindAgreementOptions = {},
): Promise<BoundAgreement> {
  const provider = operator.provider as Provider;
  const c = record.contracts;
  const binding = AgreementBinding__factory.connect(c.AgreementBinding, operator);
  const registry = AgreementRegistry__factory.connect(c.AgreementRegistry, operator);
  const account = await client.getAddress();
  const now = (await provider.getBlock("latest"))!.timestamp;
  const held = await binding.bindingOf(account);
  if (held.maxLeverage !== 0n && now < Number(held.expiresAt) && (await registry.closedAtOf(held.agreementId)) === 0n)
    return { agreementId: held.agreementId, maxLeverage: held.maxLeverage, maxPenalty: held.maxPenalty, sent: false };
  const cash = record.tokens.find((t) => t.kind === "cash")!;
  const terms = await standingAgreementTerms(chainScheduleReader({ provider, deployment: record, retry: READ_RETRY }), {
    client: account,
    platform: await operator.getAddress(),
    effectiveAt: now,
    expiresAt: now + (opts.termSeconds ?? DEFAULT_TERM_SECONDS),
    ownFunds: opts.ownFunds,
    leverageBps: opts.leverageBps,
    currency: { symbol: cash.symbol, decimals: cash.decimals },
  });
  const { anchorArgs } = await signAgreement(
    terms,
    agreementDomain(record.chainId, c.AgreementRegistry),
    client,
    operator,
  );
  const { maxLeverage, maxPenalty } = bindingNumbersOf(terms);
  await (await registry.anchor(...anchorArgs)).wait();
  await (await binding.propose(terms.agreementId, maxLeverage, maxPenalty)).wait();
  await (await binding.connect(client).accept(terms.agreementId, maxLeverage, maxPenalty)).wait();
  return { agreementId: terms.agreementId, maxLeverage, maxPenalty, sent: true };
}
