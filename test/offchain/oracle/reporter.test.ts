import { expect } from "chai";
import { JsonRpcProvider, JsonRpcSigner, type HDNodeWallet } from "ethers";
import { startLocalChain, type LocalChain } from "../../../scripts/lib/localChain";
import { deployAll, devRoleHolders, feedKey, type DeploymentRecord } from "../../../scripts/deploy/index";
import { MedianPriceFeed__factory, OracleRouter__factory, type MedianPriceFeed } from "../../../typechain-types";
import {
  DEMO_ASSETS,
  DEV_REPORTER_INDICES,
  MarketSimulator,
  PriceReporterService,
  SimulatedSource,
  hardhatDevWallets,
  parseDecimal,
  type PriceQuote,
  type PriceReporterOptions,
  type PriceSource,
} from "../../../offchain/oracle";
import { CutProxy } from "../../helpers/cutProxy";

const NODE_PORT = 8601;
const PROXY_PORT = 8602;
const SYMBOLS = ["mbBANK", "mbTECH", "mbSMALL"];

/** A real source with prices the test sets (decimal strings); `fail` makes it unavailable. */
class ManualSource implements PriceSource {
  readonly name: string;
  prices: Record<string, string>;
  fail = false;
  constructor(name: string, prices: Record<string, string>) {
    this.name = name;
    this.prices = { ...prices };
  }
  async read(symbols: string[], now: number): Promise<PriceQuote[]> {
    if (this.fail) throw new Error(`${this.name} is down`);
    return symbols
      .filter((s) => this.prices[s] !== undefined)
      .map((symbol) => ({ symbol, price: parseDecimal(this.prices[symbol], 8), observedAt: now }));
  }
}

describe("oracle reporter against a hardhat node (JSON-RPC)", function () {
  let chain: LocalChain;
  let record: DeploymentRecord;
  let reporters: HDNodeWallet[];
  let feeds: Record<string, MedianPriceFeed>;
  let chainNow = 0;
  const relayerAddresses: Record<number, string> = {};

  const targets = (): { symbol: string; address: string }[] =>
    SYMBOLS.map((symbol) => ({ symbol, address: record.contracts[feedKey(symbol)] }));

  async function refreshClock(): Promise<void> {
    chainNow = (await chain.provider.getBlock("latest"))!.timestamp;
  }

  function service(
    sources: PriceSource[],
    overrides: Partial<PriceReporterOptions> = {},
    provider: JsonRpcProvider = chain.provider,
    relayerIndex = 9,
  ): PriceReporterService {
    return new PriceReporterService({
      feeds: targets(),
      reporters: reporters.map((r, i) => ({ signer: r.connect(provider), source: sources[i % sources.length] })),
      // An unlocked node account: the node assigns nonces (the service's chain gateway does it in production).
      relayer: new JsonRpcSigner(provider, relayerAddresses[relayerIndex]),
      chainId: 31337n,
      policy: { heartbeatSeconds: 600, deviationBps: 50 },
      intervalMs: 50,
      backoff: { baseMs: 100, maxMs: 1_000 },
      clock: () => chainNow,
      ...overrides,
    });
  }

  before(async () => {
    chain = await startLocalChain(NODE_PORT);
    const signers = await Promise.all(Array.from({ length: 10 }, (_, i) => chain.provider.getSigner(i)));
    record = await deployAll(
      { deployer: signers[0], roles: await devRoleHolders(signers), riskDelaySeconds: 0 },
      "localhost",
    );
    reporters = hardhatDevWallets(DEV_REPORTER_INDICES);
    for (const i of [9, 15]) relayerAddresses[i] = hardhatDevWallets([i])[0].address;
    feeds = Object.fromEntries(
      SYMBOLS.map((s) => [s, MedianPriceFeed__factory.connect(record.contracts[feedKey(s)], chain.provider)]),
    );
  });

  after(async () => {
    await chain?.stop();
  });

  it("pushes a first round signed by the three dev reporters, then skips while the price is fresh", async () => {
    const source = new ManualSource("desk", { mbBANK: "10.00", mbTECH: "50.00", mbSMALL: "4.00" });
    await refreshClock();
    const svc = service([source]);
    const first = await svc.tick();
    expect(first.failures).to.deep.equal([]);
    expect(first.outcomes.map((o) => [o.symbol, o.action, "reason" in o ? o.reason : ""])).to.deep.equal([
      ["mbBANK", "pushed", "first"],
      ["mbTECH", "pushed", "first"],
      ["mbSMALL", "pushed", "first"],
    ]);
    const [round, answer] = await feeds.mbBANK.latestRoundData();
    expect([round, answer]).to.deep.equal([1n, 1_000_000_000n]);
    const accepted = await feeds.mbBANK.queryFilter(feeds.mbBANK.filters.ReportAccepted());
    expect(accepted[0].args.signers).to.deep.equal(reporters.map((r) => r.address));
    const router = OracleRouter__factory.connect(record.contracts.OracleRouter, chain.provider);
    const bank = record.tokens.find((t) => t.symbol === "mbBANK")!.address;
    expect((await router.getPrice(bank)).slice(0, 2)).to.deep.equal([10n * 10n ** 18n, 0n]); // Safe

    await refreshClock();
    const second = await svc.tick();
    expect(second.outcomes.map((o) => o.action)).to.deep.equal(["skipped", "skipped", "skipped"]);
    expect(await feeds.mbBANK.latestRound()).to.equal(1n);
  });

  it("pushes on a move beyond the deviation threshold and on the heartbeat", async () => {
    const source = new ManualSource("desk", { mbBANK: "10.06", mbTECH: "50.01", mbSMALL: "4.00" });
    await refreshClock();
    const svc = service([source]);
    const moved = await svc.tick();
    expect(moved.outcomes.map((o) => [o.action, "reason" in o ? o.reason : ""])).to.deep.equal([
      ["pushed", "deviation"], // +0.6% ≥ 0.5%
      ["skipped", "fresh"], // +0.02%
      ["skipped", "fresh"],
    ]);
    await chain.provider.send("evm_increaseTime", [601]);
    await chain.provider.send("evm_mine", []);
    await refreshClock();
    const beat = await svc.tick();
    expect(beat.outcomes.map((o) => ("reason" in o ? o.reason : ""))).to.deep.equal([
      "heartbeat",
      "heartbeat",
      "heartbeat",
    ]);
    expect(await feeds.mbBANK.latestRound()).to.equal(3n);
  });

  it("keeps the median honest when one reporter lies, and skips when fewer than the quorum can observe", async () => {
    const honest = new ManualSource("honest", { mbBANK: "11.00", mbTECH: "50.01", mbSMALL: "4.00" });
    const liar = new ManualSource("liar", { mbBANK: "1100.00", mbTECH: "0.01", mbSMALL: "4.00" });
    await refreshClock();
    const result = await service([honest, honest, liar]).tick();
    expect(result.outcomes[0].action).to.equal("pushed");
    expect((await feeds.mbBANK.latestRoundData())[1]).to.equal(1_100_000_000n);
    expect(result.outcomes[1]).to.include({ action: "skipped", reason: "fresh" }); // median 50.01: no move

    liar.fail = true;
    honest.prices.mbBANK = "12.00";
    const before = await feeds.mbBANK.latestRound();
    const starved = await service([honest, honest, liar]).tick();
    expect(starved.outcomes[0]).to.deep.equal({ symbol: "mbBANK", action: "skipped", reason: "no-quorum" });
    expect(await feeds.mbBANK.latestRound()).to.equal(before);
  });

  it("never relays the same round twice when two relayers race", async () => {
    const source = new ManualSource("desk", { mbBANK: "13.00", mbTECH: "50.01", mbSMALL: "4.00" });
    await refreshClock();
    const before = await feeds.mbBANK.latestRound();
    const [a, b] = await Promise.all([
      service([source], {}, chain.provider, 9).tick(),
      service([source], {}, chain.provider, 15).tick(),
    ]);
    const actions = [a.outcomes[0].action, b.outcomes[0].action].sort();
    expect(actions[0]).to.equal("pushed");
    expect(["raced", "skipped"]).to.include(actions[1]);
    expect(await feeds.mbBANK.latestRound()).to.equal(before + 1n);
  });

  it("survives an RPC outage: backs off while down, and a relay whose answer was lost is not repeated", async () => {
    const proxy = new CutProxy(PROXY_PORT, chain.url);
    await proxy.up();
    const viaProxy = new JsonRpcProvider(proxy.url, 31337, { staticNetwork: true, batchMaxCount: 1, polling: true });
    try {
      const source = new ManualSource("desk", { mbBANK: "14.00", mbTECH: "50.01", mbSMALL: "4.00" });
      const svc = service([source], {}, viaProxy);
      await refreshClock();
      await proxy.down();
      const down1 = await svc.tick();
      const down2 = await svc.tick();
      expect(down1.failures.map((f) => f.symbol)).to.deep.equal(SYMBOLS);
      expect(down2.failures).to.have.length(3);
      expect(svc.failureStreak).to.equal(2);
      expect(svc.nextDelayMs()).to.equal(200); // 100 · 2^(2−1)

      await proxy.up();
      proxy.mode = "lose-sends";
      const before = await feeds.mbBANK.latestRound();
      const lost = await svc.tick();
      expect(lost.failures.map((f) => f.symbol)).to.include("mbBANK");
      expect(await feeds.mbBANK.latestRound()).to.equal(before + 1n); // mined although the answer was lost

      proxy.mode = "up";
      await refreshClock();
      const recovered = await svc.tick();
      expect(recovered.failures).to.deep.equal([]);
      expect(recovered.outcomes[0]).to.deep.equal({ symbol: "mbBANK", action: "skipped", reason: "fresh" });
      expect(await feeds.mbBANK.latestRound()).to.equal(before + 1n);
      expect(svc.failureStreak).to.equal(0);
      expect(svc.nextDelayMs()).to.equal(50);
    } finally {
      viaProxy.destroy();
      await proxy.down();
    }
  });

  it("runs as a loop on the seeded simulator until stopped, and the router's volatility follows the rounds", async () => {
    const sim = new SimulatedSource(new MarketSimulator({ seed: 7, assets: DEMO_ASSETS, stepSeconds: 3600 }));
    await refreshClock();
    const offset = chainNow - Math.floor(Date.now() / 1000);
    const svc = service([sim], {
      policy: { heartbeatSeconds: 600, deviationBps: 1 },
      clock: () => Math.floor(Date.now() / 1000) + offset,
    });
    const router = OracleRouter__factory.connect(record.contracts.OracleRouter, await chain.provider.getSigner(9));
    const small = record.tokens.find((t) => t.symbol === "mbSMALL")!.address;
    await (await router.poke(small)).wait(); // the reference round
    const before = await feeds.mbSMALL.latestRound();
    svc.start();
    const deadline = Date.now() + 30_000;
    while ((await feeds.mbSMALL.latestRound()) < before + 3n && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await svc.stop();
    const after = await feeds.mbSMALL.latestRound();
    expect(after >= before + 3n).to.equal(true);
    await new Promise((r) => setTimeout(r, 200));
    expect(await feeds.mbSMALL.latestRound()).to.equal(after); // stopped means stopped

    await (await router.poke(small)).wait();
    expect((await router.assetState(small)).lastRoundId).to.equal(after);
    expect(await router.volatility(small)).to.be.greaterThan(0n);
  });
});
