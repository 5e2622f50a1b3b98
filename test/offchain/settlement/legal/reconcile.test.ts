import { expect } from "chai";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { deployCoreFixture, verify } from "../../../helpers/fixtures";
import {
  chainReference,
  parseCamt054,
  parseConfirmationCsv,
  reconcile,
  type ChainCashEvent,
} from "../../../../offchain/settlement/legal";
import { CNY } from "./seed";

const LONG_ID = "FS-a1a1a1a1a1a1a1a1-CLIENT-PAYOUT-01"; // 35 chars: carried on-chain as its keccak256

/** A custodian's camt.054: two deposits, three payouts (one with the wrong amount), one still pending. */
function camt054(): string {
  const entry = (e2e: string, ind: "CRDT" | "DBIT", amt: string, sts = "BOOK") => `
      <Ntry>
        <Amt Ccy="CNY">${amt}</Amt>
        <CdtDbtInd>${ind}</CdtDbtInd>
        <Sts><Cd>${sts}</Cd></Sts>
        <BookgDt><Dt>2027-01-02</Dt></BookgDt>
        <AcctSvcrRef>BANK-${e2e}</AcctSvcrRef>
        <NtryDtls><TxDtls><Refs><EndToEndId>${e2e}</EndToEndId></Refs></TxDtls></NtryDtls>
      </Ntry>`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">
  <BkToCstmrDbtCdtNtfctn>
    <GrpHdr><MsgId>CAMT-1</MsgId><CreDtTm>2027-01-02T18:00:00+08:00</CreDtTm></GrpHdr>
    <Ntfctn>
      <Id>N-1</Id>
      <Acct><Id><Othr><Id>31001234567890</Id></Othr></Id></Acct>
      ${entry("DEP-0001", "CRDT", "100000.00")}
      ${entry("DEP-0002", "CRDT", "5000.00")}
      ${entry("PAY-0001", "DBIT", "2500.00")}
      ${entry(LONG_ID, "DBIT", "1000.00")}
      ${entry("PAY-0002", "DBIT", "300.01")}
      ${entry("PAY-0009", "DBIT", "1.00", "PDNG")}
    </Ntfctn>
  </BkToCstmrDbtCdtNtfctn>
</Document>`;
}

/** The chain side: mint DEP-0001 (not DEP-0002), redeem PAY-0001, LONG_ID, PAY-0002 (300.00), PAY-0003. */
async function chainFixture() {
  const fx = await deployCoreFixture();
  const client = fx.actors.users[0];
  await verify(fx, client.address);
  const custodian = fx.cash.connect(fx.actors.custodian);
  await custodian.mint(client.address, 100_000n * CNY, chainReference("DEP-0001"));
  const holder = fx.cash.connect(client);
  await holder.redeem(2_500n * CNY, chainReference("PAY-0001"));
  await holder.redeem(1_000n * CNY, chainReference(LONG_ID));
  await holder.redeem(300n * CNY, chainReference("PAY-0002"));
  await holder.redeem(10n * CNY, chainReference("PAY-0003"));
  // What the chain indexer hands the reconciler: the token's Minted and Redeemed events.
  const events: ChainCashEvent[] = [];
  for (const log of await fx.cash.queryFilter(fx.cash.filters.Minted())) {
    events.push({
      kind: "mint",
      ref: log.args.depositRef,
      account: log.args.to,
      amount: log.args.amount,
      decimals: 6,
      currency: "CNY",
      txHash: log.transactionHash,
      blockNumber: log.blockNumber,
    });
  }
  for (const log of await fx.cash.queryFilter(fx.cash.filters.Redeemed())) {
    events.push({
      kind: "redeem",
      ref: log.args.payoutRef,
      account: log.args.holder,
      amount: log.args.amount,
      decimals: 6,
      currency: "CNY",
      txHash: log.transactionHash,
      blockNumber: log.blockNumber,
    });
  }
  return { events };
}

describe("legal: reconciliation of bank confirmations against the chain", () => {
  it("derives the on-chain reference from the EndToEndId: readable when it fits, hashed when it does not", () => {
    expect(hre.ethers.decodeBytes32String(chainReference("DEP-0001"))).to.equal("DEP-0001");
    expect(chainReference(LONG_ID)).to.equal(hre.ethers.id(LONG_ID));
  });

  it("reads camt.054 entries: direction, amount, status and EndToEndId", () => {
    const entries = parseCamt054(camt054());
    expect(entries).to.have.length(6);
    expect(entries[0]).to.deep.equal({
      endToEndId: "DEP-0001",
      direction: "credit",
      amount: "100000.00",
      currency: "CNY",
      bookingDate: "2027-01-02",
      status: "booked",
      bankRef: "BANK-DEP-0001",
    });
    expect(entries[5].status).to.equal("pending");
  });

  it("matches mints and redeems on a real chain, reporting missing, mismatched and pending entries", async () => {
    const { events } = await loadFixture(chainFixture);
    const report = reconcile(parseCamt054(camt054()), events);
    expect(report.summary).to.deep.equal({
      matched: 3,
      mismatched: 1,
      missingOnChain: 1,
      missingAtBank: 1,
      pending: 1,
    });
    expect(report.matched.map((m) => m.endToEndId)).to.deep.equal(["DEP-0001", "PAY-0001", LONG_ID]);
    expect(report.matched[0].txHash).to.equal(events.find((e) => e.kind === "mint")!.txHash);
    expect(report.mismatched[0].endToEndId).to.equal("PAY-0002");
    expect(report.mismatched[0].reasons).to.deep.equal([
      "amount 300010000 at the bank, 300000000 on-chain (base units)",
    ]);
    expect(report.missingOnChain.map((b) => b.endToEndId)).to.deep.equal(["DEP-0002"]);
    expect(report.missingAtBank.map((e) => e.ref)).to.deep.equal([chainReference("PAY-0003")]);
    expect(report.pending.map((b) => b.endToEndId)).to.deep.equal(["PAY-0009"]);
  });

  it("reads the CSV format to the same report, and flags a credit matched to a redeem", async () => {
    const { events } = await loadFixture(chainFixture);
    const csv = [
      "endToEndId,direction,amount,currency,bookingDate,status,bankRef",
      "DEP-0001,credit,100000.00,CNY,2027-01-02,booked,B1",
      "DEP-0002,credit,5000.00,CNY,2027-01-02,booked,B2",
      "PAY-0001,debit,2500.00,CNY,2027-01-02,booked,B3",
      `"${LONG_ID}",debit,1000.00,CNY,2027-01-02,booked,B4`,
      "PAY-0002,debit,300.01,CNY,2027-01-02,booked,B5",
      "PAY-0009,debit,1.00,CNY,2027-01-02,pending,",
      "",
    ].join("\r\n");
    const fromCsv = reconcile(parseConfirmationCsv(csv), events);
    const fromCamt = reconcile(parseCamt054(camt054()), events);
    expect(fromCsv.summary).to.deep.equal(fromCamt.summary);
    expect(fromCsv.matched.map((m) => m.endToEndId)).to.deep.equal(fromCamt.matched.map((m) => m.endToEndId));

    const wrongWay = reconcile(parseConfirmationCsv(csv.replace("PAY-0001,debit", "PAY-0001,credit")), events);
    expect(wrongWay.mismatched.find((m) => m.endToEndId === "PAY-0001")!.reasons).to.deep.equal([
      "bank credit but chain redeem",
    ]);
  });

  it("reports a bank entry booked twice as a duplicate, not as a second match", async () => {
    const { events } = await loadFixture(chainFixture);
    const twice = [...parseCamt054(camt054()), parseCamt054(camt054())[0]];
    const report = reconcile(twice, events);
    expect(report.summary.matched).to.equal(3);
    expect(report.duplicates).to.deep.equal([
      { ref: chainReference("DEP-0001").toLowerCase(), endToEndId: "DEP-0001", source: "bank" },
    ]);
  });
});
