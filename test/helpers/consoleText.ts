import { expect } from "chai";
import type { Page } from "playwright-core";

/**
 * Identifiers that are the same in both languages: token symbols, contract and function names, hex, key ids, the
 * product's name and a few protocol words.
 */
const IDENTIFIERS = [
  /https?:\/\/[^\s，,]+/g,
  /\bmb[A-Z]+\b/g,
  /\bmbk_[0-9a-f]+\b/g,
  /0x[0-9a-fA-F]+(…[0-9a-fA-F]+)?/g,
  /\b[a-z]+[A-Z]\w*\b/g, // camelCase: verifyInclusion, snapshotId
  /\b[A-Z][a-z]+[A-Z]\w*\b/g, // PascalCase: ReserveLedger, AccessManager, MarginBridge
  /\bEIP-712\b|\bUTF-8\b/g,
  /\b(API|JSON|RPC|URL|keccak256|abi\.encode|docs\/reserves\.md|domain|ledger|epoch|block|secret)\b/g,
];

/**
 * Fails on any text of the loaded page (and its title) left in the other language: no Chinese on an English page,
 * no English word (three letters or more, identifiers aside) on a Chinese one.
 */
export async function expectTranslated(page: Page, lang: "zh-CN" | "en", name: string): Promise<void> {
  const texts: string[] = await page.evaluate(() => {
    const out: string[] = [];
    const skip = "script,style,svg,code,.mono,.lang-switch,textarea,input";
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const text = n.textContent?.trim();
      if (text && !n.parentElement?.closest(skip)) out.push(text);
    }
    out.push(document.title);
    return out;
  });
  for (const text of texts) {
    if (lang === "en") {
      expect(text, `${name} (${lang}): "${text}"`).to.not.match(/[\u4e00-\u9fff]/);
    } else {
      const rest = IDENTIFIERS.reduce((acc, re) => acc.replace(re, ""), text);
      expect(rest, `${name} (${lang}): "${text}"`).to.not.match(/[A-Za-z]{3,}/);
    }
  }
}
