import { startDevChain } from "../fixtures/devChain";
import { prepareKeeperChain } from "../fixtures/keeperChain";
async function main() {
  const dev = await startDevChain(8795, { requireAgreements: false, node: (process.argv[2] as "anvil") ?? "anvil" });
  try {
    await prepareKeeperChain(dev, { poolCny: 50_000_000n, keeperCny: 40_000_000n });
    console.log("ok");
  } catch (e) {
    console.log("fail", (e as Error).message.slice(0, 300));
    const r = (e as { receipt?: { hash: string; blockNumber: number } }).receipt;
    if (r) {
      const tx = await dev.chain.provider.getTransaction(r.hash);
      try { await dev.chain.provider.call({ ...tx!, blockTag: r.blockNumber - 1 }); } catch (e2) { console.log("replay", (e2 as Error).message.slice(0, 400)); }
      console.log("to", tx!.to, "data", tx!.data.slice(0, 10));
    }
  } finally { await dev.stop(); }
}
main();
