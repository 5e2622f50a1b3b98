import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { RiskError } from "../errors";
import { wadFromNumber } from "../fixed";
import type { Scenario } from "./scenario";

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);

/** A shipped historical shock path: daily closes of one index, with where they come from. */
export const shockPathSchema = z
  .object({
    id: z.string().min(1),
    name: z.string().min(1),
    index: z.string().min(1),
    currency: z.string().min(1),
    source: z.string().min(1),
    note: z.string().min(1),
    from: isoDate,
    to: isoDate,
    events: z.record(isoDate, z.string()).optional(),
    closes: z.array(z.object({ date: isoDate, close: z.number().positive() }).strict()).min(2),
  })
  .strict()
  .superRefine((path, ctx) => {
    const dates = path.closes.map((c) => c.date);
    if (dates[0] !== path.from || dates[dates.length - 1] !== path.to) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: "from/to must be the first and last close dates" });
    }
    if (dates.some((d, i) => i > 0 && d <= dates[i - 1])) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: "closes must be in strictly increasing date order" });
    }
  });

export type ShockPath = z.infer<typeof shockPathSchema>;

/** The folder of shock paths shipped with the code. */
export const SHIPPED_SHOCK_PATHS_DIR = join(__dirname, "..", "data");

export function parseShockPath(json: unknown): ShockPath {
  const parsed = shockPathSchema.safeParse(json);
  if (!parsed.success) {
    throw new RiskError("RISK_INVALID_INPUT", "invalid shock path", { issues: parsed.error.issues });
  }
  return parsed.data;
}

/** Every *.json shock path in `dir` (default: the shipped ones), sorted by id. */
export function loadShockPaths(dir: string = SHIPPED_SHOCK_PATHS_DIR): ShockPath[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => parseShockPath(JSON.parse(readFileSync(join(dir, f), "utf8"))))
    .sort((a, b) => (a.id < b.id ? -1 : 1));
}

/** Simple daily returns close_t / close_{t−1} − 1, one per close after the first, with the date they end on. */
export function dailyReturns(path: ShockPath): { date: string; r: number }[] {
  return path.closes.slice(1).map((c, i) => ({ date: c.date, r: c.close / path.closes[i].close - 1 }));
}

/**
 * A scenario that moves each asset by beta × the index's daily return (beta 1 unless given; a return below −100%
 * is floored at −99%). Returns are converted to WAD with wadFromNumber (12 decimals, half away from zero).
 */
export function historicalScenario(
  path: ShockPath,
  assets: readonly string[],
  betas: Readonly<Record<string, number>> = {},
): Scenario {
  const returns = dailyReturns(path);
  return {
    id: path.id,
    name: path.name,
    source: `${path.index}, ${path.from} to ${path.to}: ${path.source} ${path.note}`,
    days: returns.map((d) => d.date),
    returns: returns.map(
      ({ r }) => new Map(assets.map((asset) => [asset, wadFromNumber(Math.max(-0.99, (betas[asset] ?? 1) * r))])),
    ),
  };
}
