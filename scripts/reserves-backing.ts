/**
 * The capital provider's view, read from the chain only: per asset, the latest epoch's liabilities, reserves and
 * reserve ratio, and each token's supply against the custodian's attested holdings.
 *   npx ts-node --transpile-only scripts/reserves-backing.ts [--network localhost] [--rpc URL]
 */
import { parseArgs } from "node:util";
import { reserveFeedName } from "./deploy/index";
import { CustodianReserveFeed__factory, ReserveLedger__factory } from "../typechain-types";
import { deployment, provider, rpcUrl } from "./reserves-lib";

const ZERO = "0x0000000000000000000000000000000000000000";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { network: { type: "string", default: "localhost" }, rpc: { type: "string" } },
  });
  const record = deployment(values.network!);
  const rpc = provider(rpcUrl(values.rpc));
  try {
    const ledger = ReserveLedger__factory.connect(record.contracts.ReserveLedger, rpc);
    const epoch = await ledger.latestEpoch();
    const rec = epoch > 0n ? await ledger.getEpoch(epoch) : undefined;
    const rows = [];
    for (const token of record.tokens) {
      const backing = await ledger.tokenBacking(token.address);
      // The token's secure-mint feed when set, else the deployment's custodian feed for it (attested, not enforced).
      const feedAddress = backing.feed !== ZERO ? backing.feed : record.contracts[reserveFeedName(token.symbol)];
      const round = feedAddress
        ? await CustodianReserveFeed__factory.connect(feedAddress, rpc).latestRoundData()
        : undefined;
      const i = rec ? rec.assets.findIndex((a) => a.toLowerCase() === token.address.toLowerCase()) : -1;
      rows.push({
        symbol: token.symbol,
        supply: backing.supply.toString(),
        attested: round && round.roundId > 0n ? round.answer.toString() : null,
        attestedAt: round && round.roundId > 0n ? new Date(Number(round.updatedAt) * 1000).toISOString() : null,
        secureMint: backing.feed !== ZERO,
        ...(rec && i >= 0
          ? {
              epoch: epoch.toString(),
              liabilities: rec.liabilities[i].toString(),
              reserves: rec.reserves[i].toString(),
              reserveRatio18: (await ledger.reserveRatio(epoch, i)).toString(),
            }
          : {}),
      });
    }
    console.log(JSON.stringify(rows, null, 2));
  } finally {
    rpc.destroy();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
