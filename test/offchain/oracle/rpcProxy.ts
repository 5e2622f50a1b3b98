import http from "node:http";

/**
 * A JSON-RPC pass-through in front of a real `hardhat node`, used to cut the connection the way an RPC outage
 * does: "down" stops listening (connection refused), "lose-sends" forwards eth_sendTransaction / eth_sendRawTransaction to the node
 * and then drops the connection before the answer (the transaction is mined; the client sees a network error).
 */
export class RpcProxy {
  mode: "up" | "lose-sends" = "up";
  private server: http.Server | undefined;
  constructor(
    readonly port: number,
    private readonly upstream: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async up(): Promise<void> {
    this.mode = "up";
    if (this.server) return;
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        void fetch(this.upstream, { method: "POST", headers: { "content-type": "application/json" }, body })
          .then((r) => r.text())
          .then((text) => {
            if (this.mode === "lose-sends" && /eth_send(Raw)?Transaction/.test(body)) {
              req.socket.destroy();
              return;
            }
            res.setHeader("content-type", "application/json");
            res.end(text);
          })
          .catch(() => req.socket.destroy());
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, "127.0.0.1", resolve));
    this.server = server;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}
