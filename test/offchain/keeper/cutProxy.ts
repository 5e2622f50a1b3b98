import http from "node:http";

/**
 * A JSON-RPC pass-through in front of a real `hardhat node` that a test can cut: "down" stops listening
 * (connection refused, an RPC outage); "lose-sends" forwards eth_sendRawTransaction and drops the answer (the
 * transaction is mined, the client sees a network error); "drop-sends" drops eth_sendRawTransaction without
 * forwarding it (the client sees a network error and nothing reaches the chain).
 */
export class CutProxy {
  mode: "up" | "lose-sends" | "drop-sends" = "up";
  private server: http.Server | undefined;
  constructor(
    readonly port: number,
    private readonly upstream: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async up(mode: CutProxy["mode"] = "up"): Promise<void> {
    this.mode = mode;
    if (this.server) return;
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        const sends = /eth_sendRawTransaction/.test(body);
        if (sends && this.mode === "drop-sends") {
          req.socket.destroy();
          return;
        }
        void fetch(this.upstream, { method: "POST", headers: { "content-type": "application/json" }, body })
          .then((r) => r.text())
          .then((text) => {
            if (sends && this.mode === "lose-sends") {
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
