import { expect } from "chai";
import hre from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployCoreFixture, verify, type CoreFixture } from "../../helpers/fixtures";
import { reserveFeedName } from "../../../scripts/deploy/reserves";
import { CustodianReserveFeed__factory, type CustodianReserveFeed } from "../../../typechain-types";
import { ledgerOf } from "../../helpers/reserves";

const { ethers } = hre;
const DAY = 86_400;

interface SecureMintFixture extends CoreFixture {
  feed: CustodianReserveFeed;
  client: string;
}

async function secureMintFixture(): Promise<SecureMintFixture> {
  const fx = await deployCoreFixture();
  const feed = CustodianReserveFeed__factory.connect(
    fx.record.contracts[reserveFeedName("mbCNY")],
    fx.actors.custodian,
  );
  const client = fx.actors.users[0].address;
  await verify(fx, client);
  await expect(fx.cash.setReserveFeed(await feed.getAddress(), DAY))
    .to.emit(fx.cash, "ReserveFeedSet")
    .withArgs(await feed.getAddress(), DAY);
  return { ...fx, feed, client };
}

describe("CustodianReserveFeed", () => {
  it("publishes the custodian's holdings as Chainlink rounds", async () => {
    const { feed } = await loadFixture(secureMintFixture);
    expect(await feed.decimals()).to.equal(6n);
    expect(await feed.description()).to.equal("mbCNY custody reserves");
    const ref = ethers.id("bank-statement-2026-11-23");
    const tx = feed.attest(1_000_000n, ref);
    const at = BigInt((await time.latest()) + 1);
    await expect(tx).to.emit(feed, "HoldingsAttested").withArgs(1n, 1_000_000n, ref, at);
    await feed.attest(2_000_000n, ref);
    const latest = await feed.latestRoundData();
    expect(latest.roundId).to.equal(2n);
    expect(latest.answer).to.equal(2_000_000n);
    expect((await feed.getRoundData(1n)).answer).to.equal(1_000_000n);
    await expect(feed.getRoundData(3n)).to.be.revertedWithCustomError(feed, "ReserveFeedUnknownRound").withArgs(3n);
  });

  it("is written only by the custodian, and only with a positive int256 amount", async () => {
    const { feed, actors } = await loadFixture(secureMintFixture);
    const outsider = actors.operator;
    await expect(feed.connect(outsider).attest(1n, ethers.ZeroHash))
      .to.be.revertedWithCustomError(feed, "AccessManagedUnauthorized")
      .withArgs(outsider.address);
    await expect(feed.attest(0n, ethers.ZeroHash))
      .to.be.revertedWithCustomError(feed, "ReserveFeedInvalidAnswer")
      .withArgs(0n);
    await expect(feed.attest(ethers.MaxUint256, ethers.ZeroHash))
      .to.be.revertedWithCustomError(feed, "ReserveFeedInvalidAnswer")
      .withArgs(ethers.MaxUint256);
  });
});

describe("CollateralToken secure mint", () => {
  it("mints up to the attested reserves and refuses a mint above them", async () => {
    const { cash, feed, actors, client } = await loadFixture(secureMintFixture);
    await feed.attest(1_000_000n, ethers.id("statement"));
    const custodian = cash.connect(actors.custodian);
    await expect(custodian.mint(client, 600_000n, ethers.id("d1"))).to.changeTokenBalance(cash, client, 600_000n);
    await expect(custodian.mint(client, 400_001n, ethers.id("d2")))
      .to.be.revertedWithCustomError(cash, "CollateralMintExceedsReserves")
      .withArgs(1_000_001n, 1_000_000n);
    await expect(custodian.mint(client, 400_000n, ethers.id("d2")))
      .to.emit(cash, "Minted")
      .withArgs(client, 400_000n, ethers.id("d2"));
    expect(await cash.totalSupply()).to.equal(1_000_000n);
  });

  it("refuses to mint without an attestation or on a stale one", async () => {
    const { cash, feed, actors, client } = await loadFixture(secureMintFixture);
    const custodian = cash.connect(actors.custodian);
    await expect(custodian.mint(client, 1n, ethers.id("d1")))
      .to.be.revertedWithCustomError(cash, "CollateralReservesUnavailable")
      .withArgs(0n, 0n);
    await feed.attest(5_000n, ethers.id("statement"));
    const attestedAt = BigInt(await time.latest());
    await time.increase(DAY + 1);
    await expect(custodian.mint(client, 1n, ethers.id("d1")))
      .to.be.revertedWithCustomError(cash, "CollateralReservesUnavailable")
      .withArgs(5_000n, attestedAt);
  });

  it("mints freely once the admin removes the feed; only the admin sets it", async () => {
    const { cash, actors, client } = await loadFixture(secureMintFixture);
    await expect(cash.connect(actors.operator).setReserveFeed(ethers.ZeroAddress, 0))
      .to.be.revertedWithCustomError(cash, "AccessManagedUnauthorized")
      .withArgs(actors.operator.address);
    await cash.setReserveFeed(ethers.ZeroAddress, 0);
    await expect(cash.connect(actors.custodian).mint(client, 10n, ethers.id("d1"))).to.changeTokenBalance(
      cash,
      client,
      10n,
    );
  });

  it("shows capital providers supply against attested reserves per token", async () => {
    const fx = await loadFixture(secureMintFixture);
    const ledger = ledgerOf(fx);
    await fx.feed.attest(900n, ethers.id("statement"));
    const attestedAt = BigInt(await time.latest());
    await fx.cash.connect(fx.actors.custodian).mint(fx.client, 700n, ethers.id("d1"));
    const backing = await ledger.tokenBacking(await fx.cash.getAddress());
    expect([backing.supply, backing.attested, backing.attestedAt, backing.feed]).to.deep.equal([
      700n,
      900n,
      attestedAt,
      await fx.feed.getAddress(),
    ]);
    const bank = await ledger.tokenBacking(await fx.securities[0].getAddress());
    expect([bank.supply, bank.attested, bank.feed]).to.deep.equal([0n, 0n, ethers.ZeroAddress]);
  });
});
