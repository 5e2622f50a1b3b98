/**
 * npm run bench -- reserves [--accounts 1000000] [--assets 3] [--impl a,b] [--oz-proofs] [--threads N]
 * Proof-of-reserves build and proof times against @openzeppelin/merkle-tree and merkletreejs on the same accounts
 * (single asset, plain inclusion), and the raw keccak floor. Each implementation runs in its own process so that
 * rss_mb is its own peak. JSON lines: {"bench":"reserves","impl",...,"accounts","build_s","proofs_s","rss_mb"}.
 * The OpenZeppelin build of 1,000,000 leaves takes about two minutes; its proofs (~390 s) only with --oz-proofs.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { parseArgs } from "node:util";

const IMPLS = ["keccak-floor", "marginbridge", "merkletreejs", "@openzeppelin/merkle-tree"];

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      accounts: { type: "string", default: "1000000" },
      assets: { type: "string", default: "3" },
      impl: { type: "string" },
      "oz-proofs": { type: "boolean", default: false },
      threads: { type: "string" },
    },
  });
  const impls = values.impl ? values.impl.split(",") : IMPLS;
  const tsNode = require.resolve("ts-node/dist/bin.js");
  const entry = path.join(__dirname, "reserves", "impl.ts");
  const results: Record<string, number> = {};
  for (const impl of impls) {
    const extra = [
      ...(values["oz-proofs"] ? ["--oz-proofs"] : []),
      ...(values.threads ? ["--threads", values.threads] : []),
    ];
    const child = spawnSync(
      process.execPath,
      [
        "--max-old-space-size=8192",
        tsNode,
        "--transpile-only",
        entry,
        impl,
        values.accounts!,
        values.assets!,
        ...extra,
      ],
      { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], cwd: path.join(__dirname, "..") },
    );
    if (child.status !== 0) throw new Error(`${impl} failed with status ${child.status}`);
    const line = child.stdout.trim().split("\n").pop()!;
    console.log(line);
    results[impl] = (JSON.parse(line) as { build_s: number }).build_s;
  }
  if (results.marginbridge && results["@openzeppelin/merkle-tree"]) {
    const speedup = results["@openzeppelin/merkle-tree"] / results.marginbridge;
    console.log(
      JSON.stringify({
        bench: "reserves",
        summary: "build speed-up vs @openzeppelin/merkle-tree",
        x: +speedup.toFixed(1),
      }),
    );
  }
}
