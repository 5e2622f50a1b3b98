/**
 * npm run gas — runs every bench/gas/<domain>.ts on the in-process Hardhat network, prints one JSON line per
 * measured call ({"contract","method","gas",...}) and rewrites gas-snapshot.jsonl so changes show in review.
 */
import { readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import hre from "hardhat";
import type { GasLine, GasModule } from "../bench/gas/types";

async function main(): Promise<void> {
  const dir = path.join(__dirname, "..", "bench", "gas");
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".ts") && f !== "types.ts")
    .sort();
  const lines: GasLine[] = [];
  const emit = (line: GasLine): void => {
    lines.push(line);
    console.log(JSON.stringify(line));
  };
  for (const file of files) {
    const mod = (await import(path.join(dir, file))) as GasModule;
    await mod.measure({ hre, emit });
  }
  writeFileSync(
    path.join(__dirname, "..", "gas-snapshot.jsonl"),
    lines.map((l) => JSON.stringify(l)).join("\n") + "\n",
  );
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
