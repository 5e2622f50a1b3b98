import { expect } from "chai";
import { LOGS_PER_REQUEST, LogSpan } from "../../../offchain/chain";

describe("LogSpan (blocks per eth_getLogs)", function () {
  it("starts at one block and doubles while the answers stay under the target, up to the maximum", function () {
    const span = new LogSpan(500, 100);
    const asked: number[] = [];
    for (let i = 0; i < 12; i++) {
      asked.push(span.blocks);
      span.observe(span.blocks, 3);
    }
    expect(asked).to.deep.equal([1, 2, 4, 8, 16, 32, 64, 128, 256, 500, 500, 500]);
  });

  it("shrinks to the blocks that would have held the target after a dense answer, never below one", function () {
    const span = new LogSpan(500, 10_000);
    for (let i = 0; i < 10; i++) span.observe(span.blocks, 0);
    expect(span.blocks).to.equal(500);
    // 500 blocks of 2,000 transactions: 300,000 logs (the keeper bench at 100,000 accounts)
    span.observe(500, 300_000);
    expect(span.blocks).to.equal(16); // ⌊500 · 10,000 / 300,000⌋
    span.observe(16, 48_000);
    expect(span.blocks).to.equal(3);
    span.observe(3, 1_000_000);
    expect(span.blocks).to.equal(1);
    span.observe(1, 50_000); // one block alone past the target: still one block
    expect(span.blocks).to.equal(1);
  });

  it("does not grow on a short range near the head (it learned nothing about a longer one)", function () {
    const span = new LogSpan(2_000);
    for (let i = 0; i < 5; i++) span.observe(span.blocks, 0);
    expect(span.blocks).to.equal(32);
    span.observe(3, 0);
    expect(span.blocks).to.equal(32);
  });

  it("defaults to about ten thousand logs per answer and refuses a maximum below one block", function () {
    expect(LOGS_PER_REQUEST).to.equal(10_000);
    expect(() => new LogSpan(0)).to.throw(RangeError, /at least 1/);
    expect(() => new LogSpan(10, 0)).to.throw(RangeError, /at least 1/);
  });
});
