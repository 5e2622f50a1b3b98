import { expect } from "chai";
import hre from "hardhat";
import { Wallet } from "ethers";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { TxSender } from "../../../offchain/chain/sender";
import { silentLogger } from "../../../offchain/shared/logger";
import { volatilityFeedKey, type DeploymentRecord } from "../../../offchain/chain/deployment";
import {
  gridParameters,
  holdersOf,
  optionsChainAt,
  readPortfolioMargin,
  readSeries,
  roundStandingAt,
  settleExpiredSeries,
  writersOf,
} from "../../../offchain/options";
import { portfolioRequirement } from "../../../offchain/risk";
import { MarginEngine__factory, OptionMarket__factory, PortfolioRisk__factory } from "../../../typechain-types";
import { CNY, price } from "../../helpers/marginFixture";
import { FIXING_WINDOW, VOLATILITY, WAD, optionsFixture, type OptionsFixture } from "../../../fixtures/options";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";

const addr = (c: { getAddress(): Promise<string> }): Promise<string> => c.getAddress();

/** The fixture's deployment with its two series as option tokens and its settable volatility feed as mbBANK's. */
async function recordOf(fx: OptionsFixture): Promise<DeploymentRecord> {
  const option = async (t: typeof fx.put, symbol: string, isCall: boolean, strike: bigint) => ({
    symbol,
    name: symbol,
    address: await addr(t),
    decimals: 0,
    kind: "option" as const,
    liquidityTier: 3,
    option: {
      underlying: await addr(fx.bank),
      isCall,
      strike: strike.toString(),
      expiry: Number(fx.expiry),
      contractSize: 100,
      fixingWindow: FIXING_WINDOW,
      feed: (await fx.market.series(await addr(t))).feed,
    },
  });
  return {
    ...fx.record,
    deployBlock: 0,
    contracts: { ...fx.record.contracts, [volatilityFeedKey("mbBANK")]: await addr(fx.volatility) },
    tokens: [
      ...fx.record.tokens,
      await option(fx.put, "mbBANK-P9", false, 9n * WAD),
      await option(fx.call, "mbBANK-C11", true, 11n * WAD),
    ],
  };
}

async function sell(fx: OptionsFixture, token: typeof fx.put, buyer: HardhatEthersSigner, contracts: bigint) {
  const s = await addr(token);
  await fx.market.connect(fx.dealer).write(s, contracts);
  const [answer] = await fx.router.getPrice(s);
  const cost = (contracts * answer) / 10n ** 12n;
  await fx.fundAccount(buyer, fx.cash, cost);
  await fx.harness.trade(buyer.address, fx.dealer.address, s, contracts, cost);
}

describe("options service: series, portfolio-margin preview, automatic settlement", () => {
  async function setup() {
    const fx = await loadFixture(optionsFixture);
    const chain = optionsChainAt(hre.ethers.provider, await recordOf(fx));
    const key = Wallet.createRandom().connect(hre.ethers.provider);
    await fx.actors.admin.sendTransaction({ to: key.address, value: 10n ** 18n });
    const sender = new TxSender(
      key as unknown as Wallet,
      [OptionMarket__factory.createInterface(), MarginEngine__factory.createInterface()],
      { retries: 2, baseMs: 10, deadlineMs: 5_000 },
      silentLogger,
    );
    return { fx, chain, sender, key };
  }

  it("lists the series with the router's price, the reported volatility, open interest and state", async () => {
    const { fx, chain } = await setup();
    await sell(fx, fx.put, fx.clientA, 3n);
    const list = await readSeries(chain);
    expect(list.series.map((s) => [s.symbol, s.type, s.state])).to.deep.equal([
      ["mbBANK-P9", "put", "open"],
      ["mbBANK-C11", "call", "open"],
    ]);
    const put = list.series[0];
    expect(put.price).to.equal((await fx.router.getPrice(await addr(fx.put)))[0].toString());
    expect(put.priceStatus).to.equal("Safe");
    expect(put.impliedVolatility).to.equal(VOLATILITY.toString());
    expect(put.openInterest).to.equal("3");
    expect(put.lockPerContract).to.equal((900n * CNY).toString());
    expect(put.underlying).to.include({ symbol: "mbBANK", priceStatus: "Safe" });
  });

  it("previews the scenario grid's requirement of shares hedged by puts, below the engine's rule-based one", async () => {
    const { fx, chain } = await setup();
    await fx.fundAccount(fx.clientC, fx.bank, 2_000n);
    await sell(fx, fx.put, fx.clientC, 20n);
    const { groups } = await readPortfolioMargin(chain, fx.clientC.address);
    expect(groups).to.have.length(1);
    const g = groups[0];
    expect(g.legs).to.deep.equal([{ series: "mbBANK-P9", contracts: "20" }]);
    // the mirror by hand: 2,000 shares and 20 contracts of 100 at spot 10, σ 30%, range = mbBANK's maintenance (15%)
    const now = BigInt(await time.latest());
    const r = portfolioRequirement(
      2_000n,
      [{ isCall: false, strike: 9n * WAD, expiry: fx.expiry, contracts: 20n, contractSize: 100n }],
      { spot: 10n * WAD, volatility: VOLATILITY, rate: 0n, timestamp: now },
      gridParameters((15n * WAD) / 100n),
    );
    expect(g.portfolioRequirement).to.equal(((r.requirement + 10n ** 12n - 1n) / 10n ** 12n).toString());
    // ≈ 2,022.75 CNY (docs/margin.md's worked example, a fifth of it) against 15% of 20,000 + 15% of the puts
    expect(Number(g.portfolioRequirement) / 1e6).to.be.closeTo(2_022.75, 1);
    expect(BigInt(g.portfolioRequirement)).to.be.lessThan(BigInt(g.ruleBasedMaintenance));
    expect(BigInt(g.ruleBasedMaintenance)).to.be.greaterThan(3_000n * CNY);
    // an account without contracts has no hedged group
    expect((await readPortfolioMargin(chain, fx.clientB.address)).groups).to.deep.equal([]);
    // once C opts into portfolio margin the engine applies the grid: its requirement is the group's (one rate spread
    // over the two positions rounds up by at most a unit each; the engine's call may run a second later, 0.3 CNY of
    // the puts' time value)
    const before = await readPortfolioMargin(chain, fx.clientC.address);
    expect(before.portfolioMargined).to.equal(false);
    expect(BigInt(before.maintenanceReq)).to.equal(BigInt(g.ruleBasedMaintenance));
    await PortfolioRisk__factory.connect(fx.record.contracts.PortfolioRisk, fx.clientC).setPortfolioMargin(true);
    const after = await readPortfolioMargin(chain, fx.clientC.address);
    expect(after.portfolioMargined).to.equal(true);
    expect(Number(after.maintenanceReq) / 1e6).to.be.closeTo(Number(after.groups[0].portfolioRequirement) / 1e6, 0.5);
  });

  it("settles every expired series once: fix from the standing round, exercise the holders, release the writers", async () => {
    const { fx, chain, sender, key } = await setup();
    const put = await addr(fx.put);
    await sell(fx, fx.put, fx.clientA, 3n);
    await sell(fx, fx.put, fx.clientB, 2n);
    await sell(fx, fx.call, fx.clientA, 1n);
    // nothing to do before the window ends
    expect(await settleExpiredSeries({ chain, sender, log: silentLogger })).to.deep.equal({
      fixed: [],
      exercised: 0,
      released: 0,
    });
    await time.increaseTo(fx.expiry - 50n);
    await fx.setPrice(fx.bank, price(8)); // standing at expiry: 8
    const standing = await fx.feeds.get(await addr(fx.bank))!.latestRound();
    await time.increaseTo(fx.expiry + 600n);
    await fx.setPrice(fx.bank, price(7)); // 7 from expiry + 600 (+1 s for the poke's block)
    await time.increaseTo(fx.expiry + BigInt(FIXING_WINDOW) + 1n);
    expect(await roundStandingAt(chain, await addr(fx.bank), Number(fx.expiry))).to.equal(standing);
    expect(await holdersOf(chain, put)).to.deep.equal(
      [fx.clientA.address, fx.clientB.address].map((a) => a.toLowerCase()).sort(),
    );
    expect(await writersOf(chain, put)).to.deep.equal([fx.dealer.address.toLowerCase()]);

    const cash = await addr(fx.cash);
    const [a0, b0, d0] = await Promise.all(
      [fx.clientA, fx.clientB, fx.dealer].map((u) => fx.engine.balanceOf(u.address, cash)),
    );
    const out = await settleExpiredSeries({ chain, sender, log: silentLogger });
    expect(out).to.deep.equal({ fixed: ["mbBANK-P9", "mbBANK-C11"], exercised: 3, released: 2 });
    const s = await fx.market.series(put);
    expect(s.fixed_).to.equal(true);
    const pay = s.payPerContract; // (9 − S) × 100 with S between 7 and 8
    expect(pay)
      .to.be.greaterThan(100n * CNY)
      .and.lessThan(200n * CNY);
    expect(await fx.engine.balanceOf(fx.clientA.address, cash)).to.equal(a0 + 3n * pay);
    expect(await fx.engine.balanceOf(fx.clientB.address, cash)).to.equal(b0 + 2n * pay);
    expect(await fx.engine.balanceOf(fx.dealer.address, cash)).to.equal(d0 + 5n * (900n * CNY - pay));
    expect(await fx.engine.balanceOf(await addr(fx.market), cash)).to.equal(0n);
    expect(await fx.put.totalSupply()).to.equal(0n);
    expect(await fx.call.totalSupply()).to.equal(0n); // worthless, returned and burned
    // a second run finds nothing left to do and sends nothing
    const sent = await hre.ethers.provider.getTransactionCount(key.address);
    expect(await settleExpiredSeries({ chain, sender, log: silentLogger })).to.deep.equal({
      fixed: [],
      exercised: 0,
      released: 0,
    });
    expect(await hre.ethers.provider.getTransactionCount(key.address)).to.equal(sent);
    expect((await readSeries(chain)).series.map((x) => x.state)).to.deep.equal(["fixed", "fixed"]);
  });
});
