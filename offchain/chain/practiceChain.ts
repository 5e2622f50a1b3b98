import {
  MaxUint256,
  Wallet,
  type TypedDataDomain,
  type TypedDataField,
  concat,
  dataSlice,
  getAddress,
  keccak256,
  randomBytes,
  toUtf8Bytes,
  zeroPadValue,
} from "ethers";
import {
  AgreementBinding__factory,
  AgreementRegistry__factory,
  CollateralToken__factory,
  KycRegistry__factory,
  MarginEngine__factory,
  ProtocolAccessManager__factory,
  SettlementHub__factory,
  type CollateralToken,
} from "../../typechain-types";
import { AppError } from "../shared/errors";
import type { Logger } from "../shared/logger";
import type { ChainGateway } from "./gateway";
import { withRetry } from "./retry";
import { TxSender } from "./sender";

/** One balance of a practice margin account at its start: `amount` base units of the token `symbol`. */
export interface PracticeBalance {
  symbol: string;
  amount: bigint;
}

/** A practice account as the chain has it: identity, debt, margin balances and what its wallet still holds. */
export interface PracticeState {
  account: string;
  verified: boolean;
  debt: bigint;
  margin: Record<string, bigint>;
  wallet: Record<string, bigint>;
}

/**
 * A practice account's agreement, prepared off-chain (the practice capability generates it from the practice
 * chain's schedule): what both parties sign and the binding's numbers (18-decimal ratios).
 */
export interface PracticeAgreement {
  typedData: {
    domain: TypedDataDomain;
    types: Record<string, TypedDataField[]>;
    message: { agreementId: string } & Record<string, unknown>;
  };
  maxLeverage: bigint;
  maxPenalty: bigint;
}

export interface PracticeChainOptions {
  /** The practice custodian: mints the starting balances, pays the practice accounts' gas. */
  custodianKey: string;
  /** The practice operator: anchors each practice account's agreement and proposes its binding. */
  operatorKey?: string;
  /** Each client's practice account key is keccak256(seed ‖ wallet): derived, never stored. */
  accountSeed: string;
  /** What every practice margin account holds at its start (and after a reset). */
  start: PracticeBalance[];
  log: Logger;
}

/** The practice account's key for a client wallet: keccak256(seed ‖ wallet), one per wallet for ever. */
function practiceAccountKey(seed: string, wallet: string): string {
  return keccak256(concat([seed, getAddress(wallet)]));
}

/** The practice account of a client wallet under `seed` (its address; the key stays in the practice service). */
export function practiceAccountOf(seed: string, wallet: string): string {
  return new Wallet(practiceAccountKey(seed, wallet)).address;
}

/** Gas money a practice account receives when it opens (and again when it runs low). */
const GAS_FLOAT = 10n ** 18n;

/**
 * The practice deployment's writes. Every call goes to the gateway's deployment, which the practice service only
 * ever builds over the practice record: a practice account is a key derived from the client's wallet and held
 * here, so that a reset can put it back to its start by the account's own calls (repay, withdraw, redeem) and the
 * custodian's mints. No call can reach another deployment: the contracts are bound once, from `chain.deployment`.
 */
export function practiceChain(chain: ChainGateway, opts: PracticeChainOptions) {
  const { provider, deployment, retry } = chain;
  const errors = [
    MarginEngine__factory.createInterface(),
    CollateralToken__factory.createInterface(),
    KycRegistry__factory.createInterface(),
    SettlementHub__factory.createInterface(),
    ProtocolAccessManager__factory.createInterface(),
    AgreementRegistry__factory.createInterface(),
    AgreementBinding__factory.createInterface(),
  ];
  const sender = (key: string, name: string) =>
    new TxSender(new Wallet(key, provider), errors, retry, opts.log.child({ signer: name }));
  const custodian = sender(opts.custodianKey, "practiceCustodian");
  const operator = opts.operatorKey ? sender(opts.operatorKey, "practiceOperator") : undefined;
  const registry = AgreementRegistry__factory.connect(deployment.contracts.AgreementRegistry, provider);
  const binding = AgreementBinding__factory.connect(deployment.contracts.AgreementBinding, provider);
  const engine = MarginEngine__factory.connect(deployment.contracts.MarginEngine, provider);
  const hub = SettlementHub__factory.connect(deployment.contracts.SettlementHub, provider);
  const tokens = new Map<string, CollateralToken>(
    deployment.tokens.map((t) => [t.symbol, CollateralToken__factory.connect(t.address, provider)]),
  );
  const cash = deployment.tokens.find((t) => t.kind === "cash")!;
  /** Senders by client wallet and by practice account (both checksummed). */
  const byWallet = new Map<string, TxSender>();
  const byAccount = new Map<string, TxSender>();
  const read = <T>(fn: () => Promise<T>) => withRetry(fn, retry);

  const keyOf = (wallet: string): string => practiceAccountKey(opts.accountSeed, wallet);
  const accountSender = (wallet: string): TxSender => {
    const w = getAddress(wallet);
    let s = byWallet.get(w);
    if (!s) {
      s = sender(keyOf(w), "practiceAccount");
      byWallet.set(w, s);
      byAccount.set(s.address, s);
    }
    return s;
  };
  const token = (symbol: string): CollateralToken => {
    const t = tokens.get(symbol);
    if (!t) throw new AppError("VALIDATION_FAILED", `the practice deployment lists no token ${symbol}`);
    return t;
  };
  /** A reference never used before (mint and redeem refuse a used one). */
  const ref = (what: string, account: string): string =>
    keccak256(concat([toUtf8Bytes(`practice ${what} ${account}`), randomBytes(32)]));

  const fundGas = async (account: string): Promise<void> => {
    if ((await read(() => provider.getBalance(account))) < GAS_FLOAT / 10n)
      await custodian.sendValue(account, GAS_FLOAT);
  };

  /** Brings one token's margin balance to `target`: withdraws the excess or mints and deposits the shortfall. */
  const settleBalance = async (s: TxSender, symbol: string, have: bigint, target: bigint): Promise<number> => {
    const t = token(symbol);
    if (have > target) {
      await s.send(engine, "withdraw", [await t.getAddress(), have - target]);
      return 1;
    }
    if (have === target) return 0;
    const need = target - have;
    await custodian.send(t, "mint", [s.address, need, ref("mint", s.address)]);
    await s.send(t, "approve", [deployment.contracts.MarginEngine, need]);
    await s.send(engine, "deposit", [await t.getAddress(), need]);
    return 3;
  };

  const self = {
    /**
     * The hub's EIP-712 domain (SettlementHub's name and version): practice orders are signed for it, and so for no
     * other deployment.
     */
    orderDomain(): { name: string; version: string; chainId: number; verifyingContract: string } {
      return {
        name: "MarginBridge Settlement",
        version: "1",
        chainId: deployment.chainId,
        verifyingContract: deployment.contracts.SettlementHub,
      };
    },
    /** The practice account of a client wallet (derived; the same before and after any reset). */
    accountOf(wallet: string): string {
      return accountSender(wallet).address;
    },
    async state(account: string): Promise<PracticeState> {
      const [verified, [debt]] = await Promise.all([
        read(() => chain.kycRegistry.isVerified(account)),
        read(() => engine.debtOf(account)),
      ]);
      const margin: Record<string, bigint> = {};
      const wallet: Record<string, bigint> = {};
      for (const t of deployment.tokens) {
        margin[t.symbol] = await read(() => engine.balanceOf(account, t.address));
        wallet[t.symbol] = await read(() => token(t.symbol).balanceOf(account));
      }
      return { account, verified, debt, margin, wallet };
    },
    /** Whether the account is exactly at its start: no debt, the starting margin balances, an empty wallet. */
    atStart(s: PracticeState): boolean {
      if (s.debt !== 0n) return false;
      if (Object.values(s.wallet).some((v) => v !== 0n)) return false;
      return deployment.tokens.every((t) => s.margin[t.symbol] === startOf(t.symbol));
    },
    /**
     * Opens the wallet's practice account (idempotent): gas, a practice identity at `tier` (KYC officer), the
     * wallet as the account's trading key on the practice hub (so the client signs its practice orders), and the
     * starting balances in the margin account. Returns the account and whether anything was sent.
     */
    async open(wallet: string, tier: number): Promise<{ account: string; opened: boolean }> {
      const s = accountSender(wallet);
      const account = s.address;
      const before = await self.state(account);
      const keyExpiry = await read(() => hub.tradingKeyExpiry(account, getAddress(wallet)));
      // Never funded (or an open that stopped before its deposits): the starting balances are still to come. An
      // account that has traded is left as it is.
      const unfunded = before.debt === 0n && Object.values(before.margin).every((v) => v === 0n);
      if (before.verified && keyExpiry > 0n && !unfunded) return { account, opened: false };
      await fundGas(account);
      if (!before.verified) await verify(account, wallet, tier);
      if (keyExpiry === 0n) {
        const block = await read(() => provider.getBlock("latest"));
        await s.send(hub, "setTradingKey", [getAddress(wallet), BigInt(block!.timestamp + 10 * 365 * 86_400)]);
      }
      if (unfunded) await self.reset(account);
      return { account, opened: true };
    },
    /**
     * Puts the account back to its start by real calls on this deployment: the custodian mints what repays the
     * debt (the account repays from its wallet), the account withdraws what exceeds the start and the custodian
     * mints what is missing, then the account redeems (burns) whatever its wallet still holds. Nothing is sent
     * when it already is at the start. Returns how many transactions were sent.
     */
    async reset(account: string): Promise<{ txs: number }> {
      const s = await senderOf(account);
      let st = await self.state(account);
      if (!st.verified) throw new AppError("NOT_FOUND", "no practice account is open for this caller");
      if (self.atStart(st)) return { txs: 0 };
      await fundGas(account);
      let txs = 0;
      if (st.debt > 0n) {
        // Interest accrues between the read and the repay: a little more than the debt (repay takes no more).
        const amount = st.debt + st.debt / 1000n + 1_000n;
        const c = token(cash.symbol);
        await custodian.send(c, "mint", [account, amount, ref("repay", account)]);
        await s.send(c, "approve", [deployment.contracts.MarginEngine, amount]);
        await s.send(engine, "repayFromWallet", [MaxUint256]);
        txs += 3;
      }
      for (const t of deployment.tokens)
        txs += await settleBalance(s, t.symbol, st.margin[t.symbol], startOf(t.symbol));
      st = await self.state(account);
      for (const t of deployment.tokens) {
        const left = st.wallet[t.symbol];
        if (left === 0n) continue;
        await s.send(token(t.symbol), "redeem", [left, ref("redeem", account)]);
        txs++;
      }
      return { txs };
    },
    /** The practice operator's address (the platform party of practice agreements); undefined without its key. */
    operatorAddress(): string | undefined {
      return operator?.address;
    },
    /** Whether the account is bound to an agreement that is open and within its term at the latest block. */
    async bound(account: string): Promise<boolean> {
      const [b, block] = await Promise.all([
        read(() => binding.bindingOf(account)),
        read(() => provider.getBlock("latest")),
      ]);
      if (b.maxLeverage === 0n || block!.timestamp >= Number(b.expiresAt)) return false;
      return (await read(() => registry.closedAtOf(b.agreementId))) === 0n;
    },
    /**
     * Binds the wallet's practice account to `agreement` (practice accounts borrow only under one): the account's
     * key and the practice operator sign it, the operator anchors it and proposes the binding, the account accepts.
     */
    async bind(wallet: string, agreement: PracticeAgreement): Promise<void> {
      if (!operator) throw new AppError("CONFIG_INVALID", "the practice service has no operator key");
      const s = accountSender(wallet);
      const td = agreement.typedData;
      const sign = (key: string) => new Wallet(key).signTypedData(td.domain, td.types, td.message);
      const id = td.message.agreementId;
      if (!(await read(() => registry.isAnchored(id))))
        await operator.send(registry, "anchor", [td.message, await sign(keyOf(wallet)), await sign(opts.operatorKey!)]);
      const numbers = [agreement.maxLeverage, agreement.maxPenalty];
      await operator.send(binding, "propose", [id, ...numbers]);
      await fundGas(s.address);
      await s.send(binding, "accept", [id, ...numbers]);
    },
    /** The account borrows cash into its margin account (the practice API's stand-in for the client's wallet). */
    async borrow(account: string, amount: bigint): Promise<void> {
      await (await senderOf(account)).send(engine, "borrow", [amount]);
    },
    /** The account repays from its margin cash (at most its debt). */
    async repay(account: string, amount: bigint): Promise<void> {
      await (await senderOf(account)).send(engine, "repay", [amount]);
    },
    /** The client wallet a practice account belongs to (undefined for any address that is not one). */
    async walletOf(account: string): Promise<string | undefined> {
      const identity = await read(() => chain.kycRegistry.identityOf(account));
      if (!identity.registered) return undefined;
      const wallet = getAddress(dataSlice(identity.identityHash, 12));
      return accountSender(wallet).address === getAddress(account) ? wallet : undefined;
    },
  };
  const startOf = (symbol: string): bigint => opts.start.find((b) => b.symbol === symbol)?.amount ?? 0n;
  /** The account's sender, found again after a restart through the wallet its practice identity names. */
  const senderOf = async (account: string): Promise<TxSender> => {
    const known = byAccount.get(getAddress(account));
    if (known) return known;
    const wallet = await self.walletOf(account);
    if (!wallet) throw new AppError("NOT_FOUND", "no practice account is open for this caller");
    return accountSender(wallet);
  };
  /** A practice identity for a year: its identity hash is the client's wallet (how walletOf finds it again). */
  const verify = async (account: string, wallet: string, tier: number): Promise<void> => {
    const officer = chain.kycOfficer;
    if (!officer) throw new AppError("CONFIG_INVALID", "the practice service has no KYC officer key");
    const block = await read(() => provider.getBlock("latest"));
    const expires = block!.timestamp + 365 * 86_400;
    await officer.send(chain.kycRegistry, "setIdentity", [account, tier, 156, expires, zeroPadValue(wallet, 32)]);
  };
  return self;
}

export type PracticeChain = ReturnType<typeof practiceChain>;
