import { formatMoney, formatUnits } from "./amounts";
import { canonicalize } from "./canonicalJson";
import type { Statement } from "./statement";

/** The statement as canonical JSON (integers as decimal strings; the bytes statementHash is taken over). */
export function statementToJson(s: Statement): string {
  return canonicalize(s);
}

/** RFC 4180 field: quoted when it holds a comma, quote, CR or LF; a leading = + - @ is prefixed with ' (CSV injection). */
export function csvField(v: string): string {
  const safe = /^[=+\-@\t\r]/.test(v) && !/^-?\d+(\.\d+)?$/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/**
 * The statement as CSV (RFC 4180, CRLF line ends): one block per section, each starting with a header row whose
 * first column is the section name, blocks separated by an empty line. Amounts are decimal strings with every
 * decimal of the cash token, so a spreadsheet sums them exactly.
 */
export function statementToCsv(s: Statement): string {
  const d = s.currency.decimals;
  const a = (v: bigint): string => formatUnits(v, d);
  const blocks: string[][][] = [
    [
      ["statement", "agreementId", "account", "accountRef", "from", "to", "currency", "generatedAt"],
      [
        "statement",
        s.agreementId,
        s.account.address,
        s.account.accountRef,
        s.period.from,
        s.period.to,
        s.currency.iso4217,
        String(s.generatedAt),
      ],
    ],
    [
      ["position", "asset", "quantity", "averageCost", "costBasis", "price", "marketValue", "unrealisedPnl"],
      ...s.positions.map((p) => [
        "position",
        p.asset,
        p.quantity.toString(),
        a(p.averageCost),
        a(p.costBasis),
        a(p.price),
        a(p.marketValue),
        a(p.unrealisedPnl),
      ]),
    ],
    [
      [
        "trade",
        "tradeId",
        "date",
        "at",
        "asset",
        "side",
        "quantity",
        "price",
        "notional",
        "fee",
        "realisedPnl",
        "batchId",
        "txHash",
      ],
      ...s.trades.map((x) => [
        "trade",
        x.tradeId,
        x.date,
        String(x.at),
        x.asset,
        x.side,
        x.quantity.toString(),
        a(x.price),
        a(x.notional),
        a(x.fee),
        a(x.realisedPnl),
        x.batchId ?? "",
        x.txHash ?? "",
      ]),
    ],
    [
      ["cash", "date", "kind", "amount", "reference"],
      ...s.cashMovements.map((m) => ["cash", m.date, m.kind, a(m.amount), m.reference]),
    ],
    [
      ["movement", "date", "kind", "asset", "quantity", "price", "proceeds", "realisedPnl", "reference"],
      ...(s.positionMovements ?? []).map((x) => [
        "movement",
        x.date,
        x.kind,
        x.asset,
        x.quantity.toString(),
        a(x.price),
        x.proceeds === undefined ? "" : a(x.proceeds),
        a(x.realisedPnl),
        x.reference,
      ]),
    ],
    [
      ["source", "chainId", "block", "blockHash", "blockTime", "asset", "feed", "roundId", "answer", "updatedAt"],
      ...Object.entries(s.sources?.prices ?? {}).map(([asset, p]) => [
        "source",
        String(s.sources!.chainId),
        String(s.sources!.block),
        s.sources!.blockHash,
        String(s.sources!.blockTime),
        asset,
        p.feed,
        p.roundId,
        p.answer,
        String(p.updatedAt),
      ]),
    ],
    [
      ["interest", "date", "principal", "amount", "cumulative"],
      ...s.interestByDay.map((i) => ["interest", i.date, a(i.balance), a(i.amount), a(i.cumulative)]),
    ],
    [
      ["fee", "date", "code", "label", "basis", "amount", "reference"],
      ...s.fees.map((f) => ["fee", f.date, f.code, f.label, f.basis, a(f.amount), f.reference]),
    ],
    [
      ["total", "interest", "fees", "realisedPnl", "unrealisedPnl", "netPnl"],
      [
        "total",
        a(s.totals.interest),
        a(s.totals.fees),
        a(s.totals.realisedPnl),
        a(s.totals.unrealisedPnl),
        a(s.totals.netPnl),
      ],
    ],
    [
      ["balance", "openingCash", "closingCash", "marketValue", "principal", "accruedInterest", "accruedFees", "equity"],
      [
        "balance",
        ...[
          s.balances.openingCash,
          s.balances.closingCash,
          s.balances.marketValue,
          s.balances.principal,
          s.balances.accruedInterest,
          s.balances.accruedFees,
          s.balances.equity,
        ].map(a),
      ],
    ],
    [
      ["margin", "ratioBps", "initialMarginBps", "maintenanceMarginBps", "liquidationMarginBps", "status"],
      [
        "margin",
        s.margin.ratioBps === null ? "" : s.margin.ratioBps.toString(),
        String(s.margin.initialMarginBps),
        String(s.margin.maintenanceMarginBps),
        String(s.margin.liquidationMarginBps),
        s.margin.status,
      ],
    ],
    [
      ["worstcase", "code", "label", "basis", "amount"],
      ...s.feeSchedule.worstCaseToExpiry.lines.map((l) => ["worstcase", l.code, l.label, l.basis, a(l.amount)]),
      [
        "worstcase",
        "TOTAL",
        "Worst case to expiry",
        `${s.feeSchedule.worstCaseToExpiry.assumptions.days} days`,
        a(s.feeSchedule.worstCaseToExpiry.total),
      ],
    ],
  ];
  return blocks.map((rows) => rows.map((r) => r.map(csvField).join(",")).join("\r\n")).join("\r\n\r\n") + "\r\n";
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(v: string): string {
  return v.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

const PRINT_CSS = `
@page { size: A4; margin: 16mm 14mm 18mm 14mm; }
* { box-sizing: border-box; }
body { font: 10pt/1.35 "Noto Sans", "Helvetica Neue", Arial, sans-serif; color: #111; margin: 0; }
header { border-bottom: 2px solid #111; margin-bottom: 8pt; }
h1 { font-size: 15pt; margin: 0 0 2pt; } h2 { font-size: 11.5pt; margin: 14pt 0 4pt; break-after: avoid; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 1pt 12pt; margin: 4pt 0; } dt { color: #555; } dd { margin: 0; }
table { width: 100%; border-collapse: collapse; margin: 2pt 0 6pt; }
thead { display: table-header-group; } tr { break-inside: avoid; }
th, td { border-bottom: 0.5pt solid #bbb; padding: 2pt 4pt; text-align: left; vertical-align: top; }
td:first-child { white-space: nowrap; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.total td { font-weight: bold; border-top: 1pt solid #111; }
.status { font-weight: bold; text-transform: uppercase; }
.status.healthy { color: #0a6b2d; } .status.warning { color: #8a5a00; } .status.margin-call, .status.liquidatable { color: #a10f0f; }
footer { margin-top: 12pt; font-size: 8pt; color: #555; word-break: break-all; }
@media screen { body { max-width: 210mm; margin: 12mm auto; padding: 0 10mm; } }
`;

/**
 * Printable HTML (A4, print CSS: repeated table headers, no row split across pages). A browser prints it to PDF,
 * e.g. `chromium --headless --print-to-pdf=statement.pdf statement.html`. `hash` is shown in the footer.
 */
export function statementToHtml(s: Statement, hash?: string): string {
  const d = s.currency.decimals;
  const m = (v: bigint): string => formatMoney(v, d);
  const e = escapeHtml;
  // The total is the last body row, not a <tfoot>: browsers repeat a tfoot on every printed page.
  const table = (head: string[], rows: string[][], numeric: number[], total?: string[]): string => {
    const cell = (c: string, i: number): string => `<td${numeric.includes(i) ? ' class="n"' : ""}>${e(c)}</td>`;
    const body =
      rows.length === 0
        ? [`<tr><td colspan="${head.length}">None</td></tr>`]
        : rows.map((r) => `<tr>${r.map(cell).join("")}</tr>`);
    if (total) body.push(`<tr class="total">${total.map(cell).join("")}</tr>`);
    const th = head.map((h, i) => `<th${numeric.includes(i) ? ' class="n"' : ""}>${e(h)}</th>`).join("");
    return `<table><thead><tr>${th}</tr></thead><tbody>${body.join("")}</tbody></table>`;
  };
  const ratio = s.margin.ratioBps === null ? "—" : `${(Number(s.margin.ratioBps) / 100).toFixed(2)}%`;
  const pct = (bps: number): string => `${(bps / 100).toFixed(2)}%`;
  const wc = s.feeSchedule.worstCaseToExpiry;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Statement ${e(s.account.accountRef)} ${e(s.period.from)}–${e(s.period.to)}</title>
<style>${PRINT_CSS}</style></head><body>
<header><h1>Account statement</h1>
<dl><dt>Client</dt><dd>${e(s.account.name)} (${e(s.account.accountRef)})</dd>
<dt>Address</dt><dd>${e(s.account.address)}</dd><dt>Agreement</dt><dd>${e(s.agreementId)}</dd>
<dt>Period</dt><dd>${e(s.period.from)} to ${e(s.period.to)} (natural days)</dd><dt>Currency</dt><dd>${e(s.currency.iso4217)} (${e(s.currency.symbol)})</dd></dl></header>
<h2>Summary</h2>
<dl><dt>Equity</dt><dd>${m(s.balances.equity)}</dd><dt>Market value</dt><dd>${m(s.balances.marketValue)}</dd>
<dt>Cash</dt><dd>${m(s.balances.closingCash)} (opening ${m(s.balances.openingCash)})</dd>
<dt>Financed principal</dt><dd>${m(s.balances.principal)}</dd>
<dt>Accrued interest / fees</dt><dd>${m(s.balances.accruedInterest)} / ${m(s.balances.accruedFees)}</dd>
<dt>Margin ratio</dt><dd>${ratio} <span class="status ${e(s.margin.status)}">${e(s.margin.status)}</span> (initial ${pct(s.margin.initialMarginBps)}, maintenance ${pct(s.margin.maintenanceMarginBps)}, liquidation ${pct(s.margin.liquidationMarginBps)})</dd>
<dt>Realised / unrealised P&amp;L</dt><dd>${m(s.totals.realisedPnl)} / ${m(s.totals.unrealisedPnl)}</dd>
<dt>Net P&amp;L (realised − interest − fees)</dt><dd>${m(s.totals.netPnl)}</dd></dl>
<h2>Positions</h2>
${table(
  ["Asset", "Quantity", "Average cost", "Price", "Market value", "Unrealised P&L"],
  s.positions.map((p) => [
    p.asset,
    p.quantity.toString(),
    m(p.averageCost),
    m(p.price),
    m(p.marketValue),
    m(p.unrealisedPnl),
  ]),
  [1, 2, 3, 4, 5],
)}
<h2>Trades</h2>
${table(
  ["Date", "Trade", "Asset", "Side", "Quantity", "Price", "Notional", "Fee", "Realised P&L"],
  s.trades.map((x) => [
    x.date,
    x.tradeId,
    x.asset,
    x.side,
    x.quantity.toString(),
    m(x.price),
    m(x.notional),
    m(x.fee),
    m(x.realisedPnl),
  ]),
  [4, 5, 6, 7, 8],
)}
<h2>Cash movements</h2>
${table(
  ["Date", "Kind", "Reference", "Amount"],
  s.cashMovements.map((c) => [c.date, c.kind, c.reference, m(c.amount)]),
  [3],
)}
<h2>Deposits, withdrawals and liquidations of securities</h2>
${table(
  ["Date", "Kind", "Asset", "Quantity", "Price", "Proceeds", "Realised P&L", "Reference"],
  (s.positionMovements ?? []).map((x) => [
    x.date,
    x.kind,
    x.asset,
    x.quantity.toString(),
    m(x.price),
    x.proceeds === undefined ? "" : m(x.proceeds),
    m(x.realisedPnl),
    x.reference,
  ]),
  [3, 4, 5, 6],
)}
<h2>Interest by natural day</h2>
${table(
  ["Date", "Principal", "Interest", "Cumulative"],
  s.interestByDay.map((i) => [i.date, m(i.balance), formatUnits(i.amount, d), formatUnits(i.cumulative, d)]),
  [1, 2, 3],
  ["Total", "", formatUnits(s.totals.interest, d), ""],
)}
<h2>Fees</h2>
${table(
  ["Date", "Code", "Fee", "Basis", "Reference", "Amount"],
  s.fees.map((f) => [f.date, f.code, f.label, f.basis, f.reference, formatUnits(f.amount, d)]),
  [5],
  ["Total", "", "", "", "", formatUnits(s.totals.fees, d)],
)}
<h2>Fee schedule and worst case to expiry</h2>
<p>Assumes the full financed amount outstanding for ${wc.assumptions.days} natural days, turnover ${m(wc.assumptions.turnover)}, and${wc.assumptions.liquidatedInFull ? "" : " no"} liquidation of the whole position. Break-even return before liquidation: ${(Number(wc.breakEvenReturnBps) / 100).toFixed(2)}%.</p>
${table(
  ["Code", "Item", "Basis", "Amount"],
  wc.lines.map((l) => [l.code, l.label, l.basis, m(l.amount)]),
  [3],
  ["", "Worst case", "", m(wc.total)],
)}
${
  s.sources
    ? `<h2>Sources</h2><p>Closing figures read on chain ${s.sources.chainId} at block ${s.sources.block} (${e(s.sources.blockHash)}, unix ${s.sources.blockTime}).</p>
${table(
  ["Asset", "Oracle feed", "Round", "Answer", "Updated (unix)"],
  Object.entries(s.sources.prices).map(([asset, p]) => [asset, p.feed, p.roundId, p.answer, String(p.updatedAt)]),
  [2, 3, 4],
)}`
    : ""
}
<footer>Generated at unix ${s.generatedAt}.${hash ? ` Statement hash (keccak256 of canonical JSON): ${e(hash)}` : ""}</footer>
</body></html>
`;
}
