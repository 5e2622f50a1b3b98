import hre from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { TypedDataDomain } from "ethers";
import { marginFixture, CNY, type MarginFixture } from "./marginFixture";
import { settlementDomain } from "../../offchain/settlement/orders";
import { SettlementHub__factory, type CollateralToken, type SettlementHub } from "../../typechain-types";

export interface SettlementFixture extends MarginFixture {
  hub: SettlementHub;
  domain: TypedDataDomain;
  operator: HardhatEthersSigner;
  /** Unleveraged client: 100,000 CNY of own cash in the engine. */
  alice: HardhatEthersSigner;
  /** Leveraged client (tier 3): 10,000 CNY own + 10,000 CNY borrowed. */
  bob: HardhatEthersSigner;
  /** Market maker: the margin fixture's dealer (securities in its margin account). */
  mm: HardhatEthersSigner;
  /** A key Alice may delegate trading to (not KYC-verified: it never holds anything). */
  tradingKey: HardhatEthersSigner;
  security: CollateralToken;
  otherSecurity: CollateralToken;
  /** An address that is not a listed instrument. */
  unlisted: string;
  signers: HardhatEthersSigner[];
}

/** The margin fixture plus the SettlementHub from deployAll, with a funded unleveraged and a leveraged client. */
export async function deploySettlementFixture(): Promise<SettlementFixture> {
  const fx = await marginFixture();
  const hub = SettlementHub__factory.connect(fx.record.contracts.SettlementHub, fx.actors.admin);
  const domain = settlementDomain((await hre.ethers.provider.getNetwork()).chainId, await hub.getAddress());
  const alice = fx.clientA;
  const bob = fx.clientB;
  await fx.fundAccount(alice, fx.cash, 100_000n * CNY);
  await fx.fundAccount(bob, fx.cash, 10_000n * CNY);
  await fx.engine.connect(bob).borrow(10_000n * CNY);
  return {
    ...fx,
    hub,
    domain,
    operator: fx.actors.operator,
    alice,
    bob,
    mm: fx.dealer,
    tradingKey: fx.actors.users[7],
    security: fx.bank,
    otherSecurity: fx.tech,
    unlisted: "0x00000000000000000000000000000000DeaDBeef",
    signers: await hre.ethers.getSigners(),
  };
}
