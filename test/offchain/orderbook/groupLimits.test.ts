import { expect } from "chai";
import {
  type AccountRiskView,
  CancelReason,
  InMemoryRiskState,
  type InstrumentSpec,
  InstrumentEngine,
  MarginState,
  PreTradeRisk,
  RejectCode,
  type RiskLimits,
  Side,
  type StampedCommand,
  StpMode,
  TimeInForce,
} from "../../../offchain/orderbook";

const WAD = 10n ** 18n;
const CNY = 1_000_000n;
const SPEC: InstrumentSpec = {
  id: "BANK",
  base: "BANK",
  baseDecimals: 0,
  quote: "mbCNY",
  quoteDecimals: 6,
  tickSize: 10_000n,
  lotSize: 100n,
};

/** Each account may order 50,000 CNY a day and hold 100,000; a linked group 80,000 and 150,000 together. */
const LIMITS: RiskLimits = {
  priceBandBps: 1_000,
  maxInstrumentExposure: 10n ** 15n,
  maxSectorExposure: 10n ** 15n,
  maxAccountExposure: 100_000n * CNY,
  group: { maxExposure: 150_000n * CNY, maxNotionalPerDay: 80_000n * CNY },
  tiers: {
    standard: {
      maxLeverage: 10n * WAD,
      maxOrdersPerSecond: 100,
      maxOrdersPerDay: 1_000,
      maxNotionalPerDay: 50_000n * CNY,
    },
  },
};

function account(): AccountRiskView {
  return {
    kycVerified: true,
    kycExpiresAt: 0,
    maxLeverage: 10n * WAD,
    marginState: MarginState.Healthy,
    tier: "standard",
    chain: { cash: 1_000_000n * CNY, debt: 0n, positions: new Map() },
    unsettled: { cash: 0n, positions: new Map() },
  };
}

describe("orderbook: linked-account group limits and self-trade prevention", function () {
  function setup(limits: RiskLimits = LIMITS) {
    const state = new InMemoryRiskState();
    state.setInstrument("BANK", { spec: SPEC, sector: "fin", initialMargin: WAD / 5n, oraclePrice: 1_000 });
    for (const a of ["attacker", "second", "accomplice"]) state.setAccount(a, account());
    const risk = new PreTradeRisk(state, limits);
    const engine = new InstrumentEngine("BANK");
    engine.observer = risk.observerFor("BANK");
    const group = { id: "attacker", members: ["attacker", "second"] };
    risk.setGroup("attacker", group);
    risk.setGroup("second", group);
    let id = 1;
    let seq = 0;
    /** Checks, then applies and counts the order like the service (1 lot = 100 shares = 1,000 CNY at 10.00). */
    const order = (who: string, side: Side, lots: number, ts = 1_000): RejectCode | null => {
      const cmd = {
        kind: "limit" as const,
        id: id++,
        account: who,
        side,
        price: 1_000,
        qty: lots,
        tif: TimeInForce.GTC,
      };
      const code = risk.check("BANK", cmd, ts);
      if (code !== null) return code;
      engine.apply({ seq: ++seq, ts, cmd });
      risk.recordAccepted("BANK", cmd, ts);
      return null;
    };
    return { risk, order };
  }

  it("attack: the daily notional split over two linked accounts meets the group's cap; the accomplice is not counted", () => {
    const { order } = setup();
    expect(order("attacker", Side.Buy, 45)).to.equal(null); // 45,000 CNY
    expect(order("second", Side.Buy, 40)).to.equal(RejectCode.GroupDailyNotionalLimit); // 85,000 > 80,000
    expect(order("second", Side.Buy, 35)).to.equal(null); // 80,000
    expect(order("accomplice", Side.Buy, 45)).to.equal(null);
  });

  it("attack: the exposure split over two linked accounts meets the group's cap; each alone is under its own", () => {
    // daily caps out of the way: the exposure alone
    const daily = { maxNotionalPerDay: 10n ** 15n };
    const { order, risk } = setup({
      ...LIMITS,
      group: { ...LIMITS.group!, ...daily },
      tiers: { standard: { ...LIMITS.tiers.standard, ...daily } },
    });
    const day2 = 1_000 + 86_400_000; // a day later: its usage counts from zero, the open buys' exposure stays
    expect(order("attacker", Side.Buy, 45)).to.equal(null);
    expect(order("attacker", Side.Buy, 50, day2)).to.equal(null); // 95,000 of its own 100,000
    expect(order("second", Side.Buy, 60, day2)).to.equal(RejectCode.GroupExposureLimit); // 155,000 > 150,000
    expect(order("second", Side.Buy, 55, day2)).to.equal(null); // 150,000
    expect(order("accomplice", Side.Buy, 99, day2)).to.equal(null);
    expect(risk.groupUsage(["attacker", "second"], day2)).to.deep.include({
      notionalToday: 105_000n * CNY,
      exposure: 150_000n * CNY,
    });
  });

  it("with no group limits configured, linked accounts are limited one by one only", () => {
    const state = new InMemoryRiskState();
    state.setInstrument("BANK", { spec: SPEC, sector: "fin", initialMargin: WAD / 5n, oraclePrice: 1_000 });
    for (const a of ["attacker", "second"]) state.setAccount(a, account());
    const risk = new PreTradeRisk(state, { ...LIMITS, group: undefined });
    risk.setGroup("second", { id: "attacker", members: ["attacker", "second"] });
    expect(
      risk.check(
        "BANK",
        { kind: "limit", id: 1, account: "second", side: Side.Buy, price: 1_000, qty: 50, tif: TimeInForce.GTC },
        1_000,
      ),
    ).to.equal(null);
  });

  describe("the matcher", function () {
    const limit = (
      seq: number,
      id: number,
      account: string,
      side: Side,
      qty: number,
      extra: Record<string, unknown> = {},
    ): StampedCommand => ({
      seq,
      ts: 1_000 + seq,
      cmd: { kind: "limit", id, account, side, price: 1_000, qty, tif: TimeInForce.GTC, ...extra },
    });

    it("prevents a member's order from matching another member's (cancel newest by default), not a stranger's", () => {
      const e = new InstrumentEngine("BANK");
      e.apply(limit(1, 1, "second", Side.Sell, 5));
      e.apply(limit(2, 2, "accomplice", Side.Sell, 5));
      const r = e.apply(limit(3, 3, "attacker", Side.Buy, 10, { linked: ["second"] }));
      expect([r.fillCount, r.cancelledQty, r.cancelReason]).to.deep.equal([0, 10, CancelReason.SelfTradeNewest]);
      // the stranger's order behind it is not reached: cancel-newest ends the order, as for the account's own
      const s = e.apply(limit(4, 4, "accomplice2", Side.Buy, 10));
      expect(s.fillCount).to.equal(2);
    });

    it("uses the order's own stp mode with members (decrement both, cancel oldest), and FOK counts them", () => {
      const e = new InstrumentEngine("BANK");
      e.apply(limit(1, 1, "second", Side.Sell, 5));
      e.apply(limit(2, 2, "accomplice", Side.Sell, 5));
      const fok = e.apply(limit(3, 3, "attacker", Side.Buy, 10, { linked: ["second"], tif: TimeInForce.FOK }));
      expect(fok.reject).to.equal(RejectCode.FokNotFillable);
      const oldest = e.apply(limit(4, 4, "attacker", Side.Buy, 5, { linked: ["second"], stp: StpMode.CancelOldest }));
      expect([oldest.fillCount, oldest.fillMakerIds[0]]).to.deep.equal([1, 2]);
      expect(e.book.has(1)).to.equal(false);
      e.apply(limit(5, 5, "second", Side.Sell, 5));
      const dec = e.apply(limit(6, 6, "attacker", Side.Buy, 3, { linked: ["second"], stp: StpMode.DecrementBoth }));
      expect([dec.fillCount, dec.cancelReason]).to.deep.equal([0, CancelReason.SelfTradeDecrement]);
      expect(e.book.get(5)!.qty).to.equal(2);
    });

    it("a snapshot keeps a resting order's linked accounts: a modify after restore is still prevented, and hashes agree", () => {
      const e = new InstrumentEngine("BANK");
      const plain = new InstrumentEngine("BANK");
      plain.apply(limit(1, 1, "x", Side.Sell, 1));
      const before = plain.hash();
      expect(InstrumentEngine.fromSnapshot(plain.snapshot()).hash()).to.equal(before);
      e.apply(limit(1, 1, "attacker", Side.Buy, 5, { linked: ["second"], price: 990 }));
      e.apply(limit(2, 2, "second", Side.Sell, 5, { price: 1_000 }));
      const restored = InstrumentEngine.fromSnapshot(e.snapshot());
      expect(restored.hash()).to.equal(e.hash());
      for (const engine of [e, restored]) {
        const r = engine.apply({
          seq: 3,
          ts: 1_010,
          cmd: { kind: "modify", id: 1, account: "attacker", price: 1_000 },
        });
        expect([r.fillCount, r.cancelReason]).to.deep.equal([0, CancelReason.SelfTradeNewest]);
      }
      expect(restored.hash()).to.equal(e.hash());
    });
  });
});
