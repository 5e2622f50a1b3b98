import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { deployCoreFixture } from "../../helpers/fixtures";
import { DEV_FEED_PARAMS, DEV_ORACLE_PARAMS, ROLE, feedKey } from "../../../scripts/deploy/index";
import { MedianPriceFeed__factory, OracleRouter__factory } from "../../../typechain-types";

describe("Oracle deployment (scripts/deploy/oracle.ts)", () => {
  it("registers one MedianPriceFeed per security as its primary, with the dev parameters and a 24/7 session", async () => {
    const fx = await loadFixture(deployCoreFixture);
    const router = OracleRouter__factory.connect(fx.record.contracts.OracleRouter, fx.actors.admin);
    for (const token of fx.record.tokens.filter((t) => t.kind === "security")) {
      const feedAddress = fx.record.contracts[feedKey(token.symbol)];
      const feed = MedianPriceFeed__factory.connect(feedAddress, fx.actors.admin);
      expect([await feed.description(), await feed.decimals(), await feed.quorum()]).to.deep.equal([
        `${token.symbol} / CNY`,
        8n,
        BigInt(DEV_FEED_PARAMS.quorum),
      ]);
      const p = await router.assetParams(token.address);
      expect([p.primary, p.secondary, p.maxStaleness, p.maxDeviation, p.maxMove, p.volatilityHalfLife]).to.deep.equal([
        feedAddress,
        "0x0000000000000000000000000000000000000000",
        BigInt(DEV_ORACLE_PARAMS.maxStaleness),
        DEV_ORACLE_PARAMS.maxDeviation,
        DEV_ORACLE_PARAMS.maxMove,
        DEV_ORACLE_PARAMS.volatilityHalfLife,
      ]);
      expect(await router.session(token.address)).to.deep.equal([0n, []]);
    }
    const cash = fx.record.tokens.find((t) => t.kind === "cash")!.address;
    expect((await router.getPrice(cash))[1]).to.equal(5n); // Unset: the cash token is not routed
  });

  it("maps the router's and the feeds' parameter functions to the risk officer and gives the risk role back", async () => {
    const fx = await loadFixture(deployCoreFixture);
    const routerAddress = fx.record.contracts.OracleRouter;
    const ri = OracleRouter__factory.createInterface();
    for (const fn of ["configureAsset", "setSession", "setHoliday", "resetCircuitBreaker"] as const) {
      expect(await fx.manager.getTargetFunctionRole(routerAddress, ri.getFunction(fn)!.selector), fn).to.equal(
        ROLE.RISK_OFFICER,
      );
    }
    const fi = MedianPriceFeed__factory.createInterface();
    const feed = fx.record.contracts[feedKey("mbBANK")];
    for (const fn of ["setQuorum", "setObservationWindow"] as const) {
      expect(await fx.manager.getTargetFunctionRole(feed, fi.getFunction(fn)!.selector), fn).to.equal(
        ROLE.RISK_OFFICER,
      );
    }
    // poke and transmit are not `restricted` (anyone calls them: see the feed and router tests). The deployer
    // held the risk role only to register the feeds.
    expect((await fx.manager.hasRole(ROLE.RISK_OFFICER, fx.actors.admin.address))[0]).to.equal(false);
  });
});
