import hre from "hardhat";
import { measure } from "../bench/gas/margin";

async function main() {
  await measure({ hre, emit: () => {} });
  const p = hre.ethers.provider;
  const head = await p.getBlockNumber();
  const engineIface = (await hre.ethers.getContractFactory("MarginEngine", { libraries: { MarginAdmin: hre.ethers.ZeroAddress, MarginViews: hre.ethers.ZeroAddress } })).interface;
  const sel = engineIface.getFunction("liquidate")!.selector;
  const bsel = engineIface.getFunction("borrow")!.selector;
  let found = 0;
  for (let b = 1; b <= head; b++) {
    const blk = await p.getBlock(b, true);
    for (const tx of blk!.prefetchedTransactions) {
      if (!tx.data.startsWith(sel) && !tx.data.startsWith(bsel)) continue;
      found++;
      const r = await p.getTransactionReceipt(tx.hash);
      const trace: any = await p.send("debug_traceTransaction", [tx.hash, { disableStorage: true, disableMemory: true, disableStack: false }]);
      // per-depth own gas, SLOAD/SSTORE counts
      const logs = trace.structLogs as any[];
      const frames: Record<string, number> = {};
      const ops: Record<string, { n: number; gas: number }> = {};
      for (let i = 0; i < logs.length; i++) {
        const l = logs[i];
        const next = logs[i + 1];
        let cost = l.gasCost;
        if (["CALL", "STATICCALL", "DELEGATECALL"].includes(l.op) && next && next.depth > l.depth) {
          // own cost of the call op = gas before - gas at callee start - forwarded; approximate with the callee's initial gas
          cost = l.gas - next.gas - 0; // includes forwarded? next.gas is what callee got
        }
        if (l.depth === 1) {
          const o = (ops[l.op] ??= { n: 0, gas: 0 });
          o.n++;
          o.gas += cost;
        }
        frames[String(l.depth)] = (frames[String(l.depth)] ?? 0) + cost;
      }
      const top = Object.entries(ops).sort((a, b) => b[1].gas - a[1].gas).slice(0, 14).map(([k, v]) => `${k}:${v.n}/${v.gas}`).join(" ");
      console.log(tx.data.slice(0, 10) === sel ? "liquidate" : "borrow", r!.gasUsed.toString(), JSON.stringify(frames), "\n   ", top);
    }
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
