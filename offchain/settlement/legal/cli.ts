/**
 * Third-party tools, no service or chain needed:
 *   npx ts-node --transpile-only offchain/settlement/legal/cli.ts verify-evidence bundle.json [--root 0x..] [--audit-head 0x..]
 *   npx ts-node --transpile-only offchain/settlement/legal/cli.ts validate-pain001 payments.xml
 * Prints a JSON report; exits 0 when everything verifies, 1 otherwise, 2 on usage errors.
 */
import { readFileSync } from "node:fs";
import { validatePain001 } from "./pain001Validate";
import { verifyEvidenceBundle, type EvidenceBundle } from "./evidence";

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

export async function main(argv: string[]): Promise<number> {
  const [command, file, ...rest] = argv;
  if (!command || !file) {
    console.error(
      "usage: cli.ts verify-evidence <bundle.json> [--root 0x..] [--audit-head 0x..] | validate-pain001 <file.xml>",
    );
    return 2;
  }
  const text = readFileSync(file, "utf8");
  if (command === "verify-evidence") {
    const report = verifyEvidenceBundle(JSON.parse(text) as EvidenceBundle, {
      expectedRoot: flag(rest, "--root"),
      auditHead: flag(rest, "--audit-head"),
    });
    console.log(JSON.stringify(report, null, 2));
    return report.valid ? 0 : 1;
  }
  if (command === "validate-pain001") {
    const report = await validatePain001(text);
    console.log(JSON.stringify(report, null, 2));
    return report.valid ? 0 : 1;
  }
  console.error(`unknown command ${command}`);
  return 2;
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => process.exit(code));
