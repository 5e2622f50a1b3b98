/* global window, location */
// The injected EIP-1193 wallet (window.ethereum): Sign-In with Ethereum (EIP-4361) for a session, and orders signed
// as EIP-712 typed data (eth_signTypedData_v4) — the wallet that owns the margin account signs everything; the page
// keeps no secret. The one transaction the page sends is the client's acceptance of its agreement's binding.
import { Interface, Signature, getAddress, hexlify, toUtf8Bytes } from "./vendor/ethers.min.js";
import { apiGet, apiPostJson } from "./common.js";

/** The SettlementHub's EIP-712 Order type (offchain/settlement/orders.ts ORDER_TYPES). */
const ORDER_TYPE = [
  { name: "account", type: "address" },
  { name: "instrument", type: "address" },
  { name: "side", type: "uint8" },
  { name: "expiry", type: "uint64" },
  { name: "limitPrice", type: "uint256" },
  { name: "quantity", type: "uint256" },
  { name: "nonce", type: "uint256" },
];
/** AgreementBinding.accept (contracts/settlement/IAgreementBinding.sol): the client takes the proposed numbers. */
const BINDING = new Interface(["function accept(bytes32 agreementId, uint64 maxLeverage, uint64 maxPenalty)"]);
const DOMAIN_TYPE = [
  { name: "name", type: "string" },
  { name: "version", type: "string" },
  { name: "chainId", type: "uint256" },
  { name: "verifyingContract", type: "address" },
];

function provider() {
  return window.ethereum;
}

async function account() {
  const [address] = await provider().request({ method: "eth_requestAccounts" });
  if (!address) throw new Error("the wallet shared no account");
  return getAddress(address);
}

/** The EIP-4361 message of offchain/api/siwe.ts formatSiweMessage, for this page's host and the deployment's chain. */
function siweMessage({ address, chainId, nonce }) {
  return [
    `${location.host} wants you to sign in with your Ethereum account:`,
    address,
    "",
    "Sign in to the MarginBridge console.",
    "",
    `URI: ${location.origin}`,
    "Version: 1",
    `Chain ID: ${chainId}`,
    `Nonce: ${nonce}`,
    `Issued At: ${new Date().toISOString()}`,
  ].join("\n");
}

export const wallet = {
  available: () => Boolean(provider()),

  /** Signs in: a nonce from the service, the message signed with personal_sign, the session set as a cookie. */
  async signIn() {
    const address = await account();
    const { nonce, chainId } = await apiPostJson("/v1/auth/nonce", undefined, { signed: false });
    const message = siweMessage({ address, chainId, nonce });
    const signature = await provider().request({
      method: "personal_sign",
      params: [hexlify(toUtf8Bytes(message)), address],
    });
    const session = await apiPostJson("/v1/auth/siwe", { message, signature }, { signed: false });
    return session.address;
  },

  /**
   * Signs a SettlementHub order (fields as decimal strings) with eth_signTypedData_v4 and returns the EIP-2098 compact
   * signature the API takes.
   */
  async signOrder(order) {
    const config = await apiGet("/v1/config", { signed: false });
    const typed = {
      types: { EIP712Domain: DOMAIN_TYPE, Order: ORDER_TYPE },
      primaryType: "Order",
      domain: {
        name: "MarginBridge Settlement",
        version: "1",
        chainId: config.chainId,
        verifyingContract: config.contracts.SettlementHub,
      },
      message: order,
    };
    const signed = await provider().request({
      method: "eth_signTypedData_v4",
      params: [order.account, JSON.stringify(typed)],
    });
    const sig = Signature.from(signed);
    return { r: sig.r, vs: sig.yParityAndS };
  },

  /**
   * Countersigns an amendment: its typed data as the service gives it (domain, AgreementAmendment type, message),
   * signed with eth_signTypedData_v4 by the wallet's account; returns the 65-byte signature the API takes.
   */
  async signAmendment(typedData) {
    const address = await account();
    const typed = { ...typedData, types: { EIP712Domain: DOMAIN_TYPE, ...typedData.types } };
    const signed = await provider().request({
      method: "eth_signTypedData_v4",
      params: [address, JSON.stringify(typed)],
    });
    return Signature.from(signed).serialized;
  },

  /**
   * The client accepts its agreement's proposed binding from its own wallet: AgreementBinding.accept with exactly
   * the numbers the operator proposed (18-decimal strings), sent with eth_sendTransaction. Returns the transaction
   * hash; the binding shows as bound once it is mined.
   */
  async acceptBinding(from, binding) {
    const data = BINDING.encodeFunctionData("accept", [binding.agreementId, binding.maxLeverage, binding.maxPenalty]);
    return provider().request({ method: "eth_sendTransaction", params: [{ from, to: binding.contract, data }] });
  },
};
