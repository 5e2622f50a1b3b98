import { expect } from "chai";
import hre from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import {
  CNY,
  WAD,
  marginFixture,
  pct,
  price,
  setTier,
  zeroRate,
  type MarginFixture,
} from "../../helpers/marginFixture";
import {
  AgreementBinding__factory,
  AgreementRegistry__factory,
  AgreementSettlement__factory,
  type AgreementBinding,
  type AgreementRegistry,
  type AgreementSettlement,
} from "../../../typechain-types";
import {
  agreementDomain,
  agreementMessage,
  agreementTypedData,
  buildAgreement,
} from "../../../offchain/settlement/legal";
import { seedTerms } from "../../offchain/settlement/legal/seed";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";

const TERM = 90 * 86_400;

interface Fx extends MarginFixture {
  binding: AgreementBinding;
  registry: AgreementRegistry;
  /** Closes agreements (settleEnd, the operator's) after their end waterfall. */
  settlement: AgreementSettlement;
  /** Anchors an agreement for `client` (signed by it and the platform) from a second ago to `term` seconds on. */
  anchor(client: HardhatEthersSigner, tag: string, term?: number): Promise<{ id: string; expiresAt: bigint }>;
  /** Anchors, proposes (operator) and accepts (client) an agreement: leverage and penalty as 18-decimal ratios. */
  bind(client: HardhatEthersSigner, tag: string, leverage: bigint, penalty: bigint): Promise<string>;
}

async function fixture(): Promise<Fx> {
  const fx = await marginFixture();
  const c = fx.record.contracts;
  const operator = fx.actors.operator;
  const binding = AgreementBinding__factory.connect(c.AgreementBinding, operator);
  const registry = AgreementRegistry__factory.connect(c.AgreementRegistry, operator);
  const settlement = AgreementSettlement__factory.connect(c.AgreementSettlement, operator);
  const domain = agreementDomain((await hre.ethers.provider.getNetwork()).chainId, c.AgreementRegistry);
  const anchor: Fx["anchor"] = async (client, tag, term = TERM) => {
    const now = await time.latest();
    const doc = buildAgreement(
      seedTerms(client.address, operator.address, {
        agreementId: hre.ethers.id(tag),
        effectiveAt: now - 1,
        expiresAt: now + term,
      }),
    );
    const td = agreementTypedData(domain, agreementMessage(doc));
    const sigs = await Promise.all([client, operator].map((s) => s.signTypedData(td.domain, td.types, td.message)));
    await registry.anchor(agreementMessage(doc), sigs[0], sigs[1]);
    return { id: doc.terms.agreementId, expiresAt: BigInt(doc.terms.expiresAt) };
  };
  const bind: Fx["bind"] = async (client, tag, leverage, penalty) => {
    const { id } = await anchor(client, tag);
    await binding.propose(id, leverage, penalty);
    await binding.connect(client).accept(id, leverage, penalty);
    return id;
  };
  return { ...fx, binding, registry, settlement, anchor, bind };
}

/** Every borrow needs an agreement (what production deploys with once the seed binds its clients). */
async function required(): Promise<Fx> {
  const fx = await fixture();
  await fx.binding.connect(fx.actors.admin).requireAgreements();
  return fx;
}

/**
 * Issue 22, written as the attacks first: a client (with a second account and an accomplice) and the operator try
 * to borrow outside a financing agreement or liquidate beyond it; each is refused by a rule of AgreementBinding or
 * the MarginEngine consulting it (docs/security.md, "Financing agreement binding").
 */
describe("AgreementBinding: the financing agreement binds the margin account", () => {
  describe("attacks", () => {
    it("a client borrows without an agreement: AgreementNotBound", async () => {
      const fx = await loadFixture(required);
      await fx.fundAccount(fx.clientA, fx.cash, 100_000n * CNY);
      await expect(fx.engine.connect(fx.clientA).borrow(10_000n * CNY))
        .to.be.revertedWithCustomError(fx.binding, "AgreementNotBound")
        .withArgs(fx.clientA.address);
    });

    it("a client borrows above its agreed leverage (1.5× under a 3× KYC tier): MarginLeverageExceeded at 1.5×", async () => {
      const fx = await loadFixture(required);
      await fx.bind(fx.clientB, "B-1", pct(150), pct(5));
      await fx.fundAccount(fx.clientB, fx.cash, 100_000n * CNY);
      // exposure 160,000 on equity 100,000: within the tier's 3×, above the agreed 1.5×
      await expect(fx.engine.connect(fx.clientB).borrow(60_000n * CNY))
        .to.be.revertedWithCustomError(fx.engine, "MarginLeverageExceeded")
        .withArgs(fx.clientB.address, 160_000n * CNY, 100_000n * CNY, pct(150));
      await expect(fx.engine.connect(fx.clientB).borrow(50_000n * CNY)).to.emit(fx.engine, "Borrowed");
    });

    it("an accomplice borrows under someone else's agreement: AgreementNotClient, and its account stays unbound", async () => {
      const fx = await loadFixture(required);
      const { id } = await fx.anchor(fx.clientA, "A-1");
      await fx.binding.propose(id, pct(200), pct(5));
      await expect(fx.binding.connect(fx.clientB).accept(id, pct(200), pct(5)))
        .to.be.revertedWithCustomError(fx.binding, "AgreementNotClient")
        .withArgs(id, fx.clientB.address, fx.clientA.address);
      await fx.fundAccount(fx.clientB, fx.cash, 100_000n * CNY);
      await expect(fx.engine.connect(fx.clientB).borrow(1n)).to.be.revertedWithCustomError(
        fx.binding,
        "AgreementNotBound",
      );
    });

    it("a client borrows under a closed agreement: AgreementInactive", async () => {
      const fx = await loadFixture(required);
      const id = await fx.bind(fx.clientA, "A-2", pct(200), pct(5));
      await fx.fundAccount(fx.clientA, fx.cash, 100_000n * CNY);
      // An agreement closes through its end waterfall: ended (here terminated by the client), no debt, no position.
      await fx.binding.connect(fx.clientA).terminate(fx.clientA.address);
      await fx.settlement.settleEnd(id, 0n, 0n, hre.ethers.id("final"));
      const a = await fx.registry.agreementOf(id);
      const b = await fx.binding.bindingOf(fx.clientA.address);
      expect(a.closedAt).to.be.greaterThan(0n);
      await expect(fx.engine.connect(fx.clientA).borrow(1_000n * CNY))
        .to.be.revertedWithCustomError(fx.binding, "AgreementInactive")
        .withArgs(id, b.effectiveAt, b.expiresAt, a.closedAt);
    });

    it("a client borrows after its agreement expired: AgreementInactive; a new agreement must be bound", async () => {
      const fx = await loadFixture(required);
      const id = await fx.bind(fx.clientA, "A-3", pct(200), pct(5));
      await fx.fundAccount(fx.clientA, fx.cash, 100_000n * CNY);
      await fx.engine.connect(fx.clientA).borrow(1_000n * CNY);
      const a = await fx.registry.agreementOf(id);
      await time.increaseTo(a.expiresAt);
      await fx.refreshPrices();
      await expect(fx.engine.connect(fx.clientA).borrow(1_000n * CNY))
        .to.be.revertedWithCustomError(fx.binding, "AgreementInactive")
        .withArgs(id, a.effectiveAt, a.expiresAt, 0n);
      await fx.bind(fx.clientA, "A-3b", pct(200), pct(5));
      await expect(fx.engine.connect(fx.clientA).borrow(1_000n * CNY)).to.emit(fx.engine, "Borrowed");
    });

    it("the operator cannot bind an account: only the agreement's client accepts, and only the numbers proposed", async () => {
      const fx = await loadFixture(required);
      const { id } = await fx.anchor(fx.clientA, "A-4");
      // the operator accepting for the client is the wrong party
      await expect(fx.binding.accept(id, pct(200), pct(5)))
        .to.be.revertedWithCustomError(fx.binding, "AgreementNotClient")
        .withArgs(id, fx.actors.operator.address, fx.clientA.address);
      // the client accepts what it agreed (2×, 5 %) but the operator proposed other numbers: refused
      await fx.binding.propose(id, pct(500), pct(20));
      await expect(fx.binding.connect(fx.clientA).accept(id, pct(200), pct(5)))
        .to.be.revertedWithCustomError(fx.binding, "AgreementBindingMismatch")
        .withArgs(id, pct(200), pct(5));
      // once bound, a later proposal does not change the binding the client accepted
      await fx.binding.propose(id, pct(200), pct(5));
      await fx.binding.connect(fx.clientA).accept(id, pct(200), pct(5));
      await fx.binding.propose(id, pct(500), pct(20));
      const b = await fx.binding.bindingOf(fx.clientA.address);
      expect([b.agreementId, b.maxLeverage, b.maxPenalty]).to.deep.equal([id, pct(200), pct(5)]);
      // nobody but the operator proposes; nobody but the admin requires or sets the registry
      await expect(fx.binding.connect(fx.clientA).propose(id, pct(500), pct(20))).to.be.revertedWithCustomError(
        fx.binding,
        "AccessManagedUnauthorized",
      );
      await expect(fx.binding.requireAgreements()).to.be.revertedWithCustomError(
        fx.binding,
        "AccessManagedUnauthorized",
      );
      await expect(fx.binding.connect(fx.actors.admin).setRegistry(fx.clientA.address))
        .to.be.revertedWithCustomError(fx.binding, "AgreementBindingRegistrySet")
        .withArgs(await fx.registry.getAddress());
    });

    it("the operator proposes for a closed agreement or with numbers no agreement carries: refused", async () => {
      const fx = await loadFixture(required);
      const { id } = await fx.anchor(fx.clientA, "A-5");
      await expect(fx.binding.propose(id, pct(50), pct(5)))
        .to.be.revertedWithCustomError(fx.binding, "AgreementInvalidBindingTerms")
        .withArgs(id, pct(50), pct(5));
      await expect(fx.binding.propose(id, pct(200), pct(60)))
        .to.be.revertedWithCustomError(fx.binding, "AgreementInvalidBindingTerms")
        .withArgs(id, pct(200), pct(60));
      // an operator and a client agreeing on no penalty would leave no stranger paid to liquidate the account
      await expect(fx.binding.propose(id, pct(200), 0n))
        .to.be.revertedWithCustomError(fx.binding, "AgreementInvalidBindingTerms")
        .withArgs(id, pct(200), 0n);
      await expect(fx.binding.propose(id, pct(200), pct(1) - 1n))
        .to.be.revertedWithCustomError(fx.binding, "AgreementInvalidBindingTerms")
        .withArgs(id, pct(200), pct(1) - 1n);
      await fx.settlement.settleEnd(id, 0n, 0n, hre.ethers.id("final")); // never bound: closes with no shares
      await expect(fx.binding.propose(id, pct(200), pct(5))).to.be.revertedWithCustomError(
        fx.binding,
        "AgreementInactive",
      );
      await expect(fx.binding.propose(hre.ethers.id("never"), pct(200), pct(5))).to.be.revertedWithCustomError(
        fx.registry,
        "AgreementNotAnchored",
      );
    });

    it("a liquidator takes a penalty above the agreed one: the engine applies the agreed 2 %, not the asset's 10 %", async () => {
      const fx = await loadFixture(required);
      const { engine, clientA, liquidator } = fx;
      await zeroRate(fx);
      for (const tier of [1, 2, 3]) await setTier(fx, tier, pct(15), pct(5));
      await engine
        .connect(fx.actors.riskOfficer)
        .configureAsset(await fx.small.getAddress(), 3, 0n, pct(10), 10n ** 9n);
      await fx.bind(clientA, "A-6", pct(200), pct(2));
      await fx.fundAccount(clientA, fx.cash, 50_000n * CNY);
      await engine.connect(clientA).borrow(50_000n * CNY);
      await fx.buy(clientA, fx.small, 2_000n, price(50));
      await fx.setPrice(fx.small, price(26.5)); // positions 53,000, debt 50,000: equity 3,000 below the hard line 3,975
      await fx.advance((await engine.params()).oracleGrace);
      const rc = await (await engine.connect(liquidator).liquidate(clientA.address, 1)).wait();
      const ev = rc!.logs
        .map((l) => {
          try {
            return engine.interface.parseLog(l);
          } catch {
            return null;
          }
        })
        .find((e) => e?.name === "Liquidated")!;
      const value: bigint = ev.args.value;
      const penalty: bigint = ev.args.liquidatorBonus + ev.args.insuranceShare;
      expect(value > 0n).to.equal(true);
      expect(penalty).to.equal((value * pct(2) + WAD - 1n) / WAD); // mulUp(value, 2 %)
    });
  });

  describe("terminate (the agreement ends early: new risk frozen)", () => {
    it("a client cannot terminate another client's binding, nor can a stranger or a non-operator role holder", async () => {
      const fx = await loadFixture(required);
      const id = await fx.bind(fx.clientA, "T-1", pct(200), pct(5));
      for (const caller of [fx.clientB, fx.liquidator, fx.actors.riskOfficer, fx.actors.kycOfficer]) {
        await expect(fx.binding.connect(caller).terminate(fx.clientA.address))
          .to.be.revertedWithCustomError(fx.binding, "AgreementTerminationUnauthorized")
          .withArgs(fx.clientA.address, caller.address);
      }
      const b = await fx.binding.bindingOf(fx.clientA.address);
      expect(b.agreementId).to.equal(id);
      expect(b.expiresAt).to.equal((await fx.registry.agreementOf(id)).expiresAt);
    });

    it("after the client terminates, a borrow reverts AgreementInactive; repay and deposit go on; the penalty cap stays", async () => {
      const fx = await loadFixture(required);
      const id = await fx.bind(fx.clientA, "T-2", pct(200), pct(5));
      await fx.fundAccount(fx.clientA, fx.cash, 100_000n * CNY);
      await fx.engine.connect(fx.clientA).borrow(10_000n * CNY);
      const tx = fx.binding.connect(fx.clientA).terminate(fx.clientA.address);
      await expect(tx).to.emit(fx.binding, "AgreementTerminated").withArgs(fx.clientA.address, id, fx.clientA.address);
      const at = BigInt((await (await tx).getBlock())!.timestamp);
      const b = await fx.binding.bindingOf(fx.clientA.address);
      expect(b.expiresAt).to.equal(at);
      await expect(fx.engine.connect(fx.clientA).borrow(1n))
        .to.be.revertedWithCustomError(fx.binding, "AgreementInactive")
        .withArgs(id, b.effectiveAt, at, 0n);
      await expect(fx.engine.connect(fx.clientA).repay(5_000n * CNY)).to.emit(fx.engine, "Repaid");
      await fx.fundAccount(fx.clientA, fx.cash, 1_000n * CNY);
      expect(await fx.binding.penaltyCapOf(fx.clientA.address)).to.equal(pct(5));
    });

    it("the operator terminates a client's binding (default or expiry handling)", async () => {
      const fx = await loadFixture(required);
      const id = await fx.bind(fx.clientB, "T-3", pct(200), pct(5));
      await expect(fx.binding.terminate(fx.clientB.address))
        .to.emit(fx.binding, "AgreementTerminated")
        .withArgs(fx.clientB.address, id, fx.actors.operator.address);
      await fx.fundAccount(fx.clientB, fx.cash, 10_000n * CNY);
      await expect(fx.engine.connect(fx.clientB).borrow(1n)).to.be.revertedWithCustomError(
        fx.binding,
        "AgreementInactive",
      );
    });

    it("refuses an account without a binding, a second termination, an expired binding and a closed agreement", async () => {
      const fx = await loadFixture(required);
      await expect(fx.binding.terminate(fx.clientC.address))
        .to.be.revertedWithCustomError(fx.binding, "AgreementNotBound")
        .withArgs(fx.clientC.address);
      const id = await fx.bind(fx.clientA, "T-4", pct(200), pct(5));
      await fx.binding.connect(fx.clientA).terminate(fx.clientA.address);
      const ended = (await fx.binding.bindingOf(fx.clientA.address)).expiresAt;
      await expect(fx.binding.terminate(fx.clientA.address))
        .to.be.revertedWithCustomError(fx.binding, "AgreementAlreadyEnded")
        .withArgs(fx.clientA.address, id, ended, 0n);
      await fx.settlement.settleEnd(id, 0n, 0n, hre.ethers.id("final"));
      const closedAt = (await fx.registry.agreementOf(id)).closedAt;
      await expect(fx.binding.connect(fx.clientA).terminate(fx.clientA.address))
        .to.be.revertedWithCustomError(fx.binding, "AgreementAlreadyEnded")
        .withArgs(fx.clientA.address, id, ended, closedAt);
      const idB = await fx.bind(fx.clientB, "T-5", pct(200), pct(5));
      const { expiresAt } = await fx.registry.agreementOf(idB);
      await time.increaseTo(expiresAt);
      await expect(fx.binding.terminate(fx.clientB.address))
        .to.be.revertedWithCustomError(fx.binding, "AgreementAlreadyEnded")
        .withArgs(fx.clientB.address, idB, expiresAt, 0n);
    });

    it("a client re-accepts its terminated agreement to borrow again: AgreementAlreadyEnded, the freeze stays", async () => {
      const fx = await loadFixture(required);
      const id = await fx.bind(fx.clientA, "T-6", pct(200), pct(5));
      await fx.binding.connect(fx.clientA).terminate(fx.clientA.address);
      const ended = (await fx.binding.bindingOf(fx.clientA.address)).expiresAt;
      // the proposal is still there (the operator could even re-propose it): accepting it again is refused
      await fx.binding.propose(id, pct(200), pct(5));
      await expect(fx.binding.connect(fx.clientA).accept(id, pct(200), pct(5)))
        .to.be.revertedWithCustomError(fx.binding, "AgreementAlreadyEnded")
        .withArgs(fx.clientA.address, id, ended, 0n);
      await fx.fundAccount(fx.clientA, fx.cash, 10_000n * CNY);
      await expect(fx.engine.connect(fx.clientA).borrow(1n)).to.be.revertedWithCustomError(
        fx.binding,
        "AgreementInactive",
      );
    });
  });

  describe("before agreements are required (migration)", () => {
    it("an unbound account borrows within its KYC tier; a bound one is held to its agreement", async () => {
      const fx = await loadFixture(fixture);
      expect(await fx.binding.required()).to.equal(false);
      await fx.fundAccount(fx.clientA, fx.cash, 100_000n * CNY);
      await expect(fx.engine.connect(fx.clientA).borrow(10_000n * CNY)).to.emit(fx.engine, "Borrowed");
      expect(await fx.binding.penaltyCapOf(fx.clientA.address)).to.equal(hre.ethers.MaxUint256);
      await fx.bind(fx.clientB, "B-2", pct(120), pct(5));
      await fx.fundAccount(fx.clientB, fx.cash, 100_000n * CNY);
      await expect(fx.engine.connect(fx.clientB).borrow(30_000n * CNY)).to.be.revertedWithCustomError(
        fx.engine,
        "MarginLeverageExceeded",
      );
      await expect(fx.binding.connect(fx.actors.admin).requireAgreements()).to.emit(fx.binding, "AgreementsRequired");
      expect(await fx.binding.required()).to.equal(true);
    });

    it("binding emits AgreementBound with the agreed numbers, and reads back", async () => {
      const fx = await loadFixture(fixture);
      const { id } = await fx.anchor(fx.clientA, "A-7");
      await expect(fx.binding.propose(id, pct(200), pct(5)))
        .to.emit(fx.binding, "BindingProposed")
        .withArgs(id, fx.clientA.address, pct(200), pct(5));
      expect(await fx.binding.proposalOf(id)).to.deep.equal([pct(200), pct(5)]);
      await expect(fx.binding.connect(fx.clientA).accept(id, pct(200), pct(5)))
        .to.emit(fx.binding, "AgreementBound")
        .withArgs(fx.clientA.address, id, pct(200), pct(5));
      expect(await fx.binding.leverageLimit(fx.clientA.address, pct(300))).to.equal(pct(200));
      expect(await fx.binding.leverageLimit(fx.clientA.address, pct(150))).to.equal(pct(150));
      expect(await fx.binding.penaltyCapOf(fx.clientA.address)).to.equal(pct(5));
    });
  });
});
