import hre from "hardhat";
import { measure } from "../bench/gas/margin";
async function main() {
  await measure({ hre, emit: () => {} });
  const p = hre.ethers.provider;
  const head = await p.getBlockNumber();
  let n = 0;
  for (let b = head; b > 0 && n < 4; b--) {
    const blk = await p.getBlock(b, true);
    for (const tx of blk!.prefetchedTransactions) {
      const r = await p.getTransactionReceipt(tx.hash);
      if (r!.gasUsed < 140000n || r!.gasUsed > 160000n) continue;
      const t: any = await p.send("debug_traceTransaction", [tx.hash, { disableStorage: true, disableMemory: true, disableStack: true }]);
      const h: Record<string, [number, number]> = {};
      for (const l of t.structLogs) { if (l.depth !== 1) continue; const e = (h[l.op] ??= [0, 0]); e[0]++; e[1] += l.gasCost; }
      console.log("TX", r!.gasUsed.toString(), JSON.stringify(h));
      n++;
    }
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
