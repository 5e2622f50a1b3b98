import { expect } from "chai";
import fc from "fast-check";
import hre from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { CNY, marginFixture, price, zeroRate, type MarginFixture } from "../../helpers/marginFixture";
import { optionsFixture, type OptionsFixture } from "../../../fixtures/options";
import { ROLE } from "../../../scripts/deploy/roles";
import { orderbookChain } from "../../../offchain/chain/orderbookChain";
import type { ChainGateway } from "../../../offchain/chain/gateway";
import { ChainRiskState } from "../../../offchain/orderbook/chainRiskState";
import { type InstrumentSpec, notional } from "../../../offchain/orderbook/instrument";
import { PreTradeRisk, type RiskLimits } from "../../../offchain/orderbook/risk";
import { Side, TimeInForce } from "../../../offchain/orderbook/types";
import { Rng } from "../../../offchain/risk";
import { PortfolioRisk__factory, type CollateralToken } from "../../../typechain-types";

/**
 * Issue 23, one risk model: pre-trade risk over the chain (ChainRiskState reading the engine's margins, haircuts,
 * prices and pauses through offchain/chain/orderbookChain.ts) accepts an order exactly when the chain would settle
 * it: MarginEngine.settleTrade goes through and, for the party it flags, checkInitialMargin is true afterwards (what
 * SettlementHub requires of a batch). Random accounts (cash, securities, debt, then prices moved, which also moves
 * the router's volatility and with it every asset's margins) and random orders (side, asset, size, limit price
 * within the band). The off-chain limits that refuse more than the chain on purpose (rates, daily notional,
 * exposure caps, a behaviour tier below the KYC leverage) are set out of reach; the pool charges no interest, so
 * the debt read before the trade is the debt at settlement.
 */
/** The order book's instrument of each token against the cash token (6 decimals; 0.01 ticks, whole lots). */
async function instrumentSpecs(
  tokens: { symbol(): Promise<string>; getAddress(): Promise<string>; decimals(): Promise<bigint> }[],
  cash: string,
): Promise<InstrumentSpec[]> {
  return Promise.all(
    tokens.map(async (t) => ({
      id: await t.symbol(),
      base: await t.getAddress(),
      baseDecimals: Number(await t.decimals()),
      quote: cash,
      quoteDecimals: 6,
      tickSize: 10_000n,
      lotSize: 1n,
    })),
  );
}

describe("Pre-trade risk against the engine (differential, issue 23)", function () {
  this.timeout(600_000);

  const BAND_BPS = 1_000;
  const limits: RiskLimits = {
    priceBandBps: BAND_BPS,
    maxInstrumentExposure: 10n ** 30n,
    maxSectorExposure: 10n ** 30n,
    maxAccountExposure: 10n ** 30n,
    tiers: {
      standard: {
        maxLeverage: 1_000n * 10n ** 18n,
        maxOrdersPerSecond: 1_000_000,
        maxOrdersPerDay: 1_000_000,
        maxNotionalPerDay: 10n ** 30n,
      },
    },
  };

  let fx: MarginFixture;
  let settler: HardhatEthersSigner;
  let specs: InstrumentSpec[];
  let tokens: CollateralToken[];

  before(async () => {
    fx = await marginFixture();
    await zeroRate(fx);
    settler = fx.actors.users[9];
    await fx.manager.grantRole(ROLE.SETTLER, settler.address, 0);
    tokens = [fx.bank, fx.tech, fx.small];
    specs = await instrumentSpecs(tokens, await fx.cash.getAddress());
    // A few rounds of moves so that the router's volatility, and with it the tier margins, is not the floor.
    for (const [k, factor] of [1.04, 0.95, 1.06, 0.97].entries()) {
      const t = tokens[k % 3];
      const [p] = await fx.router.getPrice(await t.getAddress());
      await fx.setPrice(t, (p * BigInt(Math.round(factor * 1e6))) / 10n ** 6n);
      await time.increase(600);
    }
    await fx.refreshPrices();
  });

  const accountArb = fc.record({
    client: fc.integer({ min: 0, max: 2 }),
    /** the client chose the fixed margin mode (margined at each tier's fixed volatility) before borrowing */
    fixedTerm: fc.boolean(),
    cash: fc.bigInt({ min: 0n, max: 200_000n }),
    holdings: fc.tuple(
      fc.bigInt({ min: 0n, max: 6_000n }),
      fc.bigInt({ min: 0n, max: 2_000n }),
      fc.bigInt({ min: 0n, max: 1_000n }),
    ),
    /** share of the borrowing the account could take (0: none) */
    borrowShare: fc.oneof(fc.constant(0), fc.double({ min: 0.05, max: 1, noNaN: true })),
    /** price moves after the account is set up, per security (−20% … +15%) */
    moves: fc.tuple(
      fc.integer({ min: -20, max: 15 }),
      fc.integer({ min: -20, max: 15 }),
      fc.integer({ min: -20, max: 15 }),
    ),
  });
  const orderArb = fc.record({
    side: fc.constantFrom(Side.Buy, Side.Sell),
    asset: fc.integer({ min: 0, max: 2 }),
    lots: fc.integer({ min: 1, max: 3_000 }),
    /** limit price as a fraction of the band around the oracle: −1 … +1 */
    bandPosition: fc.double({ min: -1, max: 1, noNaN: true }),
  });

  type AccountCase = typeof accountArb extends fc.Arbitrary<infer T> ? T : never;
  type OrderCase = { side: Side; asset: number; lots: number; bandPosition: number };

  /** The account of a case on the chain: cash, securities, debt, then the price moves. */
  async function setUpAccount(a: AccountCase): Promise<HardhatEthersSigner> {
    const client = [fx.clientA, fx.clientB, fx.clientC][a.client];
    if (a.fixedTerm) await fx.engine.connect(client).setFixedTerm(Math.floor((await time.latest()) / 86_400) + 30);
    if (a.cash > 0n) await fx.fundAccount(client, fx.cash, a.cash * CNY);
    for (const [k, units] of a.holdings.entries()) if (units > 0n) await fx.fundAccount(client, tokens[k], units);
    if (a.borrowShare > 0) {
      const v = await fx.engine.accountView(client.address);
      const maxLeverage = await fx.kyc.maxLeverageOf(client.address);
      // headroom under the leverage cap (a rough bound: a refused borrow just leaves the account without debt)
      const room = v.equity > 0n ? (v.equity * maxLeverage) / 10n ** 18n - v.cash - v.positionValue : 0n;
      const amount = (room * BigInt(Math.round(a.borrowShare * 1e6))) / 10n ** 6n;
      if (amount > 0n)
        await fx.engine
          .connect(client)
          .borrow(amount)
          .catch(() => undefined);
    }
    for (const [k, pctMove] of a.moves.entries()) {
      if (pctMove === 0) continue;
      const [p] = await fx.router.getPrice(await tokens[k].getAddress());
      await fx.setPrice(tokens[k], (p * BigInt(100 + pctMove)) / 100n);
    }
    // the keeper records the account's state (a margin call when below maintenance)
    await fx.engine.poke(client.address);
    return client;
  }

  /** Pre-trade risk over the chain, as the service runs it: read the account and the engine's figures. */
  async function preTrade(client: HardhatEthersSigner): Promise<{ risk: PreTradeRisk; state: ChainRiskState }> {
    const reader = orderbookChain({
      provider: hre.ethers.provider,
      deployment: fx.record,
      kycRegistry: fx.kyc,
    } as unknown as ChainGateway);
    const state = new ChainRiskState(
      reader,
      specs.map((spec) => ({ spec, sector: "all", initialMargin: 0n })),
      { ttlMs: 0 },
    );
    await state.ensure(client.address);
    return { risk: new PreTradeRisk(state, limits), state };
  }

  function limitTicks(state: ChainRiskState, o: OrderCase): number {
    const oracle = state.instrument(specs[o.asset].id)!.oraclePrice;
    expect(oracle, "every price is Safe here").to.be.greaterThan(0);
    const band = Math.floor((oracle * BAND_BPS) / 10_000);
    return Math.max(1, oracle + Math.round(o.bandPosition * band));
  }

  async function check(risk: PreTradeRisk, client: HardhatEthersSigner, o: OrderCase, ticks: number) {
    const now = (await time.latest()) * 1000;
    return risk.check(
      specs[o.asset].id,
      { kind: "limit", id: 1, account: client.address, side: o.side, price: ticks, qty: o.lots, tif: TimeInForce.GTC },
      now,
    );
  }

  /** The chain's answer: the trade's legs settle and the party they flag meets initial margin after. Reverts. */
  async function chainAccepts(
    client: HardhatEthersSigner,
    o: OrderCase,
    ticks: number,
  ): Promise<{ accepts: boolean; checked: boolean }> {
    const snapshot = await hre.network.provider.send("evm_snapshot", []);
    try {
      const spec = specs[o.asset];
      const [buyer, seller] = o.side === Side.Buy ? [client, fx.dealer] : [fx.liquidator, client];
      const units = BigInt(o.lots) * spec.lotSize;
      const cashAmount = notional(spec, ticks, o.lots);
      const leg = fx.engine.connect(settler);
      let checks: bigint;
      try {
        checks = await leg.settleTrade.staticCall(buyer.address, seller.address, spec.base, units, cashAmount);
      } catch {
        return { accepts: false, checked: false };
      }
      await leg.settleTrade(buyer.address, seller.address, spec.base, units, cashAmount);
      if ((checks & (o.side === Side.Buy ? 1n : 2n)) === 0n) return { accepts: true, checked: false };
      return { accepts: await fx.engine.checkInitialMargin(client.address), checked: true };
    } finally {
      await hre.network.provider.send("evm_revert", [snapshot]);
    }
  }

  const runs = (n: number) => ({
    numRuns: Number(process.env.PRETRADE_RUNS ?? n),
    seed: Number(process.env.PRETRADE_SEED ?? Date.now() % 2 ** 31),
  });

  it("accepts an order exactly when the chain settles it and the engine's initial-margin check passes after", async () => {
    const tally = { accepted: 0, refused: 0, checked: 0, checkedFixed: 0, byCode: new Map<string, number>() };
    await fc.assert(
      fc.asyncProperty(accountArb, orderArb, async (a, o) => {
        const snapshot = await hre.network.provider.send("evm_snapshot", []);
        try {
          const client = await setUpAccount(a);
          const { risk, state } = await preTrade(client);
          const ticks = limitTicks(state, o);
          const reject = await check(risk, client, o, ticks);
          const chain = await chainAccepts(client, o, ticks);
          if (chain.checked) tally.checked++;
          if (chain.checked && a.fixedTerm) tally.checkedFixed++;
          if (reject === null) tally.accepted++;
          else {
            tally.refused++;
            tally.byCode.set(reject, (tally.byCode.get(reject) ?? 0) + 1);
          }
          expect(reject === null, `pre-trade ${reject ?? "accepts"}; chain ${JSON.stringify(chain)}`).to.equal(
            chain.accepts,
          );
        } finally {
          await hre.network.provider.send("evm_revert", [snapshot]);
        }
      }),
      runs(150),
    );
    // the property is not vacuous: both answers occur, and the engine's check decides some of them
    expect(tally.accepted).to.be.greaterThan(0);
    expect(tally.refused).to.be.greaterThan(0);
    expect(tally.checked).to.be.greaterThan(0);
    expect(tally.checkedFixed, "accounts in their fixed term decided by the engine's check").to.be.greaterThan(0);
    console.log(
      `      accepted ${tally.accepted}, refused ${tally.refused} (${[...tally.byCode].map(([c, n]) => `${c} ${n}`).join(", ")}), engine checks ${tally.checked} (${tally.checkedFixed} in a fixed term)`,
    );
  });

  it("agrees at the edge: the largest buy pre-trade accepts settles on the chain, one share more does not", async () => {
    let margin = 0;
    await fc.assert(
      fc.asyncProperty(
        accountArb.filter((a) => a.borrowShare > 0),
        fc.integer({ min: 0, max: 2 }),
        fc.double({ min: -1, max: 1, noNaN: true }),
        async (a, asset, bandPosition) => {
          const snapshot = await hre.network.provider.send("evm_snapshot", []);
          try {
            const client = await setUpAccount(a);
            const { risk, state } = await preTrade(client);
            const o: OrderCase = { side: Side.Buy, asset, lots: 1, bandPosition };
            const ticks = limitTicks(state, o);
            if ((await check(risk, client, o, ticks)) !== null) return; // not even one share: nothing to bisect
            // the largest accepted size (acceptance falls with size for a buy at a given price)
            let [lo, hi] = [1, 1_000_000];
            while (hi - lo > 1) {
              const mid = Math.floor((lo + hi) / 2);
              if ((await check(risk, client, { ...o, lots: mid }, ticks)) === null) lo = mid;
              else hi = mid;
            }
            const edge = await check(risk, client, { ...o, lots: lo + 1 }, ticks);
            const at = await chainAccepts(client, { ...o, lots: lo }, ticks);
            const above = await chainAccepts(client, { ...o, lots: lo + 1 }, ticks);
            if (edge !== "INSUFFICIENT_BALANCE") margin++;
            expect(at.accepts, `${lo} lots accepted pre-trade`).to.equal(true);
            expect(above.accepts, `${lo + 1} lots refused pre-trade (${edge})`).to.equal(false);
          } finally {
            await hre.network.provider.send("evm_revert", [snapshot]);
          }
        },
      ),
      runs(40),
    );
    // edges decided by the engine's margin rule, not by the cash
    expect(margin).to.be.greaterThan(0);
    console.log(`      edges decided by the margin rule: ${margin}`);
  });

  it("follows every borrower from the chain for the platform-wide limits and refuses a buy over the ADV share", async () => {
    const snapshot = await hre.network.provider.send("evm_snapshot", []);
    try {
      // two indebted accounts hold mbBANK (they never order on the book); a third, also indebted, wants to buy
      for (const [c, units] of [
        [fx.clientA, 3_000n],
        [fx.clientB, 2_000n],
      ] as const) {
        await fx.fundAccount(c, fx.cash, 50_000n * CNY);
        await fx.engine.connect(c).borrow(20_000n * CNY);
        const [p] = await fx.router.getPrice(await fx.bank.getAddress());
        await fx.buy(c, fx.bank, units, p);
      }
      const buyer = fx.clientC;
      await fx.fundAccount(buyer, fx.cash, 100_000n * CNY);
      await fx.engine.connect(buyer).borrow(10_000n * CNY);
      const reader = orderbookChain({
        provider: hre.ethers.provider,
        deployment: fx.record,
        kycRegistry: fx.kyc,
      } as unknown as ChainGateway);
      const state = new ChainRiskState(
        reader,
        specs.map((spec) => ({
          spec,
          sector: spec.id === "mbSMALL" ? "industrials" : "financials",
          initialMargin: 0n,
        })),
        { ttlMs: 0 },
      );
      // all indebted holdings of mbBANK ≤ 100% of 10,000 shares a day (the floor: the book has no volume here)
      const risk = new PreTradeRisk(state, {
        ...limits,
        platform: { maxAdvShare: 10n ** 18n, advDays: 20, minAdvUnits: 10_000n, sectorCaps: {} },
      });
      await state.refreshPlatform();
      await state.ensure(buyer.address);
      const bank = specs[0];
      expect(state.platform.financedUnits(bank.id, buyer.address)).to.equal(5_000n);
      const oracle = state.instrument(bank.id)!.oraclePrice;
      const order = (lots: number) =>
        risk.check(
          bank.id,
          {
            kind: "limit",
            id: 1,
            account: buyer.address,
            side: Side.Buy,
            price: oracle,
            qty: lots,
            tif: TimeInForce.GTC,
          },
          Date.now(),
        );
      expect(order(5_000)).to.equal(null); // 5,000 + 5,000 = the cap
      expect(order(5_001)).to.equal("PLATFORM_VOLUME_LIMIT");
      // the book's own volume raises it above the floor
      state.setAverageDailyVolumes(new Map([[bank.id, 12_000n]]));
      expect(order(7_000)).to.equal(null);
      expect(order(7_001)).to.equal("PLATFORM_VOLUME_LIMIT");
    } finally {
      await hre.network.provider.send("evm_revert", [snapshot]);
    }
  });

  /**
   * Issue 26, pre-trade risk uses the same portfolio margin: for an account enrolled in it (PortfolioRisk), the
   * engine margins each underlying with the option series held on it by the scenario grid and checks every sale of
   * an indebted enrolled seller; pre-trade applies the satellite's mirror to the positions after the trade. Accounts
   * hold shares and protective puts, borrow and withdraw part of their headroom, then mbBANK moves; they buy or sell
   * puts (and sometimes shares or calls). A quarter of the accounts stay under the rule, as a control. Runs after the
   * tests above (its own fixture: the option market's).
   */
  describe("under portfolio margin (issue 26)", () => {
    let ofx: OptionsFixture;

    before(async () => {
      ofx = await loadFixture(optionsFixture);
      fx = ofx;
      settler = ofx.actors.admin;
      await ofx.manager.grantRole(ROLE.SETTLER, settler.address, 0);
      // the dealer's stock of contracts to sell: 800 puts (cash locked), 600 calls (shares locked)
      await ofx.fundAccount(ofx.dealer, ofx.cash, 800n * 900n * CNY);
      await ofx.market.connect(ofx.dealer).write(await ofx.put.getAddress(), 800n);
      await ofx.market.connect(ofx.dealer).write(await ofx.call.getAddress(), 600n);
      specs = await instrumentSpecs([ofx.bank, ofx.put, ofx.call], await ofx.cash.getAddress());
    });

    /** Buys `contracts` of the dealer's stock of a series for `who` at the router's price. */
    async function buyContracts(who: HardhatEthersSigner, asset: number, contracts: bigint): Promise<void> {
      if (contracts === 0n) return;
      const [answer] = await ofx.router.getPrice(specs[asset].base);
      const cost = (contracts * answer) / 10n ** 12n;
      await ofx.fundAccount(who, ofx.cash, cost);
      await ofx.harness.trade(who.address, ofx.dealer.address, specs[asset].base, contracts, cost);
    }

    it("answers as the engine for enrolled hedged accounts buying and selling puts, where the rule's answer differs", async () => {
      const seed = Number(process.env.PRETRADE_SEED ?? 26);
      const rng = new Rng(seed);
      const int = (min: number, max: number): number => min + Math.floor(rng.uniform() * (max - min + 1));
      const tally = {
        cases: 0,
        accepted: 0,
        checkedSales: 0,
        gridDecided: 0,
        gridDecidedPuts: 0,
        enrolled: 0,
        puts: 0,
      };
      const runs = Number(process.env.PRETRADE_RUNS ?? 32);
      for (let k = 0; k < runs; k++) {
        const snapshot = await hre.network.provider.send("evm_snapshot", []);
        try {
          const who = ofx.clientC; // 5× leverage
          const enrolled = k % 4 !== 3;
          const held = [BigInt(int(5_000, 15_000)), BigInt(int(0, 150)), BigInt(int(0, 500))];
          await ofx.fundAccount(who, ofx.bank, held[0]);
          await buyContracts(who, 1, held[1]);
          await buyContracts(who, 2, held[2]);
          if (enrolled)
            await PortfolioRisk__factory.connect(ofx.record.contracts.PortfolioRisk, who).setPortfolioMargin(true);
          // take out most of the headroom (initial margin and the leverage cap) on borrowed cash, keeping
          // 8,000 CNY of it to buy with; mbBANK then moves by up to 0.5%, taking some accounts past the edge
          const v = await ofx.engine.accountView(who.address);
          const buffer = 8_000n * CNY;
          const maxLeverage = await ofx.kyc.maxLeverageOf(who.address);
          const leverageRoom = v.equity - ((v.cash + v.positionValue + buffer) * 10n ** 18n) / maxLeverage;
          const marginRoom = v.equity - v.initialReq;
          const room = leverageRoom < marginRoom ? leverageRoom : marginRoom;
          // within 1,500 CNY of the edge: an order's few hundred CNY of margin decide
          const amount = room - BigInt(int(0, 1_500)) * CNY;
          await ofx.engine
            .connect(who)
            .borrow(amount + buffer)
            .catch(() => undefined);
          await ofx.engine
            .connect(who)
            .withdraw(await ofx.cash.getAddress(), amount)
            .catch(() => undefined);
          await ofx.setPrice(ofx.bank, (price(10) * BigInt(1_000 + int(-5, 5))) / 1_000n);
          await ofx.refreshOptions();
          await ofx.engine.poke(who.address);
          const pick = int(0, 9);
          const asset = pick < 5 ? 1 : pick < 6 ? 0 : 2;
          const side = int(0, 1) === 0 || held[asset] === 0n ? Side.Buy : Side.Sell;
          const buyMax = [700, 160, 200][asset];
          const o: OrderCase = {
            side,
            asset,
            lots: side === Side.Buy ? int(1, buyMax) : int(1, Number(held[asset])),
            bandPosition: rng.uniform() * 2 - 1,
          };
          const { risk, state } = await preTrade(who);
          const view = state.account(who.address)!;
          expect(view.chain.portfolio !== undefined, "the enrolment is read").to.equal(enrolled);
          const ticks = limitTicks(state, o);
          const reject = await check(risk, who, o, ticks);
          // the same order under the rule's margins (the portfolio inputs set aside)
          const inputs = view.chain.portfolio;
          view.chain.portfolio = undefined;
          const ruleReject = await check(risk, who, o, ticks);
          view.chain.portfolio = inputs;
          const chain = await chainAccepts(who, o, ticks);
          tally.cases++;
          if (enrolled) tally.enrolled++;
          if (reject === null) tally.accepted++;
          if (chain.checked && o.side === Side.Sell) tally.checkedSales++;
          if (enrolled && asset === 1) tally.puts++;
          if (enrolled && (ruleReject === null) !== (reject === null)) {
            tally.gridDecided++;
            if (asset === 1) tally.gridDecidedPuts++;
          }
          expect(
            reject === null,
            `case ${k} (${enrolled ? "enrolled" : "rule"}, ${o.side} ${o.lots} ${specs[asset].id}): pre-trade ${reject ?? "accepts"}; chain ${JSON.stringify(chain)}`,
          ).to.equal(chain.accepts);
        } finally {
          await hre.network.provider.send("evm_revert", [snapshot]);
        }
      }
      console.log(
        `      seed ${seed}: ${tally.cases} orders (${tally.enrolled} enrolled), accepted ${tally.accepted}, sales the engine checked ${tally.checkedSales}, put orders by enrolled accounts ${tally.puts}, decided by the grid (the rule answers otherwise) ${tally.gridDecided} (puts ${tally.gridDecidedPuts})`,
      );
      // not vacuous: both answers, enrolled sellers checked by the engine, and orders where the grid decided
      expect(tally.accepted).to.be.greaterThan(0);
      expect(tally.accepted).to.be.lessThan(tally.cases);
      expect(tally.checkedSales).to.be.greaterThan(0);
      expect(tally.gridDecided).to.be.greaterThan(0);
    });
  });
});
