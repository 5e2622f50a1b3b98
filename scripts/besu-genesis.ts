/**
 * Writes a Hyperledger Besu QBFT genesis for MarginBridge's permissioned network.
 *   npx ts-node --transpile-only scripts/besu-genesis.ts --chain-id 20261 --validators 0xA,0xB,0xC,0xD \
 *     --alloc 0xDeployer [--block-period 2] [--out genesis.json]
 * Validators are the node addresses (from `besu public-key export-address`). The genesis is free-gas
 * (zeroBaseFee), activates every fork up to Cancun at genesis (the contracts are compiled for cancun), and raises
 * nothing else from Besu's defaults: contract size stays at 24,576 bytes, which every MarginBridge contract fits.
 */
import { writeFileSync } from "node:fs";
import { encodeRlp, getAddress, toBeHex, zeroPadValue } from "ethers";

export interface GenesisOptions {
  chainId: number;
  validators: string[];
  alloc: string[];
  blockPeriodSeconds: number;
  timestamp?: number;
}

/** QBFT extraData: RLP([32-byte vanity, [validators], votes = [], round = 0, seals = []]). */
export function qbftExtraData(validators: string[]): string {
  const vanity = zeroPadValue("0x", 32);
  return encodeRlp([vanity, validators.map((v) => getAddress(v).toLowerCase()), [], "0x", []]);
}

export function besuQbftGenesis(o: GenesisOptions): Record<string, unknown> {
  if (o.validators.length < 4) throw new Error("QBFT needs at least 4 validators to tolerate one faulty node");
  const alloc: Record<string, { balance: string }> = {};
  for (const a of o.alloc) alloc[getAddress(a).slice(2)] = { balance: "0x0" };
  return {
    config: {
      chainId: o.chainId,
      homesteadBlock: 0,
      eip150Block: 0,
      eip155Block: 0,
      eip158Block: 0,
      byzantiumBlock: 0,
      constantinopleBlock: 0,
      petersburgBlock: 0,
      istanbulBlock: 0,
      berlinBlock: 0,
      londonBlock: 0,
      shanghaiTime: 0,
      cancunTime: 0,
      zeroBaseFee: true,
      qbft: {
        blockperiodseconds: o.blockPeriodSeconds,
        epochlength: 30000,
        requesttimeoutseconds: o.blockPeriodSeconds * 2,
      },
    },
    nonce: "0x0",
    timestamp: toBeHex(o.timestamp ?? Math.floor(Date.now() / 1000)),
    gasLimit: "0x1fffffffffffff",
    difficulty: "0x1",
    mixHash: "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365",
    coinbase: "0x0000000000000000000000000000000000000000",
    alloc,
    extraData: qbftExtraData(o.validators),
  };
}

function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0 && process.argv[i + 1]) return process.argv[i + 1];
  if (fallback !== undefined) return fallback;
  throw new Error(`missing --${name}`);
}

if (require.main === module) {
  const genesis = besuQbftGenesis({
    chainId: Number(arg("chain-id")),
    validators: arg("validators").split(","),
    alloc: arg("alloc", "").split(",").filter(Boolean),
    blockPeriodSeconds: Number(arg("block-period", "2")),
  });
  const out = arg("out", "genesis.json");
  writeFileSync(out, JSON.stringify(genesis, null, 2) + "\n");
  console.log(`wrote ${out}`);
}
