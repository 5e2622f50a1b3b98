import { expect } from "chai";
import {
  type AccountRiskView,
  type BookCommand,
  InMemoryRiskState,
  type InstrumentSpec,
  InstrumentEngine,
  MarginState,
  notional,
  PreTradeRisk,
  RejectCode,
  type RiskCheckable,
  type RiskLimits,
  Side,
  TimeInForce,
} from "../../../offchain/orderbook";
import { rejectMessages } from "../../../offchain/orderbook/rejectMessages";

/** Omit distributed over the command union. */
type WithoutId<T> = T extends unknown ? Omit<T, "id"> : never;

const WAD = 10n ** 18n;
const CNY = 1_000_000n; // mbCNY has 6 decimals

/** mbBANK-style share token: 0 decimals, tick 0.01 CNY, lot 100 shares. */
function spec(id: string): InstrumentSpec {
  return { id, base: id, baseDecimals: 0, quote: "mbCNY", quoteDecimals: 6, tickSize: 10_000n, lotSize: 100n };
}

const LIMITS: RiskLimits = {
  priceBandBps: 1_000, // ±10 %
  maxInstrumentExposure: 10_000_000n * CNY,
  maxSectorExposure: 10_000_000n * CNY,
  maxAccountExposure: 10_000_000n * CNY,
  tiers: {
    standard: {
      maxLeverage: 10n * WAD,
      maxOrdersPerSecond: 100,
      maxOrdersPerDay: 10_000,
      maxNotionalPerDay: 10n ** 15n,
    },
    restricted: { maxLeverage: WAD, maxOrdersPerSecond: 2, maxOrdersPerDay: 3, maxNotionalPerDay: 200_000n * CNY },
  },
};

function account(over: Partial<AccountRiskView> = {}): AccountRiskView {
  return {
    kycVerified: true,
    kycExpiresAt: 0,
    maxLeverage: 10n * WAD,
    marginState: MarginState.Healthy,
    tier: "standard",
    chain: { cash: 100_000n * CNY, debt: 0n, positions: new Map() },
    unsettled: { cash: 0n, positions: new Map() },
    ...over,
  };
}

/** A real engine whose events feed the risk module's open-order view, as in the service. */
function setup(limits: RiskLimits = LIMITS) {
  const state = new InMemoryRiskState();
  // oracle 10.00 CNY (1,000 ticks), initial margin 20 %
  state.setInstrument("BANK", {
    spec: spec("BANK"),
    sector: "financials",
    initialMargin: WAD / 5n,
    oraclePrice: 1_000,
  });
  state.setInstrument("INS", { spec: spec("INS"), sector: "financials", initialMargin: WAD / 5n, oraclePrice: 1_000 });
  state.setInstrument("TECH", {
    spec: spec("TECH"),
    sector: "technology",
    initialMargin: WAD / 2n,
    oraclePrice: 1_000,
  });
  state.setAccount("alice", account());
  const risk = new PreTradeRisk(state, limits);
  const engines = new Map<string, InstrumentEngine>();
  let nextId = 1;
  const submit = (instrument: string, cmd: WithoutId<RiskCheckable>, ts = 1_000): RejectCode | null => {
    let engine = engines.get(instrument);
    if (engine === undefined) {
      engine = new InstrumentEngine(instrument);
      engine.observer = risk.observerFor(instrument);
      engines.set(instrument, engine);
    }
    const full = { id: nextId++, ...cmd } as RiskCheckable;
    const code = risk.check(instrument, full, ts);
    if (code !== null) return code;
    engine.apply({ seq: engine.seq + 1, ts, cmd: full as BookCommand });
    risk.recordAccepted(instrument, full, ts);
    return null;
  };
  const buy = (lots: number, price = 1_000, instrument = "BANK", ts = 1_000) =>
    submit(instrument, { kind: "limit", account: "alice", side: Side.Buy, price, qty: lots, tif: TimeInForce.GTC }, ts);
  return { state, risk, submit, buy, engines };
}

describe("orderbook: pre-trade risk", function () {
  it("values lots and ticks exactly: 1,000 ticks × 400 lots of 100 shares at 0.01 CNY = 400,000 CNY", function () {
    expect(notional(spec("BANK"), 1_000, 400)).to.equal(400_000n * CNY);
  });

  describe("KYC", function () {
    it("rejects an unverified account", function () {
      const { state, buy } = setup();
      state.setAccount("alice", account({ kycVerified: false }));
      expect(buy(1)).to.equal(RejectCode.KycNotVerified);
    });

    it("rejects an account whose KYC has expired", function () {
      const { state, buy } = setup();
      state.setAccount("alice", account({ kycExpiresAt: 1_000 }));
      expect(buy(1)).to.equal(RejectCode.KycNotVerified);
    });

    it("rejects an unknown account and instrument", function () {
      const { risk } = setup();
      const cmd: RiskCheckable = { kind: "market", id: 1, account: "nobody", side: Side.Buy, qty: 1 };
      expect(risk.check("BANK", cmd, 0)).to.equal(RejectCode.UnknownAccount);
      expect(risk.check("NOPE", cmd, 0)).to.equal(RejectCode.UnknownInstrument);
    });
  });

  describe("margin state", function () {
    it("blocks new risk in MarginCall or worse, but lets the account reduce its position", function () {
      const { state, submit, buy } = setup();
      for (const s of [MarginState.MarginCall, MarginState.Liquidatable, MarginState.Defaulted]) {
        state.setAccount(
          "alice",
          account({ marginState: s, chain: { cash: 0n, debt: 0n, positions: new Map([["BANK", 1_000n]]) } }),
        );
        expect(buy(1), MarginState[s]).to.equal(RejectCode.MarginStateBlocksRisk);
      }
      const sell = (lots: number) =>
        submit("BANK", {
          kind: "limit",
          account: "alice",
          side: Side.Sell,
          price: 1_000,
          qty: lots,
          tif: TimeInForce.GTC,
        });
      expect(sell(11)).to.equal(RejectCode.MarginStateBlocksRisk); // 1,100 shares > 1,000 held: would go short
      expect(sell(6)).to.equal(null);
      expect(sell(5)).to.equal(RejectCode.MarginStateBlocksRisk); // with the open 6 lots this closes more than held
      expect(sell(4)).to.equal(null);
    });

    it("lets a Warning account trade normally", function () {
      const { state, buy } = setup();
      state.setAccount("alice", account({ marginState: MarginState.Warning }));
      expect(buy(1)).to.equal(null);
    });
  });

  describe("worst-case initial margin", function () {
    it("accepts an order whose worst-case fill keeps initial margin, rejects one that does not", function () {
      const { buy } = setup();
      // equity 100,000 CNY at 20 % IM carries 500,000 CNY gross
      expect(buy(600)).to.equal(RejectCode.InsufficientInitialMargin);
      expect(buy(500)).to.equal(null);
    });

    it("counts open orders: two orders that each fit are not both accepted when together they do not", function () {
      const { buy } = setup();
      expect(buy(300)).to.equal(null);
      expect(buy(201)).to.equal(RejectCode.InsufficientInitialMargin);
      expect(buy(200)).to.equal(null);
    });

    it("counts unsettled trades (position and cash) on top of the indexed chain state", function () {
      const { state, buy } = setup();
      // an unsettled purchase of 200 lots for 200,000 CNY: equity unchanged, but 200,000 gross already used
      state.setAccount(
        "alice",
        account({ unsettled: { cash: -200_000n * CNY, positions: new Map([["BANK", 20_000n]]) } }),
      );
      expect(buy(301)).to.equal(RejectCode.InsufficientInitialMargin);
      expect(buy(300)).to.equal(null);
    });

    it("counts chain debt against equity", function () {
      const { state, buy } = setup();
      state.setAccount(
        "alice",
        account({ chain: { cash: 100_000n * CNY, debt: 50_000n * CNY, positions: new Map() } }),
      );
      expect(buy(251)).to.equal(RejectCode.InsufficientInitialMargin);
      expect(buy(250)).to.equal(null);
    });

    it("charges the worst fill price: a buy limit above the oracle loses the difference at once", function () {
      const { buy } = setup();
      // at 11.00 each lot costs 1,100 CNY but is worth 1,000: n lots leave 100,000 − 100·n of equity against
      // 200·n required, so 333 lots fit and 334 do not (at the oracle price 500 would)
      expect(buy(334, 1_100)).to.equal(RejectCode.InsufficientInitialMargin);
      expect(buy(333, 1_100)).to.equal(null);
    });

    it("uses the worse of 'all buys fill' and 'all sells fill' for each instrument", function () {
      const { state, submit } = setup();
      state.setAccount(
        "alice",
        account({ chain: { cash: 0n, debt: 0n, positions: new Map([["BANK", 10_000n]]) } }), // 100,000 CNY of shares
      );
      const sell = (lots: number) => submit("BANK", { kind: "market", account: "alice", side: Side.Sell, qty: lots });
      // 700 lots at the band edge (9.00) close the 100-lot long and open a 600-lot short: 600,000 gross needs
      // 120,000 while equity falls to 100,000 − 70,000 (sold 1.00 under the oracle)
      expect(sell(700)).to.equal(RejectCode.InsufficientInitialMargin);
    });
  });

  describe("leverage and behaviour tiers", function () {
    it("caps gross worst-case exposure at equity × the KYC tier's max leverage", function () {
      const { state, buy } = setup();
      state.setAccount("alice", account({ maxLeverage: 2n * WAD }));
      expect(buy(201)).to.equal(RejectCode.LeverageLimit);
      expect(buy(200)).to.equal(null);
    });

    it("a flagged account's behaviour tier lowers leverage and order rates", function () {
      const { state, buy } = setup();
      state.setAccount("alice", account({ tier: "restricted" }));
      expect(buy(101)).to.equal(RejectCode.LeverageLimit);
      expect(buy(10, 1_000, "BANK", 5_000)).to.equal(null);
      expect(buy(10, 1_000, "BANK", 5_100)).to.equal(null);
      expect(buy(10, 1_000, "BANK", 5_900)).to.equal(RejectCode.OrderRateLimit);
      expect(buy(10, 1_000, "BANK", 6_000)).to.equal(null);
      expect(buy(10, 1_000, "BANK", 7_000)).to.equal(RejectCode.DailyOrderLimit);
    });
  });

  describe("exposure limits", function () {
    it("per instrument", function () {
      const { buy } = setup({ ...LIMITS, instrumentExposure: { BANK: 100_000n * CNY } });
      expect(buy(101)).to.equal(RejectCode.InstrumentExposureLimit);
      expect(buy(100)).to.equal(null);
      expect(buy(100, 1_000, "INS")).to.equal(null); // another instrument is not capped by BANK's limit
    });

    it("per sector, across the instruments of the sector", function () {
      const { buy } = setup({ ...LIMITS, maxSectorExposure: 150_000n * CNY });
      expect(buy(100, 1_000, "BANK")).to.equal(null);
      expect(buy(51, 1_000, "INS")).to.equal(RejectCode.SectorExposureLimit);
      expect(buy(50, 1_000, "INS")).to.equal(null);
      expect(buy(60, 1_000, "TECH")).to.equal(null); // another sector
    });

    it("per account, across every instrument", function () {
      const { buy } = setup({ ...LIMITS, maxAccountExposure: 150_000n * CNY });
      expect(buy(100, 1_000, "BANK")).to.equal(null);
      expect(buy(51, 1_000, "TECH")).to.equal(RejectCode.AccountExposureLimit);
    });
  });

  describe("daily limits", function () {
    it("counts orders and notional per UTC day and resets at midnight", function () {
      const limits: RiskLimits = {
        ...LIMITS,
        tiers: { standard: { ...LIMITS.tiers.standard, maxOrdersPerDay: 2, maxNotionalPerDay: 30_000n * CNY } },
      };
      const { buy } = setup(limits);
      const day = 86_400_000;
      expect(buy(20, 1_000, "BANK", day + 1)).to.equal(null); // 20,000 CNY
      expect(buy(11, 1_000, "BANK", day + 2_000)).to.equal(RejectCode.DailyNotionalLimit);
      expect(buy(10, 1_000, "BANK", day + 3_000)).to.equal(null);
      expect(buy(1, 1_000, "BANK", day + 4_000)).to.equal(RejectCode.DailyOrderLimit);
      expect(buy(1, 1_000, "BANK", 2 * day)).to.equal(null);
    });
  });

  describe("price band (fat finger)", function () {
    it("rejects a limit price more than the band away from the oracle price", function () {
      const { buy } = setup();
      expect(buy(1, 1_101)).to.equal(RejectCode.PriceBand);
      expect(buy(1, 899)).to.equal(RejectCode.PriceBand);
      expect(buy(1, 1_100)).to.equal(null);
      expect(buy(1, 900)).to.equal(null);
    });

    it("rejects orders while the oracle price is unavailable", function () {
      const { state, buy } = setup();
      state.setOraclePrice("BANK", 0);
      expect(buy(1)).to.equal(RejectCode.OracleUnavailable);
    });

    it("values a market order at the far edge of the band", function () {
      const { submit } = setup();
      // 460 lots at 11.00 = 506,000 CNY worth 460,000: equity 54,000 < 92,000 required
      expect(submit("BANK", { kind: "market", account: "alice", side: Side.Buy, qty: 460 })).to.equal(
        RejectCode.InsufficientInitialMargin,
      );
    });
  });

  describe("modify", function () {
    it("checks a size increase against the order it replaces, and always allows a size decrease", function () {
      const { buy, risk } = setup();
      expect(buy(400)).to.equal(null); // id 1
      const up = (qty: number): RiskCheckable => ({ kind: "modify", id: 1, account: "alice", qty });
      expect(risk.check("BANK", up(501), 1_000)).to.equal(RejectCode.InsufficientInitialMargin);
      expect(risk.check("BANK", up(500), 1_000)).to.equal(null);
      expect(risk.check("BANK", up(10), 1_000)).to.equal(null);
    });

    it("lets an account whose KYC lapsed still shrink its orders (like a cancel), but not grow them", function () {
      const { state, buy, risk } = setup();
      expect(buy(100)).to.equal(null); // id 1
      state.setAccount("alice", account({ kycVerified: false }));
      expect(risk.check("BANK", { kind: "modify", id: 1, account: "alice", qty: 50 }, 1_000)).to.equal(null);
      expect(risk.check("BANK", { kind: "modify", id: 1, account: "alice", qty: 150 }, 1_000)).to.equal(
        RejectCode.KycNotVerified,
      );
    });
  });

  describe("platform-wide concentration (issue 23)", function () {
    // A quarter of the average daily volume per security; 100,000 shares a day assumed while the book's is lower;
    // financials capped at 3,000,000 CNY across all indebted accounts.
    const PLATFORM: RiskLimits = {
      ...LIMITS,
      platform: {
        maxAdvShare: WAD / 4n,
        advDays: 20,
        minAdvUnits: 100_000n,
        sectorCaps: { financials: 3_000_000n * CNY },
      },
    };
    const indebted = (positions: Array<[string, bigint]>, debt = 50_000n * CNY) =>
      account({ chain: { cash: 500_000n * CNY, debt, positions: new Map(positions) } });

    it("caps what all indebted accounts hold of a security at the share of its ADV, counting this order and open buys", function () {
      const { state, buy } = setup(PLATFORM);
      state.setAccount("alice", indebted([]));
      state.setAccount("bob", indebted([["BANK", 20_000n]])); // other indebted accounts hold 20,000 + 5,000
      state.setAccount("carol", indebted([["BANK", 5_000n]]));
      state.setAccount("dave", account({ chain: { cash: 0n, debt: 0n, positions: new Map([["BANK", 90_000n]]) } }));
      // cap: 100,000 (the floor) × 25% = 25,000 shares; dave holds without debt, so he does not count
      expect(buy(1)).to.equal(RejectCode.PlatformVolumeLimit);
      state.setAccount("carol", indebted([["BANK", 4_900n]]));
      expect(buy(1)).to.equal(null); // 20,000 + 4,900 + 100 = 25,000: at the cap
      expect(buy(1)).to.equal(RejectCode.PlatformVolumeLimit); // the open buy counts
      // the book's own volume raises the cap once it is above the floor: 200,000 a day → 50,000
      state.setAverageDailyVolume("BANK", 200_000n);
      expect(buy(250)).to.equal(null);
      expect(buy(1)).to.equal(RejectCode.PlatformVolumeLimit);
    });

    it("never limits an account without debt, nor a sale", function () {
      const { state, buy, submit } = setup(PLATFORM);
      state.setAccount("bob", indebted([["BANK", 30_000n]])); // already above the cap
      state.setAccount("alice", account({ chain: { cash: 500_000n * CNY, debt: 0n, positions: new Map() } }));
      expect(buy(10)).to.equal(null);
      state.setAccount("alice", indebted([["BANK", 1_000n]]));
      expect(
        submit("BANK", {
          kind: "limit",
          account: "alice",
          side: Side.Sell,
          price: 1_000,
          qty: 5,
          tif: TimeInForce.GTC,
        }),
      ).to.equal(null);
      expect(buy(1)).to.equal(RejectCode.PlatformVolumeLimit);
    });

    it("caps a sector's value across its securities and all indebted accounts", function () {
      const { state, buy } = setup(PLATFORM);
      state.setAverageDailyVolume("BANK", 10_000_000n);
      state.setAverageDailyVolume("INS", 10_000_000n);
      state.setAccount("alice", indebted([]));
      // 200,000 INS and 99,900 BANK at 10 CNY: 2,999,000 CNY of financials
      state.setAccount("bob", indebted([["INS", 200_000n]]));
      state.setAccount("carol", indebted([["BANK", 99_900n]]));
      expect(buy(1)).to.equal(null); // one lot of 100 shares more: 3,000,000, at the cap
      expect(buy(1, 1_000, "INS")).to.equal(RejectCode.PlatformSectorLimit);
      expect(buy(1, 1_000, "TECH")).to.equal(null); // another sector, no cap
    });

    it("has an English and a Simplified Chinese message for every pre-trade refusal, naming the instrument", function () {
      const codes = [
        RejectCode.KycNotVerified,
        RejectCode.MarginStateBlocksRisk,
        RejectCode.BalanceFrozen,
        RejectCode.InsufficientInitialMargin,
        RejectCode.InsufficientBalance,
        RejectCode.BorrowingPaused,
        RejectCode.LeverageLimit,
        RejectCode.InstrumentExposureLimit,
        RejectCode.SectorExposureLimit,
        RejectCode.AccountExposureLimit,
        RejectCode.PlatformVolumeLimit,
        RejectCode.PlatformSectorLimit,
        RejectCode.DailyOrderLimit,
        RejectCode.DailyNotionalLimit,
        RejectCode.OrderRateLimit,
        RejectCode.PriceBand,
        RejectCode.OracleUnavailable,
      ];
      for (const code of codes) {
        const m = rejectMessages(code, "mbBANK");
        expect(m, code).to.not.equal(undefined);
        expect(m!.en, code).to.match(/^[A-Z].*\.$/);
        expect(m!["zh-CN"], code).to.match(/[\u4e00-\u9fff]/);
        expect(m!["zh-CN"], code).to.not.include("{instrument}");
      }
      expect(rejectMessages(RejectCode.PlatformVolumeLimit, "mbBANK")!.en)
        .to.include("mbBANK")
        .and.include("average daily volume");
      expect(rejectMessages(RejectCode.PlatformVolumeLimit, "mbBANK")!["zh-CN"])
        .to.include("mbBANK")
        .and.include("日均成交量");
    });
  });
});
