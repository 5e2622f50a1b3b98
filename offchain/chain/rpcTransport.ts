import http from "node:http";
import https from "node:https";
import {
  FetchRequest,
  JsonRpcProvider,
  makeError,
  type FetchGetUrlFunc,
  type JsonRpcApiProviderOptions,
  type JsonRpcPayload,
  type JsonRpcResult,
} from "ethers";
import { AppError } from "../shared/errors";
import { isTransient } from "./retry";

/**
 * One JSON-RPC request over node:http with a deadline on the whole exchange (not only on an idle socket): a node
 * that accepts the connection and never answers costs `req.timeout` ms, then the socket is destroyed and the call
 * fails with ethers' TIMEOUT (transient, so reads are retried within their deadline and writes re-checked).
 */
export const timedGetUrl: FetchGetUrlFunc = (req) =>
  new Promise((resolve, reject) => {
    const url = new URL(req.url);
    const transport = url.protocol === "https:" ? https : url.protocol === "http:" ? http : undefined;
    if (!transport) return reject(makeError(`unsupported protocol ${url.protocol}`, "UNSUPPORTED_OPERATION"));
    const request = transport.request(url, { method: req.method, headers: req.headers });
    const timer = setTimeout(
      () => request.destroy(makeError(`no answer from the JSON-RPC endpoint within ${req.timeout} ms`, "TIMEOUT")),
      req.timeout,
    );
    request.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    request.on("response", (resp) => {
      const chunks: Buffer[] = [];
      resp.on("data", (c: Buffer) => chunks.push(c));
      resp.on("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
      resp.on("end", () => {
        clearTimeout(timer);
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(resp.headers)) headers[k] = Array.isArray(v) ? v.join(", ") : (v ?? "");
        resolve({
          statusCode: resp.statusCode ?? 0,
          statusMessage: resp.statusMessage ?? "",
          headers,
          body: chunks.length ? new Uint8Array(Buffer.concat(chunks)) : null,
        });
      });
    });
    if (req.body) request.write(Buffer.from(req.body));
    request.end();
  });

/**
 * The service's JSON-RPC provider: every request has a deadline (`timeoutMs`), and a transport failure (no
 * answer, connection refused or reset) surfaces as CHAIN_UNAVAILABLE — a 503 wherever a request reads the chain —
 * with the original error as its cause (so `isTransient` still sees it and callers retry or re-check).
 */
export class ServiceProvider extends JsonRpcProvider {
  constructor(url: string, chainId: number, timeoutMs: number, options: JsonRpcApiProviderOptions) {
    const connection = new FetchRequest(url);
    connection.timeout = timeoutMs;
    connection.getUrlFunc = timedGetUrl;
    super(connection, chainId, options);
  }

  override async _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> {
    try {
      return await super._send(payload);
    } catch (err) {
      if (!isTransient(err)) throw err;
      throw new AppError("CHAIN_UNAVAILABLE", "the chain's JSON-RPC endpoint did not answer", {
        details: { reason: (err as { code?: unknown }).code ?? "transport" },
        cause: err,
      });
    }
  }
}
