import { readFileSync } from "node:fs";
import { z } from "zod";
import { ReservesError } from "./errors";
import type { LiabilitySet, LiabilitySource } from "./liabilities";

const amount = z.string().regex(/^-?[0-9]+$/, "an integer in base units, as a decimal string");

/**
 * The liabilities file: assets in tree order (token addresses, or symbols resolved by the caller), and per account
 * its id, secret and per-asset amounts as decimal strings in token base units.
 */
export const liabilitiesFileSchema = z
  .object({
    snapshotBlock: z
      .string()
      .regex(/^[0-9]+$/)
      .optional(),
    assets: z.array(z.string().min(1)).min(1),
    accounts: z.array(
      z
        .object({
          accountId: z.string().min(1),
          secret: z.string().regex(/^0x[0-9a-fA-F]{64}$/),
          owed: z.array(amount),
          debt: z.array(amount),
        })
        .strict(),
    ),
  })
  .strict();

export type LiabilitiesFile = z.infer<typeof liabilitiesFileSchema>;

/**
 * Parses a liabilities document; `fallbackBlock` is used when it does not name its snapshot block, and `symbols`
 * (symbol → token address) resolves assets given by symbol.
 */
export function parseLiabilities(
  json: unknown,
  fallbackBlock = 0n,
  symbols: Record<string, string> = {},
): LiabilitySet {
  const r = liabilitiesFileSchema.safeParse(json);
  if (!r.success) throw new ReservesError("INVALID_INPUT", "invalid liabilities file", { issues: r.error.issues });
  const doc = r.data;
  return {
    assets: doc.assets.map((a) => symbols[a] ?? a),
    snapshotBlock: doc.snapshotBlock !== undefined ? BigInt(doc.snapshotBlock) : fallbackBlock,
    accounts: doc.accounts.map((a) => ({
      accountId: a.accountId,
      secret: a.secret,
      owed: a.owed.map((v) => BigInt(v)),
      debt: a.debt.map((v) => BigInt(v)),
    })),
  };
}

/** A LiabilitySource over a JSON file (until the indexed-state source exists). */
export class JsonFileLiabilitySource implements LiabilitySource {
  readonly description: string;
  private readonly file: string;
  private readonly fallbackBlock: () => Promise<bigint>;
  private readonly symbols: Record<string, string>;

  /**
   * @param fallbackBlock the snapshot block when the file names none (e.g. the chain's latest block)
   * @param symbols token symbol → address, for files that name assets by symbol
   */
  constructor(file: string, fallbackBlock: () => Promise<bigint>, symbols: Record<string, string> = {}) {
    this.file = file;
    this.description = `json:${file}`;
    this.fallbackBlock = fallbackBlock;
    this.symbols = symbols;
  }

  async load(): Promise<LiabilitySet> {
    const json = JSON.parse(readFileSync(this.file, "utf8")) as unknown;
    return parseLiabilities(json, await this.fallbackBlock(), this.symbols);
  }
}
