import { expect } from "chai";
import { decodeRlp, Wallet } from "ethers";
import { besuQbftGenesis, qbftExtraData } from "../../../scripts/besu-genesis";

describe("Besu QBFT genesis (scripts/besu-genesis.ts)", () => {
  const validators = Array.from({ length: 4 }, (_, i) => new Wallet("0x" + String(i + 1).padStart(64, "0")).address);

  it("encodes extraData as RLP([vanity, validators, votes, round, seals]) with the four validators in order", () => {
    const decoded = decodeRlp(qbftExtraData(validators)) as (string | string[])[];
    expect(decoded).to.have.length(5);
    expect(decoded[0]).to.equal("0x" + "00".repeat(32));
    expect((decoded[1] as string[]).map((a) => a.toLowerCase())).to.deep.equal(validators.map((v) => v.toLowerCase()));
    expect(decoded[2]).to.deep.equal([]);
    expect(decoded[3]).to.equal("0x");
    expect(decoded[4]).to.deep.equal([]);
  });

  it("builds a free-gas genesis with Cancun active and the QBFT block period", () => {
    const g = besuQbftGenesis({
      chainId: 20261,
      validators,
      alloc: [validators[0]],
      blockPeriodSeconds: 2,
      timestamp: 1_700_000_000,
    });
    const config = g.config as Record<string, unknown>;
    expect(config.chainId).to.equal(20261);
    expect(config.zeroBaseFee).to.equal(true);
    expect(config.cancunTime).to.equal(0);
    expect(config.qbft).to.deep.equal({ blockperiodseconds: 2, epochlength: 30000, requesttimeoutseconds: 4 });
    expect(g.timestamp).to.equal("0x6553f100");
  });

  it("refuses fewer than four validators", () => {
    expect(() =>
      besuQbftGenesis({ chainId: 1, validators: validators.slice(0, 3), alloc: [], blockPeriodSeconds: 2 }),
    ).to.throw(/4 validators/);
  });
});
