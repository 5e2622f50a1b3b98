/** A JSON-RPC error answered by the node, with the method that caused it. */
export class RpcError extends Error {
  constructor(
    readonly method: string,
    readonly rpcMessage: string,
  ) {
    super(`${method}: ${rpcMessage}`);
    this.name = "RpcError";
  }
}

/**
 * One request at a time over HTTP keep-alive. Replay depends on order, and the node answers a JSON-RPC batch
 * with concurrent handlers, so nothing here batches.
 */
export class Rpc {
  private nextId = 1;

  constructor(readonly url: string) {}

  async call<T>(method: string, params: unknown[] = []): Promise<T> {
    const res = await fetch(this.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: this.nextId++, method, params }),
    });
    const body = (await res.json()) as { result?: T; error?: { message: string } };
    if (body.error) throw new RpcError(method, body.error.message);
    return body.result as T;
  }
}
