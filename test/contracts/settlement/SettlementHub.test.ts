import { expect } from "chai";
import hre from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { deploySettlementFixture, type SettlementFixture } from "../../helpers/settlementFixture";
import { orderId, signOrder, type SignedOrderFields } from "../../../offchain/settlement/orders";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { itRejectsCallersWithoutRole } from "../../helpers/behaviours";
import { ROLE } from "../../../scripts/deploy/roles";
import { CollateralToken__factory } from "../../../typechain-types";

const CNY = (n: bigint): bigint => n * 10n ** 6n; // cash base units
const id = (s: string): string => hre.ethers.encodeBytes32String(s);

interface TradeInput {
  buy: SignedOrderFields;
  sell: SignedOrderFields;
  buySigner?: HardhatEthersSigner;
  sellSigner?: HardhatEthersSigner;
  quantity: bigint;
  price: bigint;
}

async function order(
  fx: SettlementFixture,
  who: HardhatEthersSigner,
  side: 0 | 1,
  quantity: bigint,
  limitPrice: bigint,
  nonce: bigint,
  overrides: Partial<SignedOrderFields> = {},
): Promise<SignedOrderFields> {
  return {
    account: who.address,
    instrument: await fx.security.getAddress(),
    side,
    expiry: BigInt(await time.latest()) + 3600n,
    limitPrice,
    quantity,
    nonce,
    ...overrides,
  };
}

async function trade(fx: SettlementFixture, t: TradeInput) {
  const signerOf = (o: SignedOrderFields, s?: HardhatEthersSigner) =>
    s ?? fx.signers.find((x) => x.address === o.account)!;
  return {
    buy: t.buy,
    sell: t.sell,
    buySig: await signOrder(signerOf(t.buy, t.buySigner), fx.domain, t.buy),
    sellSig: await signOrder(signerOf(t.sell, t.sellSigner), fx.domain, t.sell),
    quantity: t.quantity,
    price: t.price,
  };
}

describe("SettlementHub", () => {
  describe("settleBatch", () => {
    it("moves the security seller → buyer and cash buyer → seller atomically, and records the batch", async () => {
      const fx = await loadFixture(deploySettlementFixture);
      const { alice, mm } = fx;
      const sec = await fx.security.getAddress();
      const cash = await fx.cash.getAddress();
      const t = await trade(fx, {
        buy: await order(fx, alice, 0, 100n, CNY(50n), 1n),
        sell: await order(fx, mm, 1, 100n, CNY(49n), 1n),
        quantity: 100n,
        price: CNY(50n),
      });
      const before = {
        aSec: await fx.engine.balanceOf(alice.address, sec),
        aCash: await fx.engine.balanceOf(alice.address, cash),
        mSec: await fx.engine.balanceOf(mm.address, sec),
        mCash: await fx.engine.balanceOf(mm.address, cash),
      };
      const tx = fx.hub.connect(fx.operator).settleBatch(id("batch-1"), [t]);
      const leaf = await fx.hub.tradeLeaf(id("batch-1"), 0, orderId(t.buy), orderId(t.sell), 100n, CNY(50n));
      await expect(tx).to.emit(fx.hub, "BatchSettled").withArgs(id("batch-1"), leaf, 1);
      await expect(tx)
        .to.emit(fx.hub, "TradeSettled")
        .withArgs(id("batch-1"), orderId(t.buy), orderId(t.sell), 0, 100n, CNY(50n));
      await expect(tx)
        .to.emit(fx.engine, "TradeLegsSettled")
        .withArgs(alice.address, mm.address, sec, 100n, CNY(5_000n));
      expect(await fx.engine.balanceOf(alice.address, sec)).to.equal(before.aSec + 100n);
      expect(await fx.engine.balanceOf(alice.address, cash)).to.equal(before.aCash - CNY(5_000n));
      expect(await fx.engine.balanceOf(mm.address, sec)).to.equal(before.mSec - 100n);
      expect(await fx.engine.balanceOf(mm.address, cash)).to.equal(before.mCash + CNY(5_000n));
      const rec = await fx.hub.batch(id("batch-1"));
      expect(rec.tradesRoot).to.equal(leaf);
      expect(rec.tradeCount).to.equal(1);
    });

    it("never settles the same batch id twice", async () => {
      const fx = await loadFixture(deploySettlementFixture);
      const t = await trade(fx, {
        buy: await order(fx, fx.alice, 0, 10n, CNY(50n), 1n),
        sell: await order(fx, fx.mm, 1, 20n, CNY(50n), 1n),
        quantity: 10n,
        price: CNY(50n),
      });
      await fx.hub.connect(fx.operator).settleBatch(id("b"), [t]);
      await expect(fx.hub.connect(fx.operator).settleBatch(id("b"), [t]))
        .to.be.revertedWithCustomError(fx.hub, "HubBatchAlreadySettled")
        .withArgs(id("b"));
    });

    it("fills an order partially across batches and refuses an overfill", async () => {
      const fx = await loadFixture(deploySettlementFixture);
      const sell = await order(fx, fx.mm, 1, 100n, CNY(50n), 7n);
      const b1 = await order(fx, fx.alice, 0, 60n, CNY(50n), 1n);
      const b2 = await order(fx, fx.bob, 0, 60n, CNY(50n), 1n);
      await fx.hub
        .connect(fx.operator)
        .settleBatch(id("b1"), [await trade(fx, { buy: b1, sell, quantity: 60n, price: CNY(50n) })]);
      expect((await fx.hub.orderStatus(sell)).filled).to.equal(60n);
      const over = await trade(fx, { buy: b2, sell, quantity: 50n, price: CNY(50n) });
      await expect(fx.hub.connect(fx.operator).settleBatch(id("b2"), [over]))
        .to.be.revertedWithCustomError(fx.hub, "HubOverfill")
        .withArgs(0, orderId(sell), 60n, 50n, 100n);
      await fx.hub
        .connect(fx.operator)
        .settleBatch(id("b3"), [await trade(fx, { buy: b2, sell, quantity: 40n, price: CNY(50n) })]);
      const status = await fx.hub.orderStatus(sell);
      expect(status.spent).to.equal(true);
      // The fully filled order cannot trade again, even for a quantity that would fit.
      const b3 = await order(fx, fx.bob, 0, 1n, CNY(50n), 2n);
      await expect(
        fx.hub
          .connect(fx.operator)
          .settleBatch(id("b4"), [await trade(fx, { buy: b3, sell, quantity: 1n, price: CNY(50n) })]),
      )
        .to.be.revertedWithCustomError(fx.hub, "HubOrderNotLive")
        .withArgs(0, orderId(sell));
    });

    it("rejects a price outside either limit", async () => {
      const fx = await loadFixture(deploySettlementFixture);
      const buy = await order(fx, fx.alice, 0, 10n, CNY(50n), 1n);
      const sell = await order(fx, fx.mm, 1, 10n, CNY(49n), 1n);
      for (const price of [CNY(51n), CNY(48n)]) {
        await expect(
          fx.hub.connect(fx.operator).settleBatch(id("p"), [await trade(fx, { buy, sell, quantity: 10n, price })]),
        )
          .to.be.revertedWithCustomError(fx.hub, "HubPriceOutsideLimit")
          .withArgs(0, price, CNY(50n), CNY(49n));
      }
    });

    it("rejects wrong sides, a self-trade, a zero quantity, an unlisted or mismatched instrument", async () => {
      const fx = await loadFixture(deploySettlementFixture);
      const op = fx.hub.connect(fx.operator);
      const buy = await order(fx, fx.alice, 0, 10n, CNY(50n), 1n);
      const sell = await order(fx, fx.mm, 1, 10n, CNY(50n), 1n);
      await expect(op.settleBatch(id("x"), [await trade(fx, { buy: sell, sell: buy, quantity: 10n, price: CNY(50n) })]))
        .to.be.revertedWithCustomError(fx.hub, "HubWrongSide")
        .withArgs(0);
      const selfSell = await order(fx, fx.alice, 1, 10n, CNY(50n), 2n);
      await expect(op.settleBatch(id("x"), [await trade(fx, { buy, sell: selfSell, quantity: 10n, price: CNY(50n) })]))
        .to.be.revertedWithCustomError(fx.hub, "HubSelfTrade")
        .withArgs(0, fx.alice.address);
      await expect(op.settleBatch(id("x"), [await trade(fx, { buy, sell, quantity: 0n, price: CNY(50n) })]))
        .to.be.revertedWithCustomError(fx.hub, "HubZeroQuantityOrPrice")
        .withArgs(0);
      const other = await fx.otherSecurity.getAddress();
      const sellOther = await order(fx, fx.mm, 1, 10n, CNY(50n), 3n, { instrument: other });
      await expect(op.settleBatch(id("x"), [await trade(fx, { buy, sell: sellOther, quantity: 10n, price: CNY(50n) })]))
        .to.be.revertedWithCustomError(fx.hub, "HubInstrumentMismatch")
        .withArgs(0);
      const buyUnlisted = await order(fx, fx.alice, 0, 10n, CNY(50n), 4n, { instrument: fx.unlisted });
      const sellUnlisted = await order(fx, fx.mm, 1, 10n, CNY(50n), 4n, { instrument: fx.unlisted });
      await expect(
        op.settleBatch(id("x"), [
          await trade(fx, { buy: buyUnlisted, sell: sellUnlisted, quantity: 10n, price: CNY(50n) }),
        ]),
      )
        .to.be.revertedWithCustomError(fx.hub, "HubInstrumentNotListed")
        .withArgs(0, fx.unlisted);
      await expect(op.settleBatch(id("x"), [])).to.be.revertedWithCustomError(fx.hub, "HubEmptyBatch");
    });

    it("rejects an expired order", async () => {
      const fx = await loadFixture(deploySettlementFixture);
      const now = BigInt(await time.latest());
      const buy = await order(fx, fx.alice, 0, 10n, CNY(50n), 1n, { expiry: now + 5n });
      const sell = await order(fx, fx.mm, 1, 10n, CNY(50n), 1n);
      const t = await trade(fx, { buy, sell, quantity: 10n, price: CNY(50n) });
      await time.increase(10);
      await expect(fx.hub.connect(fx.operator).settleBatch(id("x"), [t]))
        .to.be.revertedWithCustomError(fx.hub, "HubOrderExpired")
        .withArgs(0, orderId(buy), now + 5n);
    });

    it("rejects a signature by anyone but the owner or a live trading key, and one for another hub", async () => {
      const fx = await loadFixture(deploySettlementFixture);
      const buy = await order(fx, fx.alice, 0, 10n, CNY(50n), 1n);
      const sell = await order(fx, fx.mm, 1, 10n, CNY(50n), 1n);
      const forged = await trade(fx, { buy, sell, buySigner: fx.bob, quantity: 10n, price: CNY(50n) });
      await expect(fx.hub.connect(fx.operator).settleBatch(id("x"), [forged]))
        .to.be.revertedWithCustomError(fx.hub, "HubBadSignature")
        .withArgs(0, orderId(buy), fx.bob.address);
      const otherDomain = { ...fx.domain, verifyingContract: fx.unlisted };
      const t = await trade(fx, { buy, sell, quantity: 10n, price: CNY(50n) });
      t.buySig = await signOrder(fx.alice, otherDomain, buy);
      await expect(fx.hub.connect(fx.operator).settleBatch(id("x"), [t])).to.be.revertedWithCustomError(
        fx.hub,
        "HubBadSignature",
      );
    });

    it("accepts a delegated trading key until it expires or is revoked", async () => {
      const fx = await loadFixture(deploySettlementFixture);
      const key = fx.tradingKey;
      const expiry = BigInt(await time.latest()) + 1000n;
      await expect(fx.hub.connect(fx.alice).setTradingKey(key.address, expiry))
        .to.emit(fx.hub, "TradingKeySet")
        .withArgs(fx.alice.address, key.address, expiry);
      const sell = await order(fx, fx.mm, 1, 30n, CNY(50n), 1n);
      const buy1 = await order(fx, fx.alice, 0, 10n, CNY(50n), 1n);
      await fx.hub
        .connect(fx.operator)
        .settleBatch(id("k1"), [await trade(fx, { buy: buy1, sell, buySigner: key, quantity: 10n, price: CNY(50n) })]);
      await expect(fx.hub.connect(fx.alice).revokeTradingKey(key.address))
        .to.emit(fx.hub, "TradingKeyRevoked")
        .withArgs(fx.alice.address, key.address);
      const buy2 = await order(fx, fx.alice, 0, 10n, CNY(50n), 2n);
      await expect(
        fx.hub
          .connect(fx.operator)
          .settleBatch(id("k2"), [
            await trade(fx, { buy: buy2, sell, buySigner: key, quantity: 10n, price: CNY(50n) }),
          ]),
      )
        .to.be.revertedWithCustomError(fx.hub, "HubBadSignature")
        .withArgs(0, orderId(buy2), key.address);
      await fx.hub.connect(fx.alice).setTradingKey(key.address, BigInt(await time.latest()) + 10n);
      await time.increase(20);
      const buy3 = await order(fx, fx.alice, 0, 10n, CNY(50n), 3n);
      await expect(
        fx.hub
          .connect(fx.operator)
          .settleBatch(id("k3"), [
            await trade(fx, { buy: buy3, sell, buySigner: key, quantity: 10n, price: CNY(50n) }),
          ]),
      ).to.be.revertedWithCustomError(fx.hub, "HubBadSignature");
    });

    it("refuses an invalid trading key delegation", async () => {
      const fx = await loadFixture(deploySettlementFixture);
      const later = BigInt(await time.latest()) + 100n;
      await expect(fx.hub.connect(fx.alice).setTradingKey(hre.ethers.ZeroAddress, later)).to.be.revertedWithCustomError(
        fx.hub,
        "HubInvalidTradingKey",
      );
      await expect(fx.hub.connect(fx.alice).setTradingKey(fx.alice.address, later)).to.be.revertedWithCustomError(
        fx.hub,
        "HubInvalidTradingKey",
      );
      await expect(fx.hub.connect(fx.alice).setTradingKey(fx.tradingKey.address, 1n)).to.be.revertedWithCustomError(
        fx.hub,
        "HubInvalidTradingKey",
      );
      await expect(fx.hub.connect(fx.alice).revokeTradingKey(fx.tradingKey.address)).to.be.revertedWithCustomError(
        fx.hub,
        "HubInvalidTradingKey",
      );
    });

    it("honours an on-chain cancellation and a raised minimum nonce", async () => {
      const fx = await loadFixture(deploySettlementFixture);
      const buy = await order(fx, fx.alice, 0, 10n, CNY(50n), 5n);
      const sell = await order(fx, fx.mm, 1, 100n, CNY(50n), 1n);
      await expect(fx.hub.connect(fx.alice).cancelOrder(buy))
        .to.emit(fx.hub, "OrderCancelled")
        .withArgs(fx.alice.address, orderId(buy), 5n);
      await expect(
        fx.hub
          .connect(fx.operator)
          .settleBatch(id("c1"), [await trade(fx, { buy, sell, quantity: 10n, price: CNY(50n) })]),
      )
        .to.be.revertedWithCustomError(fx.hub, "HubOrderNotLive")
        .withArgs(0, orderId(buy));
      await expect(fx.hub.connect(fx.bob).cancelOrder(sell))
        .to.be.revertedWithCustomError(fx.hub, "HubNotOrderOwner")
        .withArgs(fx.bob.address, fx.mm.address);
      await expect(fx.hub.connect(fx.alice).raiseMinNonce(10n))
        .to.emit(fx.hub, "MinNonceRaised")
        .withArgs(fx.alice.address, 10n);
      await expect(fx.hub.connect(fx.alice).raiseMinNonce(10n))
        .to.be.revertedWithCustomError(fx.hub, "HubNonceNotIncreasing")
        .withArgs(10n, 10n);
      const old = await order(fx, fx.alice, 0, 10n, CNY(50n), 9n);
      await expect(
        fx.hub
          .connect(fx.operator)
          .settleBatch(id("c2"), [await trade(fx, { buy: old, sell, quantity: 10n, price: CNY(50n) })]),
      )
        .to.be.revertedWithCustomError(fx.hub, "HubOrderNotLive")
        .withArgs(0, orderId(old));
      const fresh = await order(fx, fx.alice, 0, 10n, CNY(50n), 10n);
      await fx.hub
        .connect(fx.operator)
        .settleBatch(id("c3"), [await trade(fx, { buy: fresh, sell, quantity: 10n, price: CNY(50n) })]);
    });

    it("reverts the whole batch, naming the trade, when a buyer ends below initial margin; a seller reducing risk settles", async () => {
      const fx = await loadFixture(deploySettlementFixture);
      // Bob is leveraged 2x at an oracle price of 10 CNY; paying 50 for 300 shares destroys his equity.
      const sell = await order(fx, fx.mm, 1, 100_000n, CNY(1n), 1n);
      const ok = await trade(fx, {
        buy: await order(fx, fx.bob, 0, 10n, CNY(10n), 1n),
        sell,
        quantity: 10n,
        price: CNY(10n),
      });
      const tooMuch = await trade(fx, {
        buy: await order(fx, fx.bob, 0, 300n, CNY(50n), 2n),
        sell,
        quantity: 300n,
        price: CNY(50n),
      });
      const sec = await fx.security.getAddress();
      const bobBefore = await fx.engine.balanceOf(fx.bob.address, sec);
      await expect(fx.hub.connect(fx.operator).settleBatch(id("m1"), [ok, tooMuch]))
        .to.be.revertedWithCustomError(fx.hub, "HubInitialMarginBreached")
        .withArgs(1, fx.bob.address);
      expect(await fx.engine.balanceOf(fx.bob.address, sec)).to.equal(bobBefore);
      expect((await fx.hub.batch(id("m1"))).settledAt).to.equal(0);
      await fx.hub.connect(fx.operator).settleBatch(id("m2"), [ok]);
      // Bob is now at his 2x cap; selling back reduces his risk and always settles.
      const back = await trade(fx, {
        buy: await order(fx, fx.mm, 0, 10n, CNY(10n), 2n),
        sell: await order(fx, fx.bob, 1, 10n, CNY(10n), 3n),
        quantity: 10n,
        price: CNY(10n),
      });
      await fx.hub.connect(fx.operator).settleBatch(id("m3"), [back]);
      expect(await fx.engine.balanceOf(fx.bob.address, sec)).to.equal(bobBefore);
    });

    it("never pays a seller below quantity × its limit: the cash leg rounds up on an instrument with decimals", async () => {
      const fx = await loadFixture(deploySettlementFixture);
      // A 2-decimal instrument (0.01-share lots), listed in the engine and the hub.
      const frac = await new CollateralToken__factory(fx.actors.admin).deploy(
        "Fractional Share",
        "mbFRAC",
        2,
        await fx.manager.getAddress(),
        await fx.kyc.getAddress(),
      );
      const fracAddr = await frac.getAddress();
      const mint = CollateralToken__factory.createInterface().getFunction("mint")!.selector;
      await fx.manager.setTargetFunctionRole(fracAddr, [mint], ROLE.CUSTODIAN);
      await frac.setSystemAccount(await fx.engine.getAddress(), true);
      await fx.engine.connect(fx.actors.riskOfficer).configureAsset(fracAddr, 1, 0n, 5n * 10n ** 16n, 10n ** 9n);
      await fx.hub.connect(fx.operator).listInstrument(fracAddr);
      await fx.fundAccount(fx.mm, frac, 300n);
      // 3.333333 CNY per whole share: one lot is worth 33,333.33 base units of cash.
      const limit = 3_333_333n;
      const sell = await order(fx, fx.mm, 1, 3n, limit, 7n, { instrument: fracAddr });
      const cash = await fx.cash.getAddress();
      const before = await fx.engine.balanceOf(fx.mm.address, cash);
      for (let i = 0n; i < 3n; i++) {
        const buy = await order(fx, fx.alice, 0, 1n, limit, 20n + i, { instrument: fracAddr });
        const t = await trade(fx, { buy, sell, quantity: 1n, price: limit });
        await expect(fx.hub.connect(fx.operator).settleBatch(id(`frac-${i}`), [t]))
          .to.emit(fx.engine, "TradeLegsSettled")
          .withArgs(fx.alice.address, fx.mm.address, fracAddr, 1n, 33_334n);
      }
      // Three fills pay 100,002 ≥ 3 × 3,333,333 / 100 = 99,999.99 (rounding down would have paid 99,999).
      expect((await fx.engine.balanceOf(fx.mm.address, cash)) - before).to.equal(100_002n);
    });

    it("stores a Merkle root of the batch's trades that a client can prove inclusion against", async () => {
      const fx = await loadFixture(deploySettlementFixture);
      const sell = await order(fx, fx.mm, 1, 1_000n, CNY(50n), 1n);
      const trades = [];
      for (let i = 0; i < 3; i++) {
        const who = i % 2 === 0 ? fx.alice : fx.bob;
        trades.push(
          await trade(fx, {
            buy: await order(fx, who, 0, 5n, CNY(50n), BigInt(10 + i)),
            sell,
            quantity: 5n,
            price: CNY(50n),
          }),
        );
      }
      await fx.hub.connect(fx.operator).settleBatch(id("r"), trades);
      const leaves = await Promise.all(
        trades.map((t, i) => fx.hub.tradeLeaf(id("r"), i, orderId(t.buy), orderId(t.sell), t.quantity, t.price)),
      );
      const pair = (a: string, b: string) => hre.ethers.keccak256(hre.ethers.concat([a, b]));
      // Three leaves: the odd one is promoted, not duplicated.
      const root = pair(pair(leaves[0], leaves[1]), leaves[2]);
      expect((await fx.hub.batch(id("r"))).tradesRoot).to.equal(root);
    });
  });

  describe("listInstrument", () => {
    it("lists once with the token's decimals as the price scale", async () => {
      const fx = await loadFixture(deploySettlementFixture);
      expect(await fx.hub.instrumentScale(await fx.security.getAddress())).to.equal(1n);
      await expect(fx.hub.connect(fx.operator).listInstrument(await fx.security.getAddress()))
        .to.be.revertedWithCustomError(fx.hub, "HubInstrumentAlreadyListed")
        .withArgs(await fx.security.getAddress());
    });
  });

  describe("access control", () => {
    itRejectsCallersWithoutRole(async () => {
      const fx = await loadFixture(deploySettlementFixture);
      return {
        contract: fx.hub,
        outsider: fx.alice,
        calls: [
          { name: "settleBatch", call: (s) => fx.hub.connect(s).settleBatch(id("z"), []) },
          { name: "listInstrument", call: (s) => fx.hub.connect(s).listInstrument(fx.unlisted) },
        ],
      };
    });

    it("lets only the hub move balances between margin accounts", async () => {
      const fx = await loadFixture(deploySettlementFixture);
      await expect(
        fx.engine
          .connect(fx.operator)
          .settleTrade(fx.alice.address, fx.mm.address, await fx.security.getAddress(), 1n, 1n),
      ).to.be.revertedWithCustomError(fx.engine, "AccessManagedUnauthorized");
    });
  });
});
