import { expect } from "chai";
import { Wallet, ethers } from "ethers";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Indexer, createChainGateway, withRetry, type ChainGateway } from "../../../offchain/chain";
import { parseConfig } from "../../../offchain/shared/config";
import { AppError } from "../../../offchain/shared/errors";
import { silentLogger } from "../../../offchain/shared/logger";
import { openStore, type Store } from "../../../offchain/store";
import { CollateralToken__factory } from "../../../typechain-types";
import { DEV_PRIVATE_KEYS, mine, startDevChain, type DevChain } from "../../helpers/devChain";

const PORT = 8611;
const DEAD_PORT = 8609;

describe("chain gateway and indexer over a real hardhat node", function () {
  let dev: DevChain;
  let dir: string;
  let gateway: ChainGateway;
  const accounts = Array.from({ length: 6 }, () => Wallet.createRandom().address);
  const identityHash = (a: string): string => ethers.keccak256(ethers.toUtf8Bytes(`salt:${a}`));
  const chainConfig = (over: Record<string, unknown> = {}) =>
    parseConfig({
      env: "test",
      chain: {
        rpcUrl: dev.chain.url,
        confirmations: 2,
        rpcRetries: 2,
        rpcRetryBaseMs: 10,
        kycOfficerKey: DEV_PRIVATE_KEYS[1],
        ...over,
      },
    }).chain;
  const sqlite = (name: string): Promise<Store> =>
    openStore({ engine: "sqlite", path: path.join(dir, `${name}.sqlite`) });
  const expiry = async (): Promise<number> => (await dev.chain.provider.getBlock("latest"))!.timestamp + 365 * 86400;

  before(async function () {
    dev = await startDevChain(PORT);
    dir = mkdtempSync(path.join(tmpdir(), "mb-chain-"));
    gateway = createChainGateway(chainConfig(), dev.record, silentLogger);
  });

  after(async function () {
    gateway?.close();
    await dev?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  describe("sending", function () {
    it("gives concurrent sends consecutive nonces and mines them all", async function () {
      const exp = await expiry();
      const start = await dev.chain.provider.getTransactionCount(gateway.kycOfficer!.address, "pending");
      const sent = await Promise.all(
        accounts
          .slice(0, 5)
          .map((a) => gateway.kycOfficer!.send(gateway.kycRegistry, "setIdentity", [a, 2, 156, exp, identityHash(a)])),
      );
      expect(sent.map((s) => s.nonce).sort((a, b) => a - b)).to.deep.equal([0, 1, 2, 3, 4].map((i) => start + i));
      expect(sent.every((s) => s.receipt.status === 1)).to.equal(true);
      for (const a of accounts.slice(0, 5)) expect(await gateway.kycRegistry.isVerified(a)).to.equal(true);
    });

    it("recovers after a restart and after its nonce was used by another process", async function () {
      const exp = await expiry();
      // Another process with the same key sends a transaction: the old sender's cached nonce is now stale.
      const outsider = new Wallet(DEV_PRIVATE_KEYS[1], dev.chain.provider);
      await (await outsider.sendTransaction({ to: outsider.address, value: 0n })).wait();
      const again = await gateway.kycOfficer!.send(gateway.kycRegistry, "setIdentity", [
        accounts[5],
        1,
        156,
        exp,
        identityHash(accounts[5]),
      ]);
      expect(again.receipt.status).to.equal(1);
      // A fresh gateway (a restarted service) starts from the node's pending count.
      const restarted = createChainGateway(chainConfig(), dev.record, silentLogger);
      try {
        const next = await restarted.kycOfficer!.send(restarted.kycRegistry, "setIdentity", [
          accounts[5],
          3,
          156,
          exp,
          identityHash(accounts[5]),
        ]);
        expect(next.nonce).to.equal(again.nonce + 1);
      } finally {
        restarted.close();
      }
    });

    it("decodes a revert to the contract's custom error with its arguments", async function () {
      const exp = await expiry();
      const err = await gateway
        .kycOfficer!.send(gateway.kycRegistry, "setIdentity", [accounts[0], 9, 156, exp, identityHash(accounts[0])])
        .catch((e: unknown) => e);
      expect(err).to.be.instanceOf(AppError);
      expect((err as AppError).code).to.equal("CHAIN_REVERTED");
      expect((err as AppError).message).to.equal("KycInvalidTier(9)");
      expect((err as AppError).details).to.include({ error: "KycInvalidTier" });
    });

    it("names the AccessManager error when the key lacks the role", async function () {
      const custodianGateway = createChainGateway(
        chainConfig({ kycOfficerKey: DEV_PRIVATE_KEYS[2] }),
        dev.record,
        silentLogger,
      );
      try {
        const err = (await custodianGateway
          .kycOfficer!.send(custodianGateway.kycRegistry, "revoke", [accounts[0], ethers.ZeroHash])
          .catch((e: unknown) => e)) as AppError;
        expect(err.code).to.equal("CHAIN_REVERTED");
        expect(err.details).to.deep.include({ error: "AccessManagedUnauthorized", args: [dev.record.roles.custodian] });
      } finally {
        custodianGateway.close();
      }
    });

    it("retries an unreachable RPC endpoint with backoff, then reports CHAIN_UNAVAILABLE", async function () {
      const dead = new ethers.JsonRpcProvider(`http://127.0.0.1:${DEAD_PORT}`, 31337, { staticNetwork: true });
      let attempts = 0;
      const started = Date.now();
      const err = (await withRetry(
        () => {
          attempts++;
          return dead.getBlockNumber();
        },
        { retries: 3, baseMs: 20 },
      ).catch((e: unknown) => e)) as AppError;
      dead.destroy();
      expect(err.code).to.equal("CHAIN_UNAVAILABLE");
      expect(attempts).to.equal(4);
      expect(Date.now() - started).to.be.greaterThanOrEqual(20 * 0.75 * (1 + 2 + 4));
    });
  });

  describe("indexing", function () {
    it("projects identities and token balances once their blocks are confirmed", async function () {
      const store = await sqlite("projections");
      try {
        const custodian = CollateralToken__factory.connect(dev.record.contracts.mbCNY, dev.signers[2]);
        await (await custodian.mint(accounts[0], 1_000_000n, ethers.id("deposit-1"))).wait();
        const indexer = gateway.createIndexer(store, gateway.coreHandlers());
        await indexer.catchUp();
        // The mint's block is not yet under two confirmations.
        expect(await store.projections.balance(dev.record.contracts.mbCNY, accounts[0])).to.equal(0n);
        await mine(dev.chain, 2);
        await indexer.catchUp();
        expect(await store.projections.balance(dev.record.contracts.mbCNY, accounts[0])).to.equal(1_000_000n);
        expect(await store.projections.identity(accounts[5])).to.include({
          tier: 3,
          jurisdiction: 156,
          revoked: false,
        });
        expect(await store.projections.identity(accounts[1])).to.include({
          tier: 2,
          identityHash: identityHash(accounts[1]),
        });
      } finally {
        await store.close();
      }
    });

    it("resumes from the last indexed block after a restart without re-reading or duplicating events", async function () {
      let store = await sqlite("restart");
      const first = gateway.createIndexer(store, gateway.coreHandlers());
      await first.catchUp();
      const cursor = (await store.chain.cursor("main"))!;
      const before = (await store.chain.events("main")).length;
      await store.close();

      const officer = gateway.kycOfficer!;
      await officer.send(gateway.kycRegistry, "revoke", [accounts[2], ethers.encodeBytes32String("case-42")]);
      await mine(dev.chain, 2);

      store = await sqlite("restart");
      try {
        const second = gateway.createIndexer(store, gateway.coreHandlers());
        const steps = await second.catchUp();
        expect(steps[0].fromBlock).to.equal(cursor.blockNumber + 1);
        const events = await store.chain.events("main");
        expect(events.length).to.equal(before + 1);
        expect(events.at(-1)).to.include({ contract: "KycRegistry", event: "IdentityRevoked" });
        expect(await store.projections.identity(accounts[2])).to.include({
          revoked: true,
          revokeReason: ethers.encodeBytes32String("case-42"),
        });
      } finally {
        await store.close();
      }
    });

    it("reads a range dense in logs in smaller steps (LogSpan) and stores exactly the events one large step does", async function () {
      // four deposits in one block: a block denser than the two logs a step may hold here
      const custodian = CollateralToken__factory.connect(dev.record.contracts.mbCNY, dev.signers[2]);
      const nonce = await dev.signers[2].getNonce("pending");
      await dev.chain.provider.send("evm_setAutomine", [false]);
      try {
        const sent = [];
        for (let i = 0; i < 4; i++)
          sent.push(
            await custodian.mint(accounts[3], 1_000n, ethers.id(`dense-${i}`), { nonce: nonce + i, gasLimit: 300_000 }),
          );
        await mine(dev.chain, 1);
        const receipts = await Promise.all(sent.map((t) => t.wait()));
        expect(new Set(receipts.map((r) => r!.blockNumber)).size).to.equal(1);
      } finally {
        await dev.chain.provider.send("evm_setAutomine", [true]);
      }
      await mine(dev.chain, 2);
      const wide = await sqlite("span-wide");
      const narrow = await sqlite("span-narrow");
      try {
        await gateway.createIndexer(wide, gateway.coreHandlers()).catchUp();
        const stepped = new Indexer({
          name: "main",
          provider: dev.chain.provider,
          store: narrow,
          handlers: gateway.coreHandlers(),
          confirmations: 2,
          batchBlocks: 2_000,
          logsPerStep: 2,
          startBlock: dev.record.deployBlock,
          retry: { retries: 2, baseMs: 10 },
          log: silentLogger,
        });
        const steps = await stepped.catchUp();
        const key = (e: { blockNumber: number; logIndex: number }): string => `${e.blockNumber}:${e.logIndex}`;
        const wideEvents = (await wide.chain.events("main")).map(key);
        expect((await narrow.chain.events("main")).map(key)).to.deep.equal(wideEvents);
        // the steps join end to end, from one block, doubling over empty ranges and shrinking after dense ones (the
        // deployment's role grants, the deposits): never the single step of up to 2,000 blocks the wide one took
        for (let i = 1; i < steps.length; i++) expect(steps[i].fromBlock).to.equal(steps[i - 1].toBlock + 1);
        const blocks = steps.map((s) => s.toBlock - s.fromBlock + 1);
        expect(blocks.slice(0, 3)).to.deep.equal([1, 2, 4]);
        expect(blocks.slice(0, -1).some((b, i) => blocks[i + 1] < b)).to.equal(true);
        expect(steps.at(-1)!.toBlock).to.equal((await wide.chain.cursor("main"))!.blockNumber);
      } finally {
        await wide.close();
        await narrow.close();
      }
    });

    it("rewinds a reorg deeper than the confirmation depth and re-indexes the winning fork", async function () {
      const store = await sqlite("reorg");
      try {
        const indexer = createChainGateway(chainConfig({ confirmations: 1 }), dev.record, silentLogger).createIndexer(
          store,
          gateway.coreHandlers(),
        );
        await indexer.catchUp();
        const snapshot = (await dev.chain.provider.send("evm_snapshot", [])) as string;
        const exp = await expiry();
        const victim = accounts[3];
        await gateway.kycOfficer!.send(gateway.kycRegistry, "setIdentity", [
          victim,
          5,
          156,
          exp,
          identityHash("old fork"),
        ]);
        await mine(dev.chain, 3);
        await indexer.catchUp();
        expect(await store.projections.identity(victim)).to.include({ tier: 5 });
        const forkedAt = (await store.chain.cursor("main"))!.blockNumber;

        // Replace those blocks: revert to the snapshot and build a longer fork with a different history.
        await dev.chain.provider.send("evm_revert", [snapshot]);
        gateway.kycOfficer!.nonces.reset();
        await gateway.kycOfficer!.send(gateway.kycRegistry, "setIdentity", [
          victim,
          1,
          392,
          exp,
          identityHash("new fork"),
        ]);
        await mine(dev.chain, 6);

        const steps = await indexer.catchUp();
        expect(steps[0].rewoundTo).to.be.lessThan(forkedAt);
        expect(indexer.status.rewinds).to.equal(1);
        expect(await store.projections.identity(victim)).to.include({
          tier: 1,
          jurisdiction: 392,
          identityHash: identityHash("new fork"),
        });
        const victimEvents = (await store.chain.events("main")).filter((e) => String(e.args.account) === victim);
        // Tier 2 from the first test survives; the old fork's tier 5 is gone.
        expect(victimEvents.map((e) => e.args.tier)).to.deep.equal(["2", "1"]);
        // Projections rebuilt from the surviving events still hold the rest of the history.
        expect(await store.projections.identity(accounts[2])).to.include({ revoked: true });
      } finally {
        await store.close();
      }
    });
  });
});
