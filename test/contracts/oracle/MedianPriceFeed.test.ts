import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { TypedDataEncoder, recoverAddress } from "ethers";
import { deployCoreFixture } from "../../helpers/fixtures";
import { feedPrice, routerPrice } from "../../helpers/oracle";
import { ROLE, feedKey } from "../../../scripts/deploy/index";
import {
  MedianPriceFeed__factory,
  OracleChainlinkConsumer__factory,
  OracleRouter__factory,
  type MedianPriceFeed,
} from "../../../typechain-types";
import {
  OBSERVATION_TYPES,
  feedDomain,
  signObservation,
  type TypedDataSigner,
} from "../../../offchain/oracle/observation";

const CHAIN_ID = 31337n;

async function feedFixture() {
  const fx = await deployCoreFixture();
  const feed = MedianPriceFeed__factory.connect(fx.record.contracts[feedKey("mbBANK")], fx.actors.users[0]);
  const otherFeed = MedianPriceFeed__factory.connect(fx.record.contracts[feedKey("mbTECH")], fx.actors.users[0]);
  const router = OracleRouter__factory.connect(fx.record.contracts.OracleRouter, fx.actors.users[0]);
  // Two extra reporters for 5-reporter cases.
  const extra = fx.actors.users.slice(5, 7);
  for (const r of extra) await fx.manager.grantRole(ROLE.ORACLE_REPORTER, r.address, 0);
  return { fx, feed, otherFeed, router, reporters: [...fx.actors.reporters, ...extra] };
}

/** Signs one observation per (signer, price) for `roundId`, observed now unless `observedAt` is given. */
async function observations(
  feed: MedianPriceFeed,
  roundId: bigint,
  entries: [TypedDataSigner, string][],
  opts: { observedAt?: bigint; chainId?: bigint; feedAddress?: string } = {},
) {
  const observedAt = opts.observedAt ?? BigInt(await time.latest());
  return Promise.all(
    entries.map(([signer, price]) =>
      signObservation(signer, {
        feed: opts.feedAddress ?? (feed.target as string),
        chainId: opts.chainId ?? CHAIN_ID,
        roundId,
        answer: feedPrice(price),
        observedAt,
      }),
    ),
  );
}

/** Address the feed recovers from `sig` for an observation claimed for this feed and chain. */
async function recoveredBy(feed: MedianPriceFeed, roundId: bigint, answer: bigint, observedAt: bigint, sig: string) {
  const digest = TypedDataEncoder.hash(feedDomain(feed.target as string, CHAIN_ID), OBSERVATION_TYPES, {
    feed: feed.target,
    roundId,
    answer,
    observedAt,
  });
  return recoverAddress(digest, sig);
}

describe("MedianPriceFeed", () => {
  describe("AggregatorV3Interface", () => {
    it("describes itself with 8 decimals", async () => {
      const { feed } = await loadFixture(feedFixture);
      expect([await feed.decimals(), await feed.description(), await feed.version()]).to.deep.equal([
        8n,
        "mbBANK / CNY",
        1n,
      ]);
    });

    it("reverts latestRoundData before the first report and getRoundData for an unknown round", async () => {
      const { feed } = await loadFixture(feedFixture);
      await expect(feed.latestRoundData()).to.be.revertedWithCustomError(feed, "FeedNoData");
      await expect(feed.getRoundData(0)).to.be.revertedWithCustomError(feed, "FeedUnknownRound").withArgs(0);
      await expect(feed.getRoundData(1)).to.be.revertedWithCustomError(feed, "FeedUnknownRound").withArgs(1);
    });

    it("matches the EIP-712 digest ethers computes", async () => {
      const { feed } = await loadFixture(feedFixture);
      const value = { feed: feed.target, roundId: 7n, answer: 123n, observedAt: 456n };
      expect(await feed.observationDigest(7n, 123n, 456n)).to.equal(
        TypedDataEncoder.hash(feedDomain(feed.target as string, CHAIN_ID), OBSERVATION_TYPES, value),
      );
    });
  });

  describe("transmit", () => {
    it("lets anyone relay a quorum report and stores the median as round 1 with Chainlink round semantics", async () => {
      const { feed, reporters, fx } = await loadFixture(feedFixture);
      const [a, b, c] = reporters;
      const observedAt = BigInt(await time.latest()) - 10n;
      const obs = await observations(
        feed,
        1n,
        [
          [a, "10.02"],
          [b, "10.00"],
          [c, "10.05"],
        ],
        { observedAt },
      );
      const tx = feed.transmit(1n, obs);
      await expect(tx)
        .to.emit(feed, "AnswerUpdated")
        .withArgs(feedPrice("10.02"), 1n, observedAt)
        .and.to.emit(feed, "NewRound")
        .withArgs(1n, fx.actors.users[0].address, observedAt)
        .and.to.emit(feed, "ReportAccepted")
        .withArgs(
          1n,
          feedPrice("10.02"),
          [a.address, b.address, c.address],
          obs.map((o) => o.answer),
        );
      // A round is as fresh as its oldest observation, not as its relay.
      expect(await feed.latestRoundData()).to.deep.equal([1n, feedPrice("10.02"), observedAt, observedAt, 1n]);
      expect(await feed.getRoundData(1n)).to.deep.equal([1n, feedPrice("10.02"), observedAt, observedAt, 1n]);
      expect(await feed.latestRound()).to.equal(1n);
    });

    it("increases round ids and keeps past rounds", async () => {
      const { feed, reporters } = await loadFixture(feedFixture);
      const [a, b, c] = reporters;
      await feed.transmit(
        1n,
        await observations(feed, 1n, [
          [a, "10"],
          [b, "10"],
          [c, "10"],
        ]),
      );
      await feed.transmit(
        2n,
        await observations(feed, 2n, [
          [a, "11"],
          [b, "11"],
          [c, "11"],
        ]),
      );
      expect((await feed.latestRoundData())[0]).to.equal(2n);
      expect((await feed.getRoundData(1n))[1]).to.equal(feedPrice("10"));
      expect((await feed.getRoundData(2n))[1]).to.equal(feedPrice("11"));
      await expect(feed.getRoundData(3n)).to.be.revertedWithCustomError(feed, "FeedUnknownRound").withArgs(3n);
    });

    it("rejects a round id that does not advance by one: replay, stale and skipping", async () => {
      const { feed, reporters } = await loadFixture(feedFixture);
      const [a, b, c] = reporters;
      const first = await observations(feed, 1n, [
        [a, "10"],
        [b, "10"],
        [c, "10"],
      ]);
      await feed.transmit(1n, first);
      await expect(feed.transmit(1n, first)).to.be.revertedWithCustomError(feed, "FeedInvalidRound").withArgs(1n, 2n);
      const skip = await observations(feed, 3n, [
        [a, "10"],
        [b, "10"],
        [c, "10"],
      ]);
      await expect(feed.transmit(3n, skip)).to.be.revertedWithCustomError(feed, "FeedInvalidRound").withArgs(3n, 2n);
    });

    it("rejects a report for round 2 carrying round-1 signatures (they recover to other addresses)", async () => {
      const { feed, reporters } = await loadFixture(feedFixture);
      const [a, b, c] = reporters;
      const first = await observations(feed, 1n, [
        [a, "10"],
        [b, "10"],
        [c, "10"],
      ]);
      await feed.transmit(1n, first);
      const stranger = await recoveredBy(feed, 2n, first[0].answer, first[0].observedAt, first[0].signature);
      await expect(feed.transmit(2n, first))
        .to.be.revertedWithCustomError(feed, "FeedUnknownSigner")
        .withArgs(stranger);
    });

    it("requires the quorum of distinct reporters", async () => {
      const { feed, reporters } = await loadFixture(feedFixture);
      const [a, b] = reporters;
      const obs = await observations(feed, 1n, [
        [a, "10"],
        [b, "10"],
      ]);
      await expect(feed.transmit(1n, obs)).to.be.revertedWithCustomError(feed, "FeedQuorumNotMet").withArgs(2, 3);
    });

    it("rejects the same reporter twice", async () => {
      const { feed, reporters } = await loadFixture(feedFixture);
      const [a, b] = reporters;
      const obs = await observations(feed, 1n, [
        [a, "10"],
        [b, "10"],
        [a, "10.5"],
      ]);
      await expect(feed.transmit(1n, obs))
        .to.be.revertedWithCustomError(feed, "FeedDuplicateSigner")
        .withArgs(a.address);
    });

    it("rejects a signer without the ORACLE_REPORTER role, and one whose role was revoked", async () => {
      const { feed, reporters, fx } = await loadFixture(feedFixture);
      const [a, b, c] = reporters;
      const outsider = fx.actors.users[0];
      const obs = await observations(feed, 1n, [
        [a, "10"],
        [outsider, "10"],
        [c, "10"],
      ]);
      await expect(feed.transmit(1n, obs))
        .to.be.revertedWithCustomError(feed, "FeedUnknownSigner")
        .withArgs(outsider.address);
      await fx.manager.revokeRole(ROLE.ORACLE_REPORTER, b.address);
      const obs2 = await observations(feed, 1n, [
        [a, "10"],
        [b, "10"],
        [c, "10"],
      ]);
      await expect(feed.transmit(1n, obs2))
        .to.be.revertedWithCustomError(feed, "FeedUnknownSigner")
        .withArgs(b.address);
    });

    it("dates a round by its oldest observation: an observation a relayer held back goes stale on time", async () => {
      const { feed, router, reporters, fx } = await loadFixture(feedFixture);
      const [a, b, c] = reporters;
      const bank = fx.record.contracts.mbBANK;
      const observedAt = BigInt(await time.latest()) - 290n; // within the feed's 300 s window
      const obs = await observations(
        feed,
        1n,
        [
          [a, "10"],
          [b, "10"],
          [c, "10"],
        ],
        { observedAt },
      );
      await feed.transmit(1n, obs);
      expect((await feed.latestRoundData())[3]).to.equal(observedAt);
      // The router's 3,600 s staleness runs from the observation, not from the relay 290 s later.
      await time.increaseTo(observedAt + 3_601n);
      expect((await router.getPrice(bank))[1]).to.equal(1n); // Stale
    });

    it("refuses a report whose oldest observation precedes the current round", async () => {
      const { feed, reporters } = await loadFixture(feedFixture);
      const [a, b, c] = reporters;
      const now = BigInt(await time.latest());
      const first = await observations(
        feed,
        1n,
        [
          [a, "10"],
          [b, "10"],
          [c, "10"],
        ],
        { observedAt: now - 10n },
      );
      await feed.transmit(1n, first);
      // Signed for round 2, but observed before round 1's answer: a relayer kept them back to choose from.
      const older = await observations(
        feed,
        2n,
        [
          [a, "11"],
          [b, "11"],
          [c, "11"],
        ],
        { observedAt: now - 60n },
      );
      await expect(feed.transmit(2n, older))
        .to.be.revertedWithCustomError(feed, "FeedObservationBeforeLatest")
        .withArgs(now - 60n, now - 10n);
    });

    it("rejects stale and future observation timestamps", async () => {
      const { feed, reporters } = await loadFixture(feedFixture);
      const [a, b, c] = reporters;
      const now = BigInt(await time.latest());
      const old = now - 400n; // window: 300 s old
      const stale = await observations(
        feed,
        1n,
        [
          [a, "10"],
          [b, "10"],
          [c, "10"],
        ],
        { observedAt: old },
      );
      await expect(feed.transmit(1n, stale))
        .to.be.revertedWithCustomError(feed, "FeedStaleObservation")
        .withArgs(a.address, old);
      const ahead = now + 60n; // window: 15 s ahead
      const future = await observations(
        feed,
        1n,
        [
          [a, "10"],
          [b, "10"],
          [c, "10"],
        ],
        { observedAt: ahead },
      );
      await expect(feed.transmit(1n, future))
        .to.be.revertedWithCustomError(feed, "FeedFutureObservation")
        .withArgs(a.address, ahead);
    });

    it("rejects signatures made for another feed or another chain", async () => {
      const { feed, otherFeed, reporters } = await loadFixture(feedFixture);
      const [a, b, c] = reporters;
      const entries: [TypedDataSigner, string][] = [
        [a, "10"],
        [b, "10"],
        [c, "10"],
      ];
      for (const opts of [{ feedAddress: otherFeed.target as string }, { chainId: 1n }]) {
        const obs = await observations(feed, 1n, entries, opts);
        const who = await recoveredBy(feed, 1n, obs[0].answer, obs[0].observedAt, obs[0].signature);
        expect(who).not.to.equal(a.address);
        await expect(feed.transmit(1n, obs)).to.be.revertedWithCustomError(feed, "FeedUnknownSigner").withArgs(who);
      }
    });

    it("rejects an unparseable signature, a non-positive answer and more than 31 observations", async () => {
      const { feed, reporters } = await loadFixture(feedFixture);
      const [a, b, c] = reporters;
      const obs = await observations(feed, 1n, [
        [a, "10"],
        [b, "10"],
        [c, "10"],
      ]);
      const broken = [obs[0], { ...obs[1], signature: "0x" + "11".repeat(64) }, obs[2]];
      await expect(feed.transmit(1n, broken)).to.be.revertedWithCustomError(feed, "FeedInvalidSignature").withArgs(1);
      const zero = await observations(feed, 1n, [
        [a, "10"],
        [b, "0"],
        [c, "10"],
      ]);
      await expect(feed.transmit(1n, zero))
        .to.be.revertedWithCustomError(feed, "FeedInvalidAnswer")
        .withArgs(b.address, 0);
      // The latest round is kept in one slot with a 96-bit answer: 2**95 is refused, not truncated.
      const huge = await observations(feed, 1n, [
        [a, "10"],
        [b, "396140812571321687967.71975168"],
        [c, "10"],
      ]);
      await expect(feed.transmit(1n, huge))
        .to.be.revertedWithCustomError(feed, "FeedInvalidAnswer")
        .withArgs(b.address, 2n ** 95n);
      const many = Array.from({ length: 32 }, () => obs[0]);
      await expect(feed.transmit(1n, many)).to.be.revertedWithCustomError(feed, "FeedTooManyObservations").withArgs(32);
    });
  });

  describe("median", () => {
    it("keeps one lying reporter out of 3 inside the honest range, whichever way it lies", async () => {
      const { feed, reporters } = await loadFixture(feedFixture);
      const [a, b, liar] = reporters;
      await feed.transmit(
        1n,
        await observations(feed, 1n, [
          [a, "10.00"],
          [liar, "1000000"],
          [b, "10.04"],
        ]),
      );
      expect((await feed.latestRoundData())[1]).to.equal(feedPrice("10.04"));
      await feed.transmit(
        2n,
        await observations(feed, 2n, [
          [liar, "0.00000001"],
          [a, "10.00"],
          [b, "10.04"],
        ]),
      );
      expect((await feed.latestRoundData())[1]).to.equal(feedPrice("10.00"));
    });

    it("stays within the honest range for random honest prices and one random liar among 3, 4 and 5", async () => {
      const { feed, reporters } = await loadFixture(feedFixture);
      let seed = 11;
      const rand = (): number => {
        seed = (seed * 48271) % 2147483647;
        return seed / 2147483647;
      };
      let round = 0n;
      for (const n of [3, 4, 5, 3, 4, 5]) {
        const honest = Array.from({ length: n - 1 }, () => (9 + 2 * rand()).toFixed(8));
        const lie = rand() < 0.5 ? "0.00000001" : "99999999";
        const prices = [...honest];
        prices.splice(Math.floor(rand() * n), 0, lie);
        round++;
        await feed.transmit(
          round,
          await observations(
            feed,
            round,
            reporters.slice(0, n).map((r, i) => [r, prices[i]]),
          ),
        );
        const answer = (await feed.latestRoundData())[1];
        const honestUnits = honest.map(feedPrice);
        const min = honestUnits.reduce((x, y) => (x < y ? x : y));
        const max = honestUnits.reduce((x, y) => (x > y ? x : y));
        expect(answer >= min && answer <= max, `${prices.join(",")} → ${answer}`).to.equal(true);
      }
    });

    it("takes the mean of the two middle observations for an even count", async () => {
      const { feed, reporters } = await loadFixture(feedFixture);
      const [a, b, c, d] = reporters;
      await feed.transmit(
        1n,
        await observations(feed, 1n, [
          [a, "10"],
          [b, "13"],
          [c, "11"],
          [d, "12"],
        ]),
      );
      expect((await feed.latestRoundData())[1]).to.equal(feedPrice("11.5"));
    });
  });

  describe("administration", () => {
    it("lets only the risk officer set the quorum (1..31) and the observation window", async () => {
      const { feed, fx } = await loadFixture(feedFixture);
      const officer = feed.connect(fx.actors.riskOfficer);
      await expect(feed.setQuorum(2))
        .to.be.revertedWithCustomError(feed, "AccessManagedUnauthorized")
        .withArgs(fx.actors.users[0].address);
      await expect(officer.setQuorum(0)).to.be.revertedWithCustomError(feed, "FeedInvalidQuorum").withArgs(0);
      await expect(officer.setQuorum(32)).to.be.revertedWithCustomError(feed, "FeedInvalidQuorum").withArgs(32);
      await expect(officer.setQuorum(2)).to.emit(feed, "QuorumSet").withArgs(2);
      expect(await feed.quorum()).to.equal(2n);
      await expect(feed.setObservationWindow(60, 5)).to.be.revertedWithCustomError(feed, "AccessManagedUnauthorized");
      await expect(officer.setObservationWindow(60, 5)).to.emit(feed, "ObservationWindowSet").withArgs(60, 5);
      expect(await feed.observationWindow()).to.deep.equal([60n, 5n]);
    });
  });

  describe("consumers", () => {
    it("serves a consumer written from Chainlink's documentation unchanged", async () => {
      const { feed, reporters, fx } = await loadFixture(feedFixture);
      const [a, b, c] = reporters;
      const consumer = await new OracleChainlinkConsumer__factory(fx.actors.admin).deploy(feed.target);
      await feed.transmit(
        1n,
        await observations(feed, 1n, [
          [a, "10.10"],
          [b, "10.20"],
          [c, "10.30"],
        ]),
      );
      await feed.transmit(
        2n,
        await observations(feed, 2n, [
          [a, "10.40"],
          [b, "10.50"],
          [c, "10.60"],
        ]),
      );
      expect(await consumer.getChainlinkDataFeedLatestAnswer()).to.equal(feedPrice("10.50"));
      expect(await consumer.getHistoricalData(1n)).to.equal(feedPrice("10.20"));
      expect(await consumer.getCheckedPrice(3600)).to.equal(routerPrice("10.50"));
      expect(await consumer.describe()).to.deep.equal(["mbBANK / CNY", 8n, 1n]);
      await time.increase(7200);
      await expect(consumer.getCheckedPrice(3600)).to.be.revertedWith("stale price");
    });

    it("is the primary of the security in the OracleRouter, which scales it to 18 decimals", async () => {
      const { feed, reporters, router, fx } = await loadFixture(feedFixture);
      const [a, b, c] = reporters;
      const bank = fx.record.tokens.find((t) => t.symbol === "mbBANK")!.address;
      expect((await router.getPrice(bank))[1]).to.equal(1n); // Stale: no round yet
      await feed.transmit(
        1n,
        await observations(feed, 1n, [
          [a, "10.10"],
          [b, "10.20"],
          [c, "10.30"],
        ]),
      );
      await router.poke(bank);
      const [price, status] = await router.getPrice(bank);
      expect([price, status]).to.deep.equal([routerPrice("10.20"), 0n]);
    });
  });
});
