import { DemoError } from "../lib/demoPlatform";
import { STEPS } from "./plan";

/** The languages the demo narrates in: Simplified Chinese (the product's governing language) and English. */
export const LANGS = ["zh-CN", "en"] as const;
export type Lang = (typeof LANGS)[number];

/**
 * MB_LANG picks the narration's language: zh-CN (the default, as the console's for a CNY account) or en. Anything
 * else is refused before the demo writes anything, rather than narrating in a language nobody asked for.
 */
export function narrationLanguage(env: NodeJS.ProcessEnv = process.env): Lang {
  const chosen = env.MB_LANG?.trim() || "zh-CN";
  if (!(LANGS as readonly string[]).includes(chosen))
    throw new DemoError(`MB_LANG must be one of ${LANGS.join(", ")} (got "${chosen}")`);
  return chosen as Lang;
}

let lang: Lang = "zh-CN";

/** Set once by scripts/demo.ts from MB_LANG. */
export function setNarrationLanguage(chosen: Lang): void {
  lang = chosen;
}

export function narrationLang(): Lang {
  return lang;
}

/**
 * The demo's narration: one line at a time to stdout, in both languages at every call site (a line with words in
 * one language only cannot be written), and a numbered heading per step ("[n/15] …"). The e2e test reads these
 * lines; every figure in them is read back from the system. `say()` alone prints a blank line.
 */
export function say(): void;
export function say(en: string, zh: string): void;
export function say(en = "", zh = ""): void {
  console.log(lang === "en" ? en : zh);
}

export const heading = (n: number, en: string, zh: string): void =>
  say(`\n[${n}/${STEPS.length}] ${en}`, `\n[${n}/${STEPS.length}] ${zh}`);

/** The engine's account states as the Chinese narration names them (next to the engine's own name). */
export const STATE_ZH: Record<string, string> = {
  Healthy: "健康",
  Warning: "预警",
  MarginCall: "追加保证金",
  Liquidatable: "可强平",
  Defaulted: "违约",
};
