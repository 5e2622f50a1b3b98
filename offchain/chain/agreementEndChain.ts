import { Wallet, id as keccakText } from "ethers";
import {
  AgreementBinding__factory,
  AgreementRegistry__factory,
  AgreementSettlement__factory,
  CapitalPool__factory,
  CollateralToken__factory,
  MarginEngine__factory,
  ProtocolAccessManager__factory,
  TrancheVault__factory,
} from "../../typechain-types";
import { AppError } from "../shared/errors";
import type { Logger } from "../shared/logger";
import type { ChainGateway } from "./gateway";
import { withRetry } from "./retry";
import { TxSender } from "./sender";

/** An account's binding to its agreement (AgreementBinding.bindingOf); times in unix seconds. */
export interface ChainBinding {
  agreementId: string;
  maxLeverage: bigint;
  maxPenalty: bigint;
  effectiveAt: number;
  expiresAt: number;
}

/** What the end of an agreement moved on-chain (AgreementSettlement.settlementOf). */
export interface ChainEndSettlement {
  providersShare: bigint;
  platformShare: bigint;
  feesCharged: bigint;
  settledAt: number;
  finalHash: string;
}

export interface Sent {
  txHash: string;
  blockNumber: number;
}

/**
 * The chain's side of an agreement's end: reads of the binding, positions, debt, the fee ledger and the pool, and
 * the operator's writes (AgreementBinding.terminate, AgreementSettlement.chargeFee and settleEnd) through the
 * operator's one sender (shared with the settlement batcher, so the key has one nonce sequence in the process), and
 * the forced close (AgreementSettlement.forceClose) by the platform's close-out account when a key is configured.
 */
export interface AgreementEndChain {
  now(): Promise<number>;
  bindingOf(account: string): Promise<ChainBinding>;
  anchorOf(agreementId: string): Promise<{ client: string; effectiveAt: number; expiresAt: number; closedAt: number }>;
  closeOutPeriod(): Promise<number>;
  /** Listed securities the account holds in the engine (units > 0). */
  positions(account: string): Promise<{ asset: string; units: bigint }[]>;
  cashOf(account: string): Promise<bigint>;
  debtOf(account: string): Promise<bigint>;
  /**
   * The account's debt from `fromBlock` on: principal lent (Borrowed), what its own money repaid (Repaid, the debt
   * its liquidations repaid, the cash a default took), and what the loss waterfall extinguished without it (the
   * insurance fund, a write-off against the pool).
   */
  debtFlows(
    account: string,
    fromBlock: number,
  ): Promise<{ borrowed: bigint; repaid: bigint; fromInsurance: bigint; writtenOff: bigint }>;
  feesOf(agreementId: string): Promise<bigint>;
  /** What was charged under `ref` (its FeeCharged event), undefined when nothing was. */
  chargedFee(ref: string): Promise<bigint | undefined>;
  settlementOf(agreementId: string): Promise<ChainEndSettlement>;
  /** The senior and junior classes' cash base units per whole share (TrancheVault.convertToAssets of one share). */
  sharePrices(): Promise<{ senior: bigint; junior: bigint }>;
  /** Cash-token Redeemed events of `holder` with `payoutRef` (the bank leg's on-chain side). */
  redemptions(
    holder: string,
    payoutRef: string,
    fromBlock: number,
  ): Promise<{ amount: bigint; txHash: string; blockNumber: number }[]>;
  cash: { address: string; symbol: string; decimals: number };
  /** Every token of the deployment (securities and cash), for symbols and decimals. */
  tokens: { address: string; symbol: string; decimals: number }[];
  platformAccount(): Promise<string>;
  terminate(account: string): Promise<Sent>;
  chargeFee(agreementId: string, amount: bigint, ref: string): Promise<Sent>;
  settleEnd(agreementId: string, providersShare: bigint, platformShare: bigint, finalHash: string): Promise<Sent>;
  /** Absent without a close-out key: the forced close is then left to any verified buyer (it is permissionless). */
  forceClose?: (agreementId: string, asset: string, units: bigint) => Promise<Sent>;
  closeOutAccount?: string;
}

/** keccak256 of a fee's reference text (`<agreementId>:fee:<code>`): AgreementSettlement refuses a reused one. */
export function feeRef(agreementId: string, code: string): string {
  return keccakText(`${agreementId.toLowerCase()}:fee:${code}`);
}

export function agreementEndChain(
  gateway: ChainGateway,
  operator: TxSender,
  log: Logger,
  closeOutKey?: string,
): AgreementEndChain {
  const { provider, deployment, retry } = gateway;
  const need = (name: string): string => {
    const a = deployment.contracts[name];
    if (!a) throw new AppError("CONFIG_INVALID", `the deployment has no ${name}`);
    return a;
  };
  const engine = MarginEngine__factory.connect(need("MarginEngine"), provider);
  const binding = AgreementBinding__factory.connect(need("AgreementBinding"), provider);
  const registry = AgreementRegistry__factory.connect(need("AgreementRegistry"), provider);
  const settlement = AgreementSettlement__factory.connect(need("AgreementSettlement"), provider);
  const pool = CapitalPool__factory.connect(need("CapitalPool"), provider);
  const cashToken = deployment.tokens.find((t) => t.kind === "cash");
  if (!cashToken) throw new AppError("CONFIG_INVALID", "the deployment lists no cash token");
  const cash = CollateralToken__factory.connect(cashToken.address, provider);
  const read = <T>(fn: () => Promise<T>): Promise<T> => withRetry(fn, retry);
  const errors = [
    AgreementSettlement__factory.createInterface(),
    AgreementBinding__factory.createInterface(),
    AgreementRegistry__factory.createInterface(),
    MarginEngine__factory.createInterface(),
    CapitalPool__factory.createInterface(),
    ProtocolAccessManager__factory.createInterface(),
  ];
  const closer = closeOutKey
    ? new TxSender(new Wallet(closeOutKey, provider), errors, retry, log.child({ signer: "close-out" }))
    : undefined;
  const sent = (s: { hash: string; receipt: { blockNumber: number } }): Sent => ({
    txHash: s.hash,
    blockNumber: s.receipt.blockNumber,
  });
  return {
    cash: { address: cashToken.address, symbol: cashToken.symbol, decimals: cashToken.decimals },
    tokens: deployment.tokens.map((t) => ({ address: t.address, symbol: t.symbol, decimals: t.decimals })),
    closeOutAccount: closer?.address,
    async now() {
      const block = await read(() => provider.getBlock("latest"));
      return block!.timestamp;
    },
    async bindingOf(account) {
      const b = await read(() => binding.bindingOf(account));
      return {
        agreementId: b.agreementId,
        maxLeverage: b.maxLeverage,
        maxPenalty: b.maxPenalty,
        effectiveAt: Number(b.effectiveAt),
        expiresAt: Number(b.expiresAt),
      };
    },
    async anchorOf(agreementId) {
      const a = await read(() => registry.agreementOf(agreementId));
      return {
        client: a.client,
        effectiveAt: Number(a.effectiveAt),
        expiresAt: Number(a.expiresAt),
        closedAt: Number(a.closedAt),
      };
    },
    async closeOutPeriod() {
      return Number(await read(() => settlement.closeOutPeriod()));
    },
    async positions(account) {
      const listed = await read(() => engine.listedAssets());
      const out: { asset: string; units: bigint }[] = [];
      for (const asset of listed) {
        if (asset.toLowerCase() === cashToken.address.toLowerCase()) continue;
        const units = await read(() => engine.balanceOf(account, asset));
        if (units > 0n) out.push({ asset, units });
      }
      return out;
    },
    async cashOf(account) {
      return read(() => engine.balanceOf(account, cashToken.address));
    },
    async debtOf(account) {
      const [debt] = await read(() => engine.debtOf(account));
      return debt;
    },
    async debtFlows(account, fromBlock) {
      const [borrowed, repaid, liquidated, defaults] = await Promise.all([
        read(() => engine.queryFilter(engine.filters.Borrowed(account), fromBlock)),
        read(() => engine.queryFilter(engine.filters.Repaid(account), fromBlock)),
        read(() => engine.queryFilter(engine.filters.Liquidated(account), fromBlock)),
        read(() => engine.queryFilter(engine.filters.DefaultSettled(account), fromBlock)),
      ]);
      // DefaultSettled.fromAccount counts the closing liquidation's repayment of the same transaction (as the daily
      // statements read it): only the rest is cash the default took.
      const repaidInTx = new Map<string, bigint>();
      for (const e of liquidated)
        repaidInTx.set(e.transactionHash, (repaidInTx.get(e.transactionHash) ?? 0n) + e.args.debtRepaid);
      let fromCash = 0n;
      for (const e of defaults) {
        const rest = e.args.fromAccount - (repaidInTx.get(e.transactionHash) ?? 0n);
        if (rest > 0n) fromCash += rest;
      }
      return {
        borrowed: borrowed.reduce((s, e) => s + e.args.amount, 0n),
        repaid:
          repaid.reduce((s, e) => s + e.args.amount, 0n) +
          liquidated.reduce((s, e) => s + e.args.debtRepaid, 0n) +
          fromCash,
        fromInsurance: defaults.reduce((s, e) => s + e.args.fromInsurance, 0n),
        writtenOff: defaults.reduce((s, e) => s + e.args.writtenOff, 0n),
      };
    },
    async feesOf(agreementId) {
      return read(() => settlement.feesOf(agreementId));
    },
    async chargedFee(ref) {
      if (!(await read(() => settlement.feeCharged(ref)))) return undefined;
      const events = await read(() =>
        settlement.queryFilter(settlement.filters.FeeCharged(undefined, undefined, ref), deployment.deployBlock),
      );
      return events.reduce((s, e) => s + e.args.amount, 0n);
    },
    async settlementOf(agreementId) {
      const s = await read(() => settlement.settlementOf(agreementId));
      return {
        providersShare: s.providersShare,
        platformShare: s.platformShare,
        feesCharged: s.feesCharged,
        settledAt: Number(s.settledAt),
        finalHash: s.finalHash,
      };
    },
    async sharePrices() {
      const price = async (tranche: 0 | 1): Promise<bigint> => {
        const vault = TrancheVault__factory.connect(await read(() => pool.tranche(tranche)), provider);
        const decimals = await read(() => vault.decimals());
        return read(() => vault.convertToAssets(10n ** decimals));
      };
      return { senior: await price(0), junior: await price(1) };
    },
    async redemptions(holder, payoutRef, fromBlock) {
      const events = await read(() => cash.queryFilter(cash.filters.Redeemed(holder, undefined, payoutRef), fromBlock));
      return events.map((e) => ({ amount: e.args.amount, txHash: e.transactionHash, blockNumber: e.blockNumber }));
    },
    async platformAccount() {
      return read(() => settlement.platformAccount());
    },
    async terminate(account) {
      return sent(await operator.send(binding, "terminate", [account]));
    },
    async chargeFee(agreementId, amount, ref) {
      return sent(await operator.send(settlement, "chargeFee", [agreementId, amount, ref]));
    },
    async settleEnd(agreementId, providersShare, platformShare, finalHash) {
      return sent(
        await operator.send(settlement, "settleEnd", [agreementId, providersShare, platformShare, finalHash]),
      );
    },
    forceClose: closer
      ? async (agreementId, asset, units) =>
          sent(await closer.send(settlement, "forceClose", [agreementId, asset, units]))
      : undefined,
  };
}
