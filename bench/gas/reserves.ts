import type { GasContext } from "./types";
import { gasOf } from "./types";
import { deployAll, devRoleHolders, reserveFeedName } from "../../scripts/deploy/index";
import { buildSumTree, snapshotId, toContractProof } from "../../offchain/reserves";
import {
  CollateralToken__factory,
  CustodianReserveFeed__factory,
  KycRegistry__factory,
  ReserveLedger__factory,
} from "../../typechain-types";

/** ReserveLedger.publish, on-chain proof verification by depth, custodian attestation and secure mint. */
export async function measure({ hre, emit }: GasContext): Promise<void> {
  const { ethers } = hre;
  const signers = await ethers.getSigners();
  const record = await deployAll(
    { deployer: signers[0], roles: await devRoleHolders(signers), riskDelaySeconds: 0 },
    "gas",
  );
  const [admin, , custodian, , , publisher] = signers;
  const ledger = ReserveLedger__factory.connect(record.contracts.ReserveLedger, publisher);
  const holders = [signers[11].address, signers[12].address, signers[13].address];
  emit({
    contract: "ReserveLedger",
    method: "setReserveHolders",
    gas: await gasOf(ledger.connect(admin).setReserveHolders(holders)),
    holders: holders.length,
  });

  const assets = await ledger.assets();
  const chainId = (await ethers.provider.getNetwork()).chainId;
  for (const depth of [10, 16, 20]) {
    const epoch = (await ledger.latestEpoch()) + 1n;
    const snapshotBlock = BigInt(await ethers.provider.getBlockNumber());
    const sid = snapshotId(chainId, await ledger.getAddress(), epoch, snapshotBlock);
    const accounts = Array.from({ length: 8 }, (_, i) => ({
      accountId: `gas-${i}`,
      secret: ethers.id(`gas-secret-${i}`),
      owed: assets.map((_, a) => BigInt((i + 1) * (a + 1) * 1000)),
      debt: assets.map((_, a) => (a === 0 ? BigInt(i * 100) : 0n)),
    }));
    const tree = await buildSumTree({ assets, snapshotBlock, accounts }, { snapshotId: sid, minDepth: depth });
    const input = {
      epoch,
      snapshotBlock,
      root: tree.root,
      depth: tree.depth,
      leafCount: tree.leafCount,
      liabilities: tree.totals.owed,
      debt: tree.totals.debt,
      dataHash: ethers.id(`data-${epoch}`),
      plainRoot: ethers.id(`plain-${epoch}`),
      uri: `https://reserves.example/31337/epoch-${epoch}`,
    };
    emit({
      contract: "ReserveLedger",
      method: "publish",
      gas: await gasOf(ledger.publish(input)),
      assets: assets.length,
      holders: holders.length,
      depth,
    });
    const p = tree.positionOf(3);
    const proof = toContractProof({
      accountCommitment: tree.commitmentAt(p),
      index: p,
      owed: accounts[3].owed,
      debt: accounts[3].debt,
      siblings: tree.path(p).siblings,
    });
    const gas = await ledger.verifyInclusion.estimateGas(epoch, proof);
    emit({ contract: "ReserveLedger", method: "verifyInclusion", gas: Number(gas), assets: assets.length, depth });
  }

  const feed = CustodianReserveFeed__factory.connect(record.contracts[reserveFeedName("mbCNY")], custodian);
  emit({
    contract: "CustodianReserveFeed",
    method: "attest",
    gas: await gasOf(feed.attest(10n ** 12n, ethers.id("statement-1"))),
  });
  const cash = CollateralToken__factory.connect(record.contracts.mbCNY, custodian);
  const kyc = KycRegistry__factory.connect(record.contracts.KycRegistry, signers[1]);
  const client = signers[14].address;
  const block = await ethers.provider.getBlock("latest");
  await (await kyc.setIdentity(client, 2, 156, block!.timestamp + 365 * 86400, ethers.id("client"))).wait();
  // A first mint warms the receiver's balance slot so that the two measured mints differ only by the check.
  await (await cash.mint(client, 1n, ethers.id("dep-0"))).wait();
  emit({
    contract: "CollateralToken",
    method: "mint",
    gas: await gasOf(cash.mint(client, 1_000_000n, ethers.id("dep-1"))),
    secureMint: false,
  });
  await (await cash.connect(admin).setReserveFeed(await feed.getAddress(), 86_400)).wait();
  emit({
    contract: "CollateralToken",
    method: "mint",
    gas: await gasOf(cash.mint(client, 1_000_000n, ethers.id("dep-2"))),
    secureMint: true,
  });
}
