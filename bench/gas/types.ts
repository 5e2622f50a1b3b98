import type { HardhatRuntimeEnvironment } from "hardhat/types";

export interface GasLine {
  contract: string;
  method: string;
  gas: number;
  [detail: string]: string | number | boolean;
}

export interface GasContext {
  hre: HardhatRuntimeEnvironment;
  emit(line: GasLine): void;
}

/** Each bench/gas/<domain>.ts exports `measure`: it deploys what it needs and emits one line per call. */
export interface GasModule {
  measure(ctx: GasContext): Promise<void>;
}

/** Gas used by a mined transaction. */
export async function gasOf(tx: Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>): Promise<number> {
  const receipt = await (await tx).wait();
  if (!receipt) throw new Error("transaction was not mined");
  return Number(receipt.gasUsed);
}
