import { Wallet } from "ethers";
import {
  AgreementBinding__factory,
  AgreementRegistry__factory,
  MarginEngine__factory,
  ProtocolAccessManager__factory,
  SettlementHub__factory,
} from "../../typechain-types";
import type { ISettlementHub } from "../../typechain-types/contracts/settlement/SettlementHub";
import type { Logger } from "../shared/logger";
import { AppError } from "../shared/errors";
import type { ChainGateway } from "./gateway";
import { decodeRevert } from "./revert";
import { withRetry } from "./retry";
import { TxSender } from "./sender";

export type HubTrade = ISettlementHub.TradeStruct;

/** What the settlement batcher needs from the chain: simulate, send, and read a batch's on-chain record. */
export interface SettlementChain {
  /** eth_estimateGas of settleBatch; a revert becomes CHAIN_REVERTED with the hub's custom error decoded. */
  estimateSettle(batchId: string, trades: HubTrade[]): Promise<bigint>;
  /**
   * Sends settleBatch as the operator and waits for the receipt; `gasEstimate` is estimateSettle's answer for this
   * very batch when it was just made (a fresh batch), so the node runs the batch once less.
   */
  settle(batchId: string, trades: HubTrade[], gasEstimate?: bigint): Promise<{ txHash: string; blockNumber: number }>;
  /** `batch(batchId).settledAt` (0 when the batch never settled). */
  settledAt(batchId: string): Promise<bigint>;
  /** AgreementRegistry.anchor as the operator. */
  anchorAgreement(args: unknown[]): Promise<{ txHash: string; blockNumber: number }>;
  /** Whether the agreement is anchored on-chain with `termsHash`, and the transaction that anchored it. */
  anchorOf(
    agreementId: string,
    termsHash: string,
  ): Promise<{ anchored: boolean; matchesTerms: boolean; txHash: string | null; blockNumber: number | null }>;
  /**
   * AgreementBinding.propose as the operator (the same numbers again only rewrite the proposal: safe to repeat).
   * CHAIN_UNAVAILABLE when the deployment has no AgreementBinding.
   */
  proposeBinding(
    agreementId: string,
    maxLeverage: bigint,
    maxPenalty: bigint,
  ): Promise<{ txHash: string; blockNumber: number }>;
  operator: string;
  /** The operator's one sender (one nonce sequence per key in the process): other operator writes go through it. */
  sender: TxSender;
}

/** The operator's writer for SettlementHub and AgreementRegistry, over the gateway's provider and retry policy. */
export function settlementChain(gateway: ChainGateway, operatorKey: string, log: Logger): SettlementChain {
  const { provider, deployment, retry } = gateway;
  const hubAddress = deployment.contracts.SettlementHub;
  const registryAddress = deployment.contracts.AgreementRegistry;
  const bindingAddress = deployment.contracts.AgreementBinding;
  if (!hubAddress || !registryAddress) {
    throw new AppError("CONFIG_INVALID", "the deployment has no SettlementHub or AgreementRegistry");
  }
  const hub = SettlementHub__factory.connect(hubAddress, provider);
  const registry = AgreementRegistry__factory.connect(registryAddress, provider);
  const wallet = new Wallet(operatorKey, provider);
  const errors = [
    SettlementHub__factory.createInterface(),
    MarginEngine__factory.createInterface(),
    AgreementRegistry__factory.createInterface(),
    AgreementBinding__factory.createInterface(),
    ProtocolAccessManager__factory.createInterface(),
  ];
  const sender = new TxSender(wallet, errors, retry, log.child({ signer: "operator" }));
  return {
    operator: wallet.address,
    sender,
    async estimateSettle(batchId, trades) {
      const data = hub.interface.encodeFunctionData("settleBatch", [batchId, trades]);
      try {
        return await withRetry(() => provider.estimateGas({ to: hubAddress, data, from: wallet.address }), retry);
      } catch (err) {
        throw decodeRevert(err, errors);
      }
    },
    async settle(batchId, trades, gasEstimate) {
      const sent = await sender.send(hub, "settleBatch", [batchId, trades], 1, gasEstimate);
      return { txHash: sent.hash, blockNumber: sent.receipt.blockNumber };
    },
    async settledAt(batchId) {
      const rec = await withRetry(() => hub.batch(batchId), retry);
      return rec.settledAt;
    },
    async anchorAgreement(args) {
      const sent = await sender.send(registry, "anchor", args);
      return { txHash: sent.hash, blockNumber: sent.receipt.blockNumber };
    },
    async proposeBinding(agreementId, maxLeverage, maxPenalty) {
      if (!bindingAddress) throw new AppError("CHAIN_UNAVAILABLE", "the deployment has no AgreementBinding");
      const binding = AgreementBinding__factory.connect(bindingAddress, provider);
      const sent = await sender.send(binding, "propose", [agreementId, maxLeverage, maxPenalty]);
      return { txHash: sent.hash, blockNumber: sent.receipt.blockNumber };
    },
    async anchorOf(agreementId, termsHash) {
      const anchored = await withRetry(() => registry.isAnchored(agreementId), retry);
      if (!anchored) return { anchored, matchesTerms: false, txHash: null, blockNumber: null };
      const matchesTerms = await withRetry(() => registry.matchesTerms(agreementId, termsHash), retry);
      const events = await withRetry(
        () => registry.queryFilter(registry.filters.AgreementAnchored(agreementId), deployment.deployBlock),
        retry,
      );
      const e = events[0];
      return { anchored, matchesTerms, txHash: e?.transactionHash ?? null, blockNumber: e?.blockNumber ?? null };
    },
  };
}
