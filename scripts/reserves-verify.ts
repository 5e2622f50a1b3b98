/**
 * Auditor / client verification against the chain; prints a PASS/FAIL report and exits 1 on any mismatch.
 *   npx ts-node --transpile-only scripts/reserves-verify.ts --data <data set dir>  [--rpc URL] [--ledger 0x…]
 *   npx ts-node --transpile-only scripts/reserves-verify.ts --proof <proof.json>   [--rpc URL] [--ledger 0x…]
 * The ledger address comes from the data itself; pass --ledger to insist on the official address.
 * A proof check runs offline plus read-only calls to the ledger on your own RPC: nobody else sees the balances.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import {
  auditClientProof,
  auditDataset,
  formatReport,
  HashPool,
  parseClientProof,
  readManifest,
  type AuditReport,
} from "../offchain/reserves";
import { ReserveLedger__factory } from "../typechain-types";
import { provider, rpcUrl } from "./reserves-lib";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      data: { type: "string" },
      proof: { type: "string" },
      rpc: { type: "string" },
      ledger: { type: "string" },
      threads: { type: "string" },
    },
  });
  if (!values.data === !values.proof) throw new Error("give exactly one of --data <dir> or --proof <file>");
  const rpc = provider(rpcUrl(values.rpc));
  try {
    let report: AuditReport;
    let title: string;
    let ledgerAddress: string;
    if (values.data) {
      ledgerAddress = readManifest(values.data).ledger;
      const pool = await HashPool.start(values.threads ? Number(values.threads) : undefined);
      try {
        report = await auditDataset(values.data, ReserveLedger__factory.connect(ledgerAddress, rpc), pool);
      } finally {
        await pool.close();
      }
      title = `data set ${values.data}`;
    } else {
      const file = parseClientProof(JSON.parse(readFileSync(values.proof!, "utf8")));
      ledgerAddress = file.ledger;
      report = await auditClientProof(file, ReserveLedger__factory.connect(ledgerAddress, rpc));
      title = `proof of ${file.account.accountId}, epoch ${file.epoch}`;
    }
    if (values.ledger && values.ledger.toLowerCase() !== ledgerAddress.toLowerCase()) {
      report = {
        ok: false,
        checks: [...report.checks, { name: "ledger is the official one", ok: false, detail: ledgerAddress }],
      };
    }
    console.log(formatReport(`Proof-of-reserves verification: ${title} (ledger ${ledgerAddress})`, report));
    return report.ok ? 0 : 1;
  } finally {
    rpc.destroy();
  }
}

main()
  .then((code) => (process.exitCode = code))
  .catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 2;
  });
