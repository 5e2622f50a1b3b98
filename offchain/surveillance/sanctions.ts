import { readFileSync } from "node:fs";
import { SAMPLE_SDN_FILE, openIdentity, parseSdnCsv, screenName } from "../kyc";
import { sha256Hex } from "../shared/crypto";
import type { Store } from "../store";
import { raiseAlert } from "./alerts";

export interface RescreenOptions {
  /** The OFAC-layout sanctions file (the one KYC loads: MB_SANCTIONS_FILE, else the bundled sample). */
  file?: string;
  /** The KYC data key (the identities are sealed under it). */
  dataKey: Buffer;
  /** The name-match threshold KYC screens with (0.5–1). */
  threshold: number;
  /** The tier a hit proposes (restricted: it may only sell), and whether it is set without a person. */
  tier: string;
  autoAct: boolean;
}

/**
 * The sanctions re-screen: when the list's content changed since the last screen (its SHA-256 was not screened
 * yet), every active client (an approved KYC application) is screened against it again; each hit raises a
 * sanctions alert with its case file. One screen per list version, recorded; a re-run of the same list does nothing.
 */
export async function rescreenOnListChange(
  store: Store,
  tiers: readonly string[],
  o: RescreenOptions,
  now = Date.now(),
): Promise<{ listHash: string; screened: number; hits: number; raised: number } | undefined> {
  const text = readFileSync(o.file ?? SAMPLE_SDN_FILE, "utf8");
  const listHash = sha256Hex(text);
  if (await store.alerts.screened(listHash)) return undefined;
  const list = parseSdnCsv(text);
  const clients = await store.kyc.list({ status: "approved", limit: 1_000_000 });
  let hits = 0;
  let raised = 0;
  for (const a of clients) {
    const { identity } = openIdentity(o.dataKey, a.id, a.identitySealed);
    const matches = screenName(identity.fullName, list, o.threshold);
    if (matches.length === 0) continue;
    hits++;
    const alert = {
      dedupeKey: `sanctions:${listHash}:${a.account}`,
      kind: "sanctions" as const,
      rule: "sanctions-rescreen",
      account: a.account,
      instrument: null,
      windowStart: now,
      windowEnd: now,
      reasonCode: "SANCTIONS_REVIEW",
      proposedTier: o.tier,
      summary: `active client matches ${matches.length} sanctions list entr${matches.length === 1 ? "y" : "ies"} (best ${matches[0].score})`,
      evidence: { applicationId: a.id, listHash, matches, thresholds: { threshold: o.threshold } },
      amount: null,
    };
    if ((await raiseAlert(store, tiers, alert, o, now)).created) raised++;
  }
  await store.alerts.recordScreen({ listHash, entries: list.length, screened: clients.length, hits, at: now });
  return { listHash, screened: clients.length, hits, raised };
}
