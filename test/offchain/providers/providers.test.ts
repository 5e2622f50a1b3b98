import { expect } from "chai";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { Wallet } from "ethers";
import { ROLE } from "../../../scripts/deploy/roles";
import { TxSender } from "../../../offchain/chain/sender";
import {
  CLASSES,
  SERVE_ERROR_INTERFACES,
  providersChainAt,
  readClasses,
  readProvider,
  readScheduled,
  serveDueRedemptions,
  type ProvidersChain,
} from "../../../offchain/providers";
import { silentLogger } from "../../../offchain/shared/logger";
import { CNY, JUNIOR, SENIOR, atHead, pct, tranchePoolFixture } from "../../helpers/poolFixture";

/**
 * The capital providers' read model and the redemption-queue job against the real contracts (CapitalPool, both
 * TrancheVaults, the AccessManager) on the Hardhat network: every figure is compared with the contracts' own views.
 */
describe("capital providers: classes, a provider's position, the queue job, scheduled changes", function () {
  async function setup() {
    const fx = await loadFixture(tranchePoolFixture);
    const { pool, senior, junior, lp, lp2, platform, borrower } = fx;
    await senior.connect(lp).deposit(800_000n * CNY, lp.address);
    await junior.connect(platform).deposit(200_000n * CNY, platform.address);
    // The borrower takes nearly everything lendable (the view runs a second before the loan, and the senior
    // class's claim grows meanwhile): what is left is about the liquidity buffer.
    await pool.connect(borrower).borrow(((await pool.lendableCash()) * 999n) / 1000n);
    const deployment = {
      ...fx.record,
      deployBlock: 0,
      contracts: {
        ...fx.record.contracts,
        CapitalPool: await pool.getAddress(),
        SeniorTranche: await senior.getAddress(),
        JuniorTranche: await junior.getAddress(),
      },
    };
    const chain: ProvidersChain = providersChainAt(hre.ethers.provider, deployment);
    // The job's key: any funded address (serveQueue is permissionless).
    const key = Wallet.createRandom().connect(hre.ethers.provider);
    await fx.actors.admin.sendTransaction({ to: key.address, value: 10n ** 18n });
    const sender = new TxSender(
      key as unknown as Wallet,
      SERVE_ERROR_INTERFACES,
      { retries: 2, baseMs: 10, deadlineMs: 5_000 },
      silentLogger,
    );
    return { ...fx, chain, sender, lp2, key };
  }

  it("reads both classes exactly as the pool and the vaults state them", async function () {
    const { chain, pool, senior, junior } = await setup();
    const c = await readClasses(chain);
    const at = { blockTag: c.block };
    expect(c.classes.map((x) => x.class)).to.deep.equal([...CLASSES]);
    for (const [x, vault, id] of [
      [c.classes[0], senior, SENIOR],
      [c.classes[1], junior, JUNIOR],
    ] as const) {
      expect(x.totalAssets).to.equal((await pool.trancheAssets(id, at)).toString());
      expect(x.totalShares).to.equal((await pool.trancheShares(id, at)).toString());
      expect(x.sharePrice).to.equal((await vault.convertToAssets(10n ** BigInt(x.shareDecimals), at)).toString());
      expect(x.queuedRequests).to.equal(0);
      expect(x.nextDueAt).to.equal(null);
    }
    expect(c.classes[0].buffer).to.equal(pct(10).toString());
    expect(c.classes[1].noticeSeconds).to.equal(7 * 86_400);
    expect(c.book.totalDebt).to.equal((await pool.totalDebt(at)).toString());
    expect(c.book.lendableCash).to.equal((await pool.lendableCash(at)).toString());
    expect(BigInt(c.book.utilisation)).to.be.greaterThan(pct(80));
    expect(c.book.ungatedRoom).to.equal((await pool.ungatedRoom(at)).toString());
  });

  it("shows a provider's queued requests in order, and the job serves them once repayments bring cash back", async function () {
    const { chain, pool, senior, lp, lp2, borrower, sender, key } = await setup();
    // lp asks for half its shares: more than the buffer, so the rest waits in the queue.
    await senior.connect(lp).requestRedeem((await senior.balanceOf(lp.address)) / 2n, lp.address, lp.address);
    await senior.connect(lp2).deposit(50_000n * CNY, lp2.address);
    await senior.connect(lp2).requestRedeem(await senior.balanceOf(lp2.address), lp2.address, lp2.address);

    const first = await readProvider(chain, lp.address);
    const second = await readProvider(chain, lp2.address);
    const at = await atHead();
    const [pending, claimableShares, claimableAssets] = await pool.redemptionsOf(SENIOR, lp.address, at);
    expect(pending).to.be.greaterThan(0n);
    const s = first.classes.find((x) => x.class === "senior")!;
    expect([s.pendingShares, s.claimableShares, s.claimableAssets]).to.deep.equal(
      [pending, claimableShares, claimableAssets].map(String),
    );
    expect(first.requests).to.have.length(1);
    expect(first.requests[0]).to.include({ class: "senior", ahead: 0, remaining: pending.toString() });
    expect(second.requests).to.have.length(1);
    expect(second.requests[0].ahead).to.equal(1);
    expect(second.requests[0].ticket).to.be.greaterThan(first.requests[0].ticket);
    expect((await readClasses(chain)).classes[0].queuedRequests).to.equal(2);

    // The job pays what the cash left unlent allows; then nothing is payable, and it simulates and sends nothing.
    const partial = await serveDueRedemptions({ chain, sender, maxSteps: 10, log: silentLogger });
    expect(partial.served).to.be.greaterThan(0);
    const stillPending = (await pool.redemptionsOf(SENIOR, lp.address))[0];
    expect(stillPending).to.be.greaterThan(0n).and.lessThan(pending);
    const nonce = await hre.ethers.provider.getTransactionCount(key.address);
    expect(await serveDueRedemptions({ chain, sender, maxSteps: 10, log: silentLogger })).to.deep.equal({
      served: 0,
      assets: 0n,
      txHash: null,
    });
    expect(await hre.ethers.provider.getTransactionCount(key.address)).to.equal(nonce);

    // The borrower repays everything: the job serves both requests in order, in one transaction.
    await pool.connect(borrower).repay(await pool.totalScaledDebt());
    const outcome = await serveDueRedemptions({ chain, sender, maxSteps: 10, log: silentLogger });
    expect(outcome.served).to.equal(2);
    expect(outcome.txHash).to.match(/^0x[0-9a-f]{64}$/);
    const [, , served1] = await pool.redemptionsOf(SENIOR, lp.address);
    const [, , served2] = await pool.redemptionsOf(SENIOR, lp2.address);
    expect(outcome.assets + partial.assets).to.equal(served1 - claimableAssets + served2);
    const after = await readProvider(chain, lp.address);
    expect(after.requests).to.deep.equal([]);
    expect(after.classes[0].pendingShares).to.equal("0");
    // A second run (another instance, or a retry) finds nothing left to serve.
    expect((await serveDueRedemptions({ chain, sender, maxSteps: 10, log: silentLogger })).served).to.equal(0);

    // lp claims: withdrawn counts it, and earned = what it holds and took out less what it put in.
    await senior.connect(lp).redeem(await senior.maxRedeem(lp.address), lp.address, lp.address);
    const claimed = await readProvider(chain, lp.address);
    const c = claimed.classes[0];
    expect(BigInt(c.withdrawn)).to.be.greaterThan(0n);
    expect(BigInt(c.earned)).to.equal(
      BigInt(c.value) + BigInt(c.claimableAssets) + BigInt(c.withdrawn) - BigInt(c.deposited),
    );
    expect(c.deposited).to.equal((800_000n * CNY).toString());
    // Interest at 8% a year for the seconds the loan ran, senior first: lp earned, never lost.
    expect(BigInt(c.earned)).to.be.greaterThanOrEqual(0n);
    expect(c.agreement).to.include({ signedVersion: 1, currentVersion: 1, current: true });
  });

  it("lists a change scheduled behind the AccessManager delay, decoded, until it is cancelled", async function () {
    const { chain, pool, manager, actors } = await setup();
    const [deputy] = (await hre.ethers.getSigners()).slice(-1);
    await manager.connect(actors.admin).grantRole(ROLE.RISK_OFFICER, deputy.address, 86_400);
    const data = pool.interface.encodeFunctionData("setTrancheParams", [
      { seniorRate: pct(5), minJuniorRatio: pct(12), seniorBuffer: pct(10), juniorBuffer: pct(5) },
    ]);
    await manager.connect(deputy).schedule(await pool.getAddress(), data, 0);
    const { changes } = await readScheduled(chain);
    expect(changes).to.have.length(1);
    const [c] = changes;
    expect(c.contract).to.equal("CapitalPool");
    expect(c.caller).to.equal(deputy.address);
    expect(c.call?.function).to.equal("setTrancheParams((uint64,uint64,uint64,uint64))");
    expect(c.call?.args.p ?? Object.values(c.call!.args)[0]).to.contain(`minJuniorRatio:${pct(12)}`);
    const now = (await hre.ethers.provider.getBlock("latest"))!.timestamp;
    expect(c.executableAt).to.equal(now + 86_400);
    await manager.connect(deputy).cancel(deputy.address, await pool.getAddress(), data);
    expect((await readScheduled(chain)).changes).to.deep.equal([]);
  });
});
