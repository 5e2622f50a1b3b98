import { expect } from "chai";
import type { TokenRecord } from "../../../offchain/chain/deployment";
import {
  CASH_REPORTING_THRESHOLD_CNY,
  amlConfig,
  amlFindings,
  withCashThreshold,
  type AmlConfig,
} from "../../../offchain/surveillance";

type Movement = Parameters<typeof amlFindings>[1][number];

const CASH = "0x00000000000000000000000000000000000000c1";
const BANK = "0x00000000000000000000000000000000000000b1";
const TOKENS: TokenRecord[] = [
  {
    symbol: "mbCNY",
    name: "MarginBridge CNY",
    kind: "cash",
    address: CASH.toUpperCase().replace("0X", "0x"),
    decimals: 6,
    liquidityTier: 0,
  },
  { symbol: "mbBANK", name: "Bank", kind: "security", address: BANK, decimals: 18, liquidityTier: 1 },
];
const CNY = 10n ** 6n;

const deposit = (account: string, amount: bigint, block: number): Movement => ({
  kind: "deposit",
  account,
  asset: CASH,
  amount,
  block,
  logIndex: 0,
  txHash: `0x${block.toString(16).padStart(64, "0")}`,
});

/**
 * The AML structuring rule is on by default for the deployment's cash token, at the PBOC's large-value threshold for
 * cash (RMB 50,000): a configured threshold for that token is kept, other assets stay unconfigured.
 */
describe("AML defaults: the cash token under the large-value reporting threshold", () => {
  it("sets RMB 50,000 in the cash token's base units, lower-case address, keeping configured ones", () => {
    const aml = withCashThreshold(undefined, TOKENS);
    expect(aml.structuring?.thresholds).to.deep.equal({ [CASH]: (CASH_REPORTING_THRESHOLD_CNY * CNY).toString() });
    const configured = withCashThreshold(
      { structuring: { ...amlConfig().structuring, thresholds: { [CASH]: "7" } } },
      TOKENS,
    );
    expect(configured.structuring?.thresholds).to.deep.equal({ [CASH]: "7" });
    expect(withCashThreshold(undefined, undefined)).to.deep.equal({});
  });

  it("flags repeated deposits just under RMB 50,000 and not deposits well under it or at it", () => {
    const c: AmlConfig = amlConfig(withCashThreshold(undefined, TOKENS));
    const under = [deposit("0xa", 49_000n * CNY, 10), deposit("0xa", 48_500n * CNY, 20)];
    const hits = amlFindings(c, under, 0).filter((f) => f.rule === "aml-structuring");
    expect(hits, "two deposits within 10 % under the threshold").to.have.length(1);
    const clean = [
      deposit("0xb", 40_000n * CNY, 10),
      deposit("0xb", 30_000n * CNY, 20),
      deposit("0xc", 50_000n * CNY, 10),
      deposit("0xc", 50_000n * CNY, 20),
    ];
    expect(amlFindings(c, clean, 0).filter((f) => f.rule === "aml-structuring")).to.deep.equal([]);
  });
});
