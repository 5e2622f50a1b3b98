/**
 * npm run bench -- <name> [args]: runs bench/<name>.ts, which prints JSON lines. Without a name, lists them.
 */
import { readdirSync } from "node:fs";
import path from "node:path";

async function main(): Promise<void> {
  const [name, ...args] = process.argv.slice(2);
  const available = readdirSync(__dirname)
    .filter((f) => f.endsWith(".ts") && f !== "run.ts")
    .map((f) => f.replace(/\.ts$/, ""));
  if (!name || !available.includes(name)) {
    console.error(`usage: npm run bench -- <${available.join("|")}> [args]`);
    process.exit(name ? 2 : 0);
  }
  const mod = (await import(path.join(__dirname, `${name}.ts`))) as { main(args: string[]): Promise<void> };
  await mod.main(args);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
