import { expect } from "chai";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import {
  CNY,
  State,
  marginFixture,
  pct,
  price,
  setTier,
  zeroRate,
  type MarginFixture,
} from "../../helpers/marginFixture";
import { identityHash, inAYear } from "../../helpers/fixtures";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";

/** Skip reasons of LiquidationSkipped (IMarginEngine.LiquidationSkip). */
enum Skip {
  None,
  SameIdentity,
  NotLiquidatable,
  NothingSeizable,
}

const addr = (c: { getAddress(): Promise<string> }): Promise<string> => c.getAddress();

interface Crash extends MarginFixture {
  victims: HardhatEthersSigner[];
}

/** Four 5× accounts of 2,000 mbBANK each with 15,000 borrowed and withdrawn; mbBANK falls
 *  to 7.9: every account is below its hard line. Tier 1 at 15% / 20%, no interest. */
async function crash(): Promise<Crash> {
  const fx = await marginFixture();
  await zeroRate(fx);
  await setTier(fx, 1, pct(15), pct(5));
  const victims: HardhatEthersSigner[] = [];
  for (let i = 0; i < 4; i++) {
    const w = hre.ethers.Wallet.createRandom().connect(hre.ethers.provider);
    await hre.network.provider.send("hardhat_setBalance", [w.address, "0x56BC75E2D63100000"]);
    await fx.kyc.connect(fx.actors.kycOfficer).setIdentity(w.address, 5, 156, await inAYear(), identityHash(`v${i}`));
    const signer = await hre.ethers.getImpersonatedSigner(w.address);
    await fx.fundAccount(signer, fx.bank, 2_000n);
    await fx.engine.connect(signer).borrow(15_000n * CNY);
    await fx.engine.connect(signer).withdraw(await addr(fx.cash), 15_000n * CNY);
    victims.push(signer);
  }
  await fx.setPrice(fx.bank, price(7.9)); // equity 800 < the hard line 0.5 · 15% · 15,800 = 1,185
  await fx.advance((await fx.engine.params()).oracleGrace);
  return { ...fx, victims };
}

describe("MarginEngine.liquidateMany (issue 24)", () => {
  it("liquidates several accounts in one transaction exactly as one call each would", async () => {
    const one = await loadFixture(crash);
    for (const v of one.victims)
      expect(Number(await one.engine.accountState(v.address))).to.be.oneOf([State.Liquidatable, State.Defaulted]);
    const after = async (fx: Crash) =>
      Promise.all(
        fx.victims.map(async (v) => [
          await fx.engine.balanceOf(v.address, await addr(fx.bank)),
          (await fx.engine.debtOf(v.address)).debt,
          await fx.engine.balanceOf(v.address, await addr(fx.cash)),
        ]),
      );
    for (const v of one.victims) await one.engine.connect(one.liquidator).liquidate(v.address, 5);
    const singly = await after(one);
    const many = await loadFixture(crash);
    const tx = many.engine.connect(many.liquidator).liquidateMany(
      many.victims.map((v) => v.address),
      5,
    );
    await expect(tx).to.not.emit(many.engine, "LiquidationSkipped");
    expect(await many.engine.connect(many.liquidator).liquidateMany.staticCall([], 5)).to.equal(0n);
    expect(await after(many)).to.deep.equal(singly);
    expect(await many.engine.insuranceOwed()).to.equal(await one.engine.insuranceOwed());
  });

  it("passes over a cured account, the liquidator's own identity and one with nothing to seize, and liquidates the rest", async () => {
    const fx = await loadFixture(crash);
    const [cured, mine, frozen, plain] = fx.victims;
    // cured: its owner deposits enough cash to be healthy again
    await fx.fundAccount(cured, fx.cash, 20_000n * CNY);
    // mine: registered under the liquidator's identity (the same person's two addresses)
    await fx.kyc
      .connect(fx.actors.kycOfficer)
      .setIdentity(fx.liquidator.address, 1, 156, await inAYear(), identityHash("v1"));
    // frozen: its shares are frozen by the token (nothing a liquidation may take)
    await fx.bank.connect(fx.actors.operator).setFrozen(frozen.address, true);
    const tx = fx.engine.connect(fx.liquidator).liquidateMany(
      fx.victims.map((v) => v.address),
      5,
    );
    await expect(tx)
      .to.emit(fx.engine, "LiquidationSkipped")
      .withArgs(cured.address, fx.liquidator.address, Skip.NotLiquidatable);
    await expect(tx)
      .to.emit(fx.engine, "LiquidationSkipped")
      .withArgs(mine.address, fx.liquidator.address, Skip.SameIdentity);
    await expect(tx)
      .to.emit(fx.engine, "LiquidationSkipped")
      .withArgs(frozen.address, fx.liquidator.address, Skip.NothingSeizable);
    await expect(tx)
      .to.emit(fx.engine, "Liquidated")
      .withArgs(
        plain.address,
        fx.liquidator.address,
        await addr(fx.bank),
        (u: bigint) => u > 0n,
        price(7.9),
        (x: bigint) => x > 0n,
        (x: bigint) => x > 0n,
        (x: bigint) => x > 0n,
        (x: bigint) => x > 0n,
      );
    expect(await fx.engine.connect(fx.liquidator).liquidateMany.staticCall([plain.address], 5)).to.equal(0n);
  });

  it("refuses an unverified liquidator and reverts the whole batch when the liquidator cannot pay", async () => {
    const fx = await loadFixture(crash);
    const stranger = fx.actors.users[9];
    await expect(fx.engine.connect(stranger).liquidateMany([fx.victims[0].address], 5))
      .to.be.revertedWithCustomError(fx.engine, "MarginNotVerified")
      .withArgs(stranger.address);
    // a verified liquidator with no margin cash
    await fx.kyc
      .connect(fx.actors.kycOfficer)
      .setIdentity(stranger.address, 1, 156, await inAYear(), identityHash("s"));
    await expect(
      fx.engine.connect(stranger).liquidateMany(
        fx.victims.map((v) => v.address),
        5,
      ),
    ).to.be.revertedWithCustomError(fx.engine, "MarginInsufficientBalance");
    for (const v of fx.victims) expect(await fx.engine.balanceOf(v.address, await addr(fx.bank))).to.equal(2_000n);
  });
});
