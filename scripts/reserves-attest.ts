/**
 * The custodian attests its off-chain holdings of one asset to the token's CustodianReserveFeed (secure mint).
 *   npx ts-node --transpile-only scripts/reserves-attest.ts --symbol mbCNY --holdings <base units> --ref <statement id>
 *     [--network localhost] [--rpc URL]
 * Signs with MB_CUSTODIAN_KEY when set, else with the deployment's custodian account unlocked on a dev node.
 */
import { parseArgs } from "node:util";
import { id, Wallet } from "ethers";
import { reserveFeedName } from "./deploy/index";
import { CustodianReserveFeed__factory } from "../typechain-types";
import { deployment, provider, rpcUrl } from "./reserves-lib";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      symbol: { type: "string" },
      holdings: { type: "string" },
      ref: { type: "string" },
      network: { type: "string", default: "localhost" },
      rpc: { type: "string" },
    },
  });
  if (!values.symbol || !values.holdings || !values.ref) throw new Error("--symbol, --holdings and --ref are required");
  const record = deployment(values.network!);
  const feedAddress = record.contracts[reserveFeedName(values.symbol)];
  if (!feedAddress) throw new Error(`no reserve feed for ${values.symbol} in the deployment`);
  const rpc = provider(rpcUrl(values.rpc));
  try {
    const key = process.env.MB_CUSTODIAN_KEY;
    const signer = key ? new Wallet(key, rpc) : await rpc.getSigner(record.roles.custodian);
    const feed = CustodianReserveFeed__factory.connect(feedAddress, signer);
    const tx = await feed.attest(BigInt(values.holdings), id(values.ref));
    await tx.wait();
    const round = await feed.latestRoundData();
    console.log(
      JSON.stringify({
        symbol: values.symbol,
        feed: feedAddress,
        round: round.roundId.toString(),
        holdings: round.answer.toString(),
        tx: tx.hash,
      }),
    );
  } finally {
    rpc.destroy();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
