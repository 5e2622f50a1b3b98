import { expect } from "chai";
import { readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { splitByDuration } from "../../../scripts/test";

const ROOT = path.join(__dirname, "..", "..", "..");

function files(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir)).flatMap((entry) => {
    const rel = path.join(dir, entry);
    if (statSync(path.join(ROOT, rel)).isDirectory()) return files(rel);
    return rel.endsWith(".ts") ? [rel] : [];
  });
}

/**
 * The fixed TCP ports a file declares: numbers 8000–19999 on a line that names a port (`CHAIN_PORT = 8771`,
 * `API_PORTS = { sqlite: 18143, postgres: 18144 }`, `port: engine === "SQLite" ? 18835 : 18836`).
 */
function declaredPorts(file: string): number[] {
  const out: number[] = [];
  for (const line of readFileSync(path.join(ROOT, file), "utf8").split("\n")) {
    if (!/port/i.test(line)) continue;
    for (const m of line.matchAll(/\b(8\d{3}|9\d{3}|1\d{4})\b/g)) out.push(Number(m[1]));
  }
  return out;
}

/**
 * `npm test` runs the service test files in two processes at once (scripts/test.ts): two files that listen on the
 * same port would meet whenever the split puts them in different groups, which it may do after any change of
 * the recorded durations. So no port is declared by two files, nor by a shared helper.
 */
describe("test ports: every service test file has its own", () => {
  it("no fixed port is declared by two test files or by a helper", () => {
    const users = new Map<number, Set<string>>();
    const self = path.relative(ROOT, __filename);
    const all = [...files("test/offchain"), ...files("test/e2e"), ...files("test/helpers")].filter((f) => f !== self);
    for (const file of all) {
      for (const port of declaredPorts(file)) users.set(port, (users.get(port) ?? new Set()).add(file));
    }
    const shared = [...users]
      .filter(([, who]) => who.size > 1 || [...who].some((f) => f.startsWith(path.join("test", "helpers"))))
      .map(([port, who]) => `${port}: ${[...who].join(", ")}`);
    expect(shared, "ports declared more than once").to.deep.equal([]);
    expect(users.size, "the check sees the files' ports").to.be.above(50);
  });

  it("splits the files into groups of about equal recorded time, the timing-bound files in the first", () => {
    const durations = {
      "a.test.ts": 100,
      "b.test.ts": 60,
      "c.test.ts": 50,
      "d.test.ts": 10,
      "test/e2e/production.test.ts": 80,
    };
    const [first, second] = splitByDuration(Object.keys(durations), durations, 2);
    expect(first).to.include("test/e2e/production.test.ts");
    const total = (g: string[]) => g.reduce((s, f) => s + durations[f as keyof typeof durations], 0);
    expect(Math.abs(total(first) - total(second))).to.be.at.most(30);
    expect([...first, ...second].sort()).to.deep.equal(Object.keys(durations).sort());
    // a file without a recorded duration counts as the median one, and is still placed
    const [x, y] = splitByDuration(["new.test.ts", ...Object.keys(durations)], durations, 2);
    expect([...x, ...y]).to.include("new.test.ts");
  });
});
