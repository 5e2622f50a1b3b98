import { divDown } from "./amounts";
import type { FinalSettlement } from "./finalSettlement";
import { CURRENCY_MINOR_UNITS, type BankAccount, type BankAgent, type CreditTransfer } from "./pain001";
import { LegalError } from "./errors";

export interface Payee {
  name: string;
  account: BankAccount;
  agent?: BankAgent;
}

/**
 * The cash leg of a final settlement: one credit transfer per party with a positive payout. EndToEndIds are
 * `FS-<first 16 hex of the agreement id>-<CLIENT|POOL|PLATFORM>` (<= 35 characters), so the bank's confirmation and
 * the redeem on-chain (payoutRef = chainReference(EndToEndId)) can be reconciled. Each payout is rounded down to the
 * currency's minor unit; the sub-unit remainder (`dust`, at most 1 fen per party) stays in the custody account and is
 * reported.
 */
export function settlementPayoutTransfers(
  s: FinalSettlement,
  payees: { client: Payee; capitalProviders: Payee; platform: Payee },
): { transfers: CreditTransfer[]; dust: bigint } {
  const minor = CURRENCY_MINOR_UNITS[s.currency.iso4217];
  if (minor === undefined || minor > s.currency.decimals) {
    throw new LegalError("LEGAL_INVALID_INPUT", "unsupported settlement currency", { currency: s.currency.iso4217 });
  }
  const unit = 10n ** BigInt(s.currency.decimals - minor);
  const stem = `FS-${s.agreementId.slice(2, 18)}`;
  const parties = [
    ["CLIENT", s.payouts.client, payees.client],
    ["POOL", s.payouts.capitalProviders, payees.capitalProviders],
    ["PLATFORM", s.payouts.platform, payees.platform],
  ] as const;
  let dust = 0n;
  const transfers: CreditTransfer[] = [];
  for (const [tag, amount, payee] of parties) {
    const paid = divDown(amount, unit) * unit;
    dust += amount - paid;
    if (paid === 0n) continue;
    transfers.push({
      endToEndId: `${stem}-${tag}`,
      amount: paid,
      decimals: s.currency.decimals,
      currency: s.currency.iso4217,
      creditor: { name: payee.name },
      creditorAccount: payee.account,
      creditorAgent: payee.agent,
      remittance: `Final settlement ${s.settledOn} of agreement ${s.agreementId.slice(0, 18)}`,
    });
  }
  return { transfers, dust };
}
