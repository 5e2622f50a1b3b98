import type { SanctionsMatch } from "../../store";
import { normaliseName, type SdnEntry } from "./list";

/** Jaro-Winkler similarity in [0, 1] (prefix scale 0.1, prefix up to 4). */
export function jaroWinkler(a: string, b: string): number {
  if (a === b) return 1;
  if (!a.length || !b.length) return 0;
  const window = Math.max(0, Math.floor(Math.max(a.length, b.length) / 2) - 1);
  const aHit = new Array<boolean>(a.length).fill(false);
  const bHit = new Array<boolean>(b.length).fill(false);
  let matches = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = Math.max(0, i - window); j < Math.min(b.length, i + window + 1); j++) {
      if (bHit[j] || a[i] !== b[j]) continue;
      aHit[i] = bHit[j] = true;
      matches++;
      break;
    }
  }
  if (matches === 0) return 0;
  let k = 0;
  let transpositions = 0;
  for (let i = 0; i < a.length; i++) {
    if (!aHit[i]) continue;
    while (!bHit[k]) k++;
    if (a[i] !== b[k]) transpositions++;
    k++;
  }
  const m = matches;
  const jaro = (m / a.length + m / b.length + (m - transpositions / 2) / m) / 3;
  let prefix = 0;
  while (prefix < 4 && a[prefix] === b[prefix]) prefix++;
  return jaro + prefix * 0.1 * (1 - jaro);
}

/**
 * Similarity of two normalised token lists: the better of (a) Jaro-Winkler of the sorted tokens joined and
 * (b) the token-set score — each token's best Jaro-Winkler partner, averaged both ways — so a missing middle
 * name or a swapped order still scores high.
 */
export function nameSimilarity(a: string[], b: string[]): number {
  if (!a.length || !b.length) return 0;
  const joined = jaroWinkler(a.join(" "), b.join(" "));
  const side = (x: string[], y: string[]): number =>
    x.reduce((s, t) => s + Math.max(...y.map((u) => jaroWinkler(t, u))), 0) / x.length;
  const shorter = a.length <= b.length ? a : b;
  const longer = shorter === a ? b : a;
  // Every token of the shorter name must find a partner; extra tokens of the longer name weigh a little.
  const tokenSet = 0.85 * side(shorter, longer) + 0.15 * side(longer, shorter);
  return Math.max(joined, tokenSet);
}

/** Entries whose similarity to `name` is at or above `threshold`, best first (scores rounded to 3 places). */
export function screenName(name: string, list: SdnEntry[], threshold: number): SanctionsMatch[] {
  const tokens = normaliseName(name);
  return list
    .map((e) => ({
      entNum: e.entNum,
      listName: e.name,
      score: Math.round(nameSimilarity(tokens, e.tokens) * 1000) / 1000,
    }))
    .filter((m) => m.score >= threshold)
    .sort((x, y) => y.score - x.score);
}
