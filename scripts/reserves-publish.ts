/**
 * Snapshot, build, write the data set and publish the next proof-of-reserves epoch.
 *   npx ts-node --transpile-only scripts/reserves-publish.ts --liabilities <file.json>
 *     [--network localhost] [--rpc http://127.0.0.1:8545] [--data-dir data/reserves] [--min-depth N]
 *     [--uri <published URI>] [--no-plain] [--threads N]
 * Signs with MB_RESERVE_PUBLISHER_KEY when set, else with the deployment's reserve publisher account unlocked
 * on the node (dev chains). Prints the manifest as JSON on stdout; progress on stderr.
 */
import { parseArgs } from "node:util";
import { Wallet } from "ethers";
import { HashPool, JsonFileLiabilitySource, publishEpoch } from "../offchain/reserves";
import { ReserveLedger__factory } from "../typechain-types";
import { deployment, progressBar, provider, rpcUrl } from "./reserves-lib";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      liabilities: { type: "string" },
      network: { type: "string", default: "localhost" },
      rpc: { type: "string" },
      "data-dir": { type: "string", default: "data/reserves" },
      "min-depth": { type: "string" },
      uri: { type: "string" },
      "no-plain": { type: "boolean", default: false },
      threads: { type: "string" },
    },
  });
  if (!values.liabilities) throw new Error("--liabilities <file.json> is required");
  const record = deployment(values.network!);
  const rpc = provider(rpcUrl(values.rpc));
  const key = process.env.MB_RESERVE_PUBLISHER_KEY;
  const signer = key ? new Wallet(key, rpc) : await rpc.getSigner(record.roles.reservePublisher);
  const ledger = ReserveLedger__factory.connect(record.contracts.ReserveLedger, signer);
  const symbols = Object.fromEntries(record.tokens.map((t) => [t.symbol, t.address]));
  const source = new JsonFileLiabilitySource(
    values.liabilities,
    async () => BigInt(await rpc.send("eth_blockNumber", [])) /* uncached: the latest block */,
    symbols,
  );
  const pool = await HashPool.start(values.threads ? Number(values.threads) : undefined);
  try {
    const result = await publishEpoch({
      ledger,
      source,
      dataDir: values["data-dir"]!,
      uri: values.uri,
      minDepth: values["min-depth"] ? Number(values["min-depth"]) : undefined,
      plainExport: !values["no-plain"],
      pool,
      progress: progressBar(),
    });
    console.error(`published epoch ${result.manifest.epoch} (tx ${result.txHash}); data set in ${result.dir}`);
    console.log(JSON.stringify(result.manifest, null, 2));
  } finally {
    await pool.close();
    rpc.destroy();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
