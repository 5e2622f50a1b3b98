import { deployAll, devRoleHolders, feedKey, ROLE } from "../../scripts/deploy/index";
import { MedianPriceFeed__factory, OracleRouter__factory, ProtocolAccessManager__factory } from "../../typechain-types";
import { signObservation } from "../../offchain/oracle/observation";
import { gasOf, type GasContext } from "./types";

/** MedianPriceFeed.transmit with 3, 5 and 7 signatures, and the router's poke absorbing one round. */
export async function measure({ hre, emit }: GasContext): Promise<void> {
  const signers = await hre.ethers.getSigners();
  const record = await deployAll(
    { deployer: signers[0], roles: await devRoleHolders(signers), riskDelaySeconds: 0 },
    "hardhat",
  );
  const manager = ProtocolAccessManager__factory.connect(record.contracts.AccessManager, signers[0]);
  const reporters = [...signers.slice(6, 9), ...signers.slice(10, 14)];
  for (const r of reporters.slice(3)) await (await manager.grantRole(ROLE.ORACLE_REPORTER, r.address, 0)).wait();
  const feed = MedianPriceFeed__factory.connect(record.contracts[feedKey("mbBANK")], signers[15]);
  const router = OracleRouter__factory.connect(record.contracts.OracleRouter, signers[15]);
  const bank = record.tokens.find((t) => t.symbol === "mbBANK")!.address;
  const chainId = BigInt(record.chainId);

  let round = 0n;
  for (const n of [3, 5, 7, 3, 5, 7]) {
    round++;
    const observedAt = BigInt((await hre.ethers.provider.getBlock("latest"))!.timestamp);
    const obs = await Promise.all(
      reporters.slice(0, n).map((r, i) =>
        signObservation(r, {
          feed: record.contracts[feedKey("mbBANK")],
          chainId,
          roundId: round,
          answer: 1_000_000_000n + BigInt(i) * 1_000_000n + round,
          observedAt,
        }),
      ),
    );
    const gas = await gasOf(feed.transmit(round, obs));
    // The first three rounds pay for a fresh storage slot per round like every later one; the first round also
    // writes the feed's latest-round slot from zero, so only rounds 4–6 are printed as steady state.
    if (round > 3n) emit({ contract: "MedianPriceFeed", method: "transmit", gas, signatures: n });
    const pokeGas = await gasOf(router.poke(bank));
    if (round > 3n) emit({ contract: "OracleRouter", method: "poke", gas: pokeGas, rounds: 1 });
  }
}
