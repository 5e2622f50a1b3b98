/**
 * Minimal SVG charts for the console (no library): a line chart and a grouped bar chart. Pure functions from
 * numbers to an SVG document string; every text is XML-escaped.
 */

const WIDTH = 760;
const HEIGHT = 380;
const MARGIN = { top: 48, right: 24, bottom: 72, left: 84 };
const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf"];

export interface LineSeries {
  readonly name: string;
  /** One value per x label; a missing value (undefined) breaks the line. */
  readonly values: readonly (number | undefined)[];
}

export interface LineChartInput {
  readonly title: string;
  readonly xLabels: readonly string[];
  readonly series: readonly LineSeries[];
  readonly yLabel: string;
  /** Horizontal reference lines (e.g. a maintenance line). */
  readonly references?: readonly { readonly name: string; readonly value: number }[];
  readonly formatY?: (y: number) => string;
}

export interface BarChartInput {
  readonly title: string;
  /** One group per category (scenario). */
  readonly categories: readonly string[];
  /** One bar per series in every group. */
  readonly series: readonly { readonly name: string; readonly values: readonly number[] }[];
  readonly yLabel: string;
  readonly formatY?: (y: number) => string;
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&${{ "&": "amp", "<": "lt", ">": "gt", '"': "quot", "'": "apos" }[c]};`);
}

/** 1,234,567 → "1.23M"; keeps charts readable for amounts in whole currency units. */
export function compactNumber(y: number): string {
  const abs = Math.abs(y);
  for (const [scale, suffix] of [
    [1e9, "B"],
    [1e6, "M"],
    [1e3, "k"],
  ] as const) {
    if (abs >= scale) return `${trim(y / scale)}${suffix}`;
  }
  return trim(y);
}

function trim(y: number): string {
  return Number(y.toPrecision(3)).toString();
}

/** About `count` round tick values covering [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    return niceTicks(min - pad, max + pad, count);
  }
  const rough = (max - min) / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
  const ticks: number[] = [];
  for (let t = Math.floor(min / step) * step; t <= max + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  if (ticks[ticks.length - 1] < max) ticks.push(Number((ticks[ticks.length - 1] + step).toPrecision(12)));
  return ticks;
}

interface Frame {
  readonly x0: number;
  readonly x1: number;
  readonly y0: number;
  readonly y1: number;
  readonly yMin: number;
  readonly yMax: number;
  y(value: number): number;
}

function frame(values: readonly number[], includeZero: boolean): { frame: Frame; ticks: number[] } {
  const finite = values.filter(Number.isFinite);
  const lo = Math.min(...finite, ...(includeZero ? [0] : []));
  const hi = Math.max(...finite, ...(includeZero ? [0] : []));
  const ticks = niceTicks(finite.length ? lo : 0, finite.length ? hi : 1);
  const yMin = ticks[0];
  const yMax = ticks[ticks.length - 1];
  const x0 = MARGIN.left;
  const x1 = WIDTH - MARGIN.right;
  const y0 = HEIGHT - MARGIN.bottom;
  const y1 = MARGIN.top;
  return { frame: { x0, x1, y0, y1, yMin, yMax, y: (v) => y0 - ((v - yMin) / (yMax - yMin)) * (y0 - y1) }, ticks };
}

function document(title: string, body: string[]): string {
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escapeXml(title)}">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect x="0" y="0" width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-family="sans-serif" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    ...body,
    `</svg>`,
    "",
  ].join("\n");
}

function yAxis(f: Frame, ticks: number[], label: string, format: (y: number) => string): string[] {
  const lines = ticks.map((t) => {
    const y = f.y(t).toFixed(1);
    return (
      `<line x1="${f.x0}" y1="${y}" x2="${f.x1}" y2="${y}" stroke="#e5e5e5"/>` +
      `<text x="${f.x0 - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" font-family="sans-serif" font-size="11">${escapeXml(format(t))}</text>`
    );
  });
  const mid = ((f.y0 + f.y1) / 2).toFixed(1);
  return [
    ...lines,
    `<line x1="${f.x0}" y1="${f.y0}" x2="${f.x1}" y2="${f.y0}" stroke="#333333"/>`,
    `<line x1="${f.x0}" y1="${f.y0}" x2="${f.x0}" y2="${f.y1}" stroke="#333333"/>`,
    `<text x="16" y="${mid}" text-anchor="middle" font-family="sans-serif" font-size="12" transform="rotate(-90 16 ${mid})">${escapeXml(label)}</text>`,
  ];
}

function legend(names: readonly string[]): string[] {
  return names.map((name, i) => {
    const x = MARGIN.left + i * 170;
    const y = HEIGHT - 18;
    return (
      `<rect x="${x}" y="${y - 9}" width="12" height="12" fill="${PALETTE[i % PALETTE.length]}"/>` +
      `<text x="${x + 18}" y="${y + 1}" font-family="sans-serif" font-size="12">${escapeXml(name)}</text>`
    );
  });
}

/** A line per series over the x labels (a scenario's days), with optional reference lines. */
export function lineChart(input: LineChartInput): string {
  const format = input.formatY ?? compactNumber;
  const all = [
    ...input.series.flatMap((s) => s.values.filter((v): v is number => v !== undefined)),
    ...(input.references ?? []).map((r) => r.value),
  ];
  const { frame: f, ticks } = frame(all, false);
  const n = input.xLabels.length;
  const x = (i: number) => f.x0 + (n <= 1 ? (f.x1 - f.x0) / 2 : (i / (n - 1)) * (f.x1 - f.x0));
  const body = yAxis(f, ticks, input.yLabel, format);

  const every = Math.max(1, Math.ceil(n / 8));
  input.xLabels.forEach((label, i) => {
    if (i % every !== 0 && i !== n - 1) return;
    const xi = x(i).toFixed(1);
    const anchor = n > 1 && i === n - 1 ? "end" : n > 1 && i === 0 ? "start" : "middle";
    body.push(
      `<text x="${xi}" y="${f.y0 + 16}" text-anchor="${anchor}" font-family="sans-serif" font-size="10">${escapeXml(label)}</text>`,
    );
  });
  for (const ref of input.references ?? []) {
    const y = f.y(ref.value).toFixed(1);
    body.push(
      `<line x1="${f.x0}" y1="${y}" x2="${f.x1}" y2="${y}" stroke="#999999" stroke-dasharray="6 4"/>` +
        `<text x="${f.x1 - 4}" y="${Number(y) - 4}" text-anchor="end" font-family="sans-serif" font-size="11" fill="#666666">${escapeXml(ref.name)}</text>`,
    );
  }
  input.series.forEach((series, s) => {
    const segments: string[][] = [[]];
    series.values.forEach((v, i) => {
      if (v === undefined || !Number.isFinite(v)) segments.push([]);
      else segments[segments.length - 1].push(`${x(i).toFixed(1)},${f.y(v).toFixed(1)}`);
    });
    for (const points of segments.filter((seg) => seg.length > 0)) {
      body.push(
        `<polyline fill="none" stroke="${PALETTE[s % PALETTE.length]}" stroke-width="2" points="${points.join(" ")}"/>`,
      );
    }
  });
  body.push(...legend(input.series.map((s) => s.name)));
  return document(input.title, body);
}

/** Grouped bars: one group per category, one bar per series. */
export function barChart(input: BarChartInput): string {
  const format = input.formatY ?? compactNumber;
  const { frame: f, ticks } = frame(
    input.series.flatMap((s) => s.values),
    true,
  );
  const body = yAxis(f, ticks, input.yLabel, format);
  const groups = Math.max(1, input.categories.length);
  const groupWidth = (f.x1 - f.x0) / groups;
  const barWidth = (groupWidth * 0.8) / Math.max(1, input.series.length);
  input.categories.forEach((category, g) => {
    const gx = f.x0 + g * groupWidth;
    input.series.forEach((series, s) => {
      const value = series.values[g] ?? 0;
      const top = f.y(Math.max(0, value));
      const height = Math.abs(f.y(value) - f.y(0));
      body.push(
        `<rect x="${(gx + groupWidth * 0.1 + s * barWidth).toFixed(1)}" y="${top.toFixed(1)}" width="${barWidth.toFixed(1)}" height="${height.toFixed(1)}" fill="${PALETTE[s % PALETTE.length]}"><title>${escapeXml(`${series.name}: ${format(value)}`)}</title></rect>`,
      );
    });
    body.push(
      `<text x="${(gx + groupWidth / 2).toFixed(1)}" y="${f.y0 + 16}" text-anchor="middle" font-family="sans-serif" font-size="11">${escapeXml(category)}</text>`,
    );
  });
  body.push(...legend(input.series.map((s) => s.name)));
  return document(input.title, body);
}
