import hre from "hardhat";
import { measure } from "../bench/gas/margin";

export async function traceTx(hash: string, labels: Record<string, string>) {
  const p = hre.ethers.provider;
  const trace: any = await p.send("debug_traceTransaction", [hash, { disableStorage: true, disableMemory: true }]);
  const logs = trace.structLogs as any[];
  let own = 0, cold = 0, warm = 0, sstore = 0, logsGas = 0;
  const calls: string[] = [];
  for (let i = 0; i < logs.length; i++) {
    const l = logs[i];
    if (l.depth !== 1) continue;
    if (["CALL", "STATICCALL", "DELEGATECALL"].includes(l.op)) {
      let j = i + 1;
      while (j < logs.length && logs[j].depth !== 1) j++;
      const used = j < logs.length ? l.gas - logs[j].gas : 0;
      const st = l.stack as string[];
      const to = "0x" + BigInt("0x" + st[st.length - 2].replace(/^0x/, "")).toString(16).padStart(40, "0");
      calls.push(`${labels[to.toLowerCase()] ?? to.slice(0, 8)}:${used}`);
      continue;
    }
    own += l.gasCost;
    if (l.op === "SLOAD") l.gasCost >= 2100 ? cold++ : warm++;
    if (l.op === "SSTORE") sstore += l.gasCost;
    if (l.op.startsWith("LOG")) logsGas += l.gasCost;
  }
  return `own ${own} (cold SLOAD ${cold}, warm ${warm}, SSTORE ${sstore}, LOG ${logsGas}) calls ${calls.join(" ")}`;
}

async function main() {
  await measure({ hre, emit: () => {} });
  const p = hre.ethers.provider;
  const { deployments } = { deployments: null };
  void deployments;
  const head = await p.getBlockNumber();
  const f = await hre.ethers.getContractFactory("MarginEngine", { libraries: { MarginAdmin: hre.ethers.ZeroAddress, MarginViews: hre.ethers.ZeroAddress } });
  const sel = f.interface.getFunction("liquidate")!.selector;
  const bsel = f.interface.getFunction("borrow")!.selector;
  const labels: Record<string, string> = {};
  for (let b = 1; b <= head; b++) {
    const blk = await p.getBlock(b, true);
    for (const tx of blk!.prefetchedTransactions) {
      if (!tx.data.startsWith(sel) && !tx.data.startsWith(bsel)) continue;
      const r = await p.getTransactionReceipt(tx.hash);
      console.log(tx.data.startsWith(sel) ? "liquidate" : "borrow", r!.gasUsed.toString(), await traceTx(tx.hash, labels));
    }
  }
}
if (require.main === module) main().catch((e) => { console.error(e); process.exit(1); });
