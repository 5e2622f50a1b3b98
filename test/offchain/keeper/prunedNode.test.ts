import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { JsonRpcProvider } from "ethers";
import { isStateUnavailable, isTransient, rawSigner } from "../../../offchain/chain";
import { DEFAULT_KEEPER_SETTINGS, Keeper, State } from "../../../offchain/keeper";
import { DEV_KEYS } from "../../../offchain/shared/config";
import { silentLogger } from "../../../offchain/shared/logger";
import { openStore, type Store } from "../../../offchain/store";
import { startDevChain, type DevChain } from "../../helpers/devChain";
import { prepareKeeperChain, type KeeperChain } from "../../helpers/keeperChain";

const CHAIN_PORT = 8697;

/**
 * A pruning node keeps only recent blocks' states (geth 128; anvil `--prune-history 64`, as started here). The
 * keeper reads a Warning notice's figures at the block of the engine's event; a keeper that fell further behind (a
 * long tick: the one-by-one crash at 20,000 accounts on anvil, or a restart) got "block out of range" for that
 * read, and since the read is not transient, every later tick failed on the same log: notices and the cursor stuck
 * for good. Now the notice is read at the head and the log processing goes on.
 */
describe("keeper on a pruning node (real anvil, 64 blocks of state)", function () {
  this.timeout(180_000);
  let dev: DevChain;
  let kc: KeeperChain;
  let dir: string;
  let store: Store;
  let provider: JsonRpcProvider;

  before(async function () {
    dev = await startDevChain(CHAIN_PORT, { node: "anvil" });
    kc = await prepareKeeperChain(dev);
    dir = mkdtempSync(path.join(tmpdir(), "mb-keeper-pruned-"));
  });

  after(async function () {
    provider?.destroy();
    await store?.close();
    await dev?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("reads a Warning notice at the head when the node no longer keeps the event's block, and moves its cursor on", async function () {
    const user = await dev.chain.provider.getSigner(11);
    const a = await kc.openAccount(user, "mbBANK", 10_000n, 70_000n);
    await kc.setPrice("mbBANK", "8.5");
    // anyone may poke: the engine records Warning and says so in AccountStateChanged
    const receipt = (await (await kc.engine.connect(dev.signers[0]).poke(a)).wait())!;
    expect(Number((await kc.engine.recordedState(a))[0])).to.equal(State.Warning);
    const warnedAt = receipt.blockNumber;
    await dev.chain.provider.send("anvil_mine", ["0x64"]); // 100 blocks: past the 64 states the node keeps

    // the node refuses a read pinned to that block, and not as a transient failure (retrying cannot help)
    const refused = await kc.engine.accountView(a, { blockTag: warnedAt }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused, "anvil still answered at a block past its window").to.not.equal(undefined);
    expect(isStateUnavailable(refused)).to.equal(true);
    expect(isTransient(refused)).to.equal(false);

    // a keeper whose cursor is just before the warning (it was behind when the event came)
    store = await openStore({ engine: "sqlite", path: path.join(dir, "keeper.sqlite") });
    await store.keeper.setState("cursor", String(warnedAt - 1));
    provider = new JsonRpcProvider(dev.chain.url, dev.record.chainId, { staticNetwork: true, cacheTimeout: -1 });
    const keeper = new Keeper({
      store,
      provider,
      signer: rawSigner(DEV_KEYS.keeperKey),
      deployment: dev.record,
      settings: { ...DEFAULT_KEEPER_SETTINGS, signerKey: DEV_KEYS.keeperKey, indexFrom: "lens" },
      log: silentLogger,
    });
    const head = await dev.chain.provider.getBlockNumber();
    await keeper.tick();

    expect(Number(await store.keeper.getState("cursor"))).to.be.gte(head);
    const [warning] = (await store.keeper.notifications({ account: a })).filter((n) => n.kind === "warning");
    expect(warning, "no warning notice").to.not.equal(undefined);
    expect(warning.blockNumber).to.equal(warnedAt);
    // the figures of the head the tick saw, or of a block the tick itself mined after it (it may poke the router)
    const seen: bigint[] = [];
    for (let b = head; b <= (await dev.chain.provider.getBlockNumber()); b++) {
      const v = await kc.engine.accountView(a, { blockTag: b });
      seen.push(v.warningLine - BigInt(v.equity));
    }
    expect(seen).to.include(warning.amountToCure);
    expect(warning.amountToCure! > 0n).to.equal(true);
  });
});
