import { readFile } from "node:fs/promises";
import { z } from "zod";
import { parseDecimal } from "../decimal";
import { FEED_DECIMALS, OracleReporterError, type PriceQuote, type PriceSource } from "../types";

const DecimalString = z.string().regex(/^\d+(\.\d+)?$/, 'a decimal string such as "10.25"');
const Entry = z.union([
  DecimalString,
  z.object({ price: DecimalString, observedAt: z.number().int().positive() }).strict(),
]);

/**
 * The document a file or HTTP endpoint serves. Prices are decimal strings (never JSON numbers, so no float
 * rounding); `observedAt` (unix seconds) applies to every plain entry, or is given per entry:
 *   { "observedAt": 1767225600, "prices": { "mbBANK": "10.25", "mbTECH": { "price": "51.2", "observedAt": 1767225590 } } }
 * Without any `observedAt` the read time is used.
 */
export const PriceDocument = z
  .object({
    observedAt: z.number().int().positive().optional(),
    prices: z.record(z.string(), Entry),
  })
  .strict();

export interface JsonSourceOptions {
  /** An http(s):// URL or a file path. */
  location: string;
  /** HTTP timeout (ms). */
  timeoutMs?: number;
}

/** Reads real prices from a JSON file or an HTTP endpoint serving a PriceDocument. */
export class JsonPriceSource implements PriceSource {
  readonly name: string;
  constructor(private readonly opts: JsonSourceOptions) {
    this.name = `json:${opts.location}`;
  }

  async read(symbols: string[], now: number): Promise<PriceQuote[]> {
    const doc = PriceDocument.safeParse(await this.fetchJson());
    if (!doc.success) {
      throw new OracleReporterError("SOURCE_INVALID", `price document from ${this.opts.location} is invalid`, {
        details: { issues: doc.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`) },
      });
    }
    const quotes: PriceQuote[] = [];
    for (const symbol of symbols) {
      const entry = doc.data.prices[symbol];
      if (entry === undefined) continue;
      const [text, observedAt] =
        typeof entry === "string" ? [entry, doc.data.observedAt ?? now] : [entry.price, entry.observedAt];
      const price = parseDecimal(text, FEED_DECIMALS);
      if (price > 0n) quotes.push({ symbol, price, observedAt });
    }
    return quotes;
  }

  private async fetchJson(): Promise<unknown> {
    const { location } = this.opts;
    try {
      if (/^https?:\/\//.test(location)) {
        const res = await fetch(location, { signal: AbortSignal.timeout(this.opts.timeoutMs ?? 5_000) });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        return await res.json();
      }
      return JSON.parse(await readFile(location, "utf8"));
    } catch (err) {
      throw new OracleReporterError("SOURCE_UNAVAILABLE", `cannot read prices from ${location}`, { cause: err });
    }
  }
}
