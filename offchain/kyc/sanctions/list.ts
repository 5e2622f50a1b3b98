import { readFileSync } from "node:fs";
import path from "node:path";
import { AppError } from "../../shared/errors";

/** One row of the OFAC SDN list (sdn.csv): ent_num, SDN_Name, SDN_Type, Program, Title, … Remarks. */
export interface SdnEntry {
  entNum: string;
  name: string;
  type: string;
  program: string;
  /** Name tokens after normalisation (see normaliseName). */
  tokens: string[];
}

export const SAMPLE_SDN_FILE = path.join(__dirname, "sdn-sample.csv");

/** RFC 4180 fields ("" escapes a quote inside a quoted field); OFAC writes "-0- " for an empty value. */
export function parseCsvLine(line: string): string[] {
  const out: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      out.push(field);
      field = "";
    } else field += ch;
  }
  out.push(field);
  return out.map((f) => (f.trim() === "-0-" ? "" : f));
}

/**
 * Lower case, accents removed (NFKD), punctuation to spaces, tokens sorted: "MÜLLER, Jürgen" and
 * "jurgen muller" normalise to the same tokens. Order is dropped because lists write "LAST, First".
 */
export function normaliseName(name: string): string[] {
  return name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/['"]/g, "")
    .replace(/[^a-z0-9\u4e00-\u9fff]+/g, " ")
    .trim()
    .split(" ")
    .filter((t) => t.length > 0)
    .sort();
}

export function parseSdnCsv(text: string): SdnEntry[] {
  const entries: SdnEntry[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim() || line.charCodeAt(0) === 0x1a) continue;
    const f = parseCsvLine(line);
    if (f.length < 4 || !/^[0-9]+$/.test(f[0].trim())) continue;
    entries.push({ entNum: f[0].trim(), name: f[1], type: f[2], program: f[3], tokens: normaliseName(f[1]) });
  }
  return entries;
}

export function loadSdnFile(file = SAMPLE_SDN_FILE): SdnEntry[] {
  try {
    return parseSdnCsv(readFileSync(file, "utf8"));
  } catch (err) {
    throw new AppError("CONFIG_INVALID", `cannot read the sanctions list ${file}`, { cause: err });
  }
}
