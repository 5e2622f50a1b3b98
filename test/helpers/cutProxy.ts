import http from "node:http";

/**
 * A JSON-RPC pass-through in front of a real `hardhat node` that fails the way an RPC outage does:
 * - "lose-sends": a send (eth_sendRawTransaction or eth_sendTransaction) reaches the node (the transaction is mined) but the connection is cut
 *   before the answer;
 * - "drop-sends": a send is cut before it reaches the node (nothing is mined), except the next `sendsToPass` sends,
 *   which go through (a process that got some of its transactions out before it died);
 * - down(): nothing listens (connection refused).
 * `afterSend` switches mode once a send has been cut, so the client's retries meet a dead endpoint.
 * - pause(filter?): requests (all, or those whose JSON-RPC body `filter` accepts) are held, unanswered, on an open
 *   connection (a stalled node); resume() forwards them in order.
 * Shared by the oracle reporter, settlement batcher and keeper outage tests, the KYC claim tests and the stalled
 * chain test.
 */
export class CutProxy {
  mode: "up" | "lose-sends" | "drop-sends" = "up";
  afterSend: "up" | "down" = "up";
  sendsCut = 0;
  sendsToPass = 0;
  private server: http.Server | undefined;
  private holding: ((body: string) => boolean) | undefined;
  private held: (() => void)[] = [];

  /** Holds matching requests (default: every request) until resume(). */
  pause(filter: (body: string) => boolean = () => true): void {
    this.holding = filter;
  }

  /** Requests held so far and not yet forwarded. */
  get heldCount(): number {
    return this.held.length;
  }

  /** Stops holding and forwards what was held, in arrival order. */
  resume(): void {
    this.holding = undefined;
    const held = this.held;
    this.held = [];
    for (const go of held) go();
  }

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
        const isSend = /eth_send(Raw)?Transaction/.test(body);
        const cut = (): void => {
          this.sendsCut++;
          req.socket.destroy();
          if (this.afterSend === "down") void this.down();
        };
        if (isSend && this.mode === "drop-sends") {
          if (this.sendsToPass > 0) this.sendsToPass--;
          else return cut();
        }
        const forward = (): void =>
          void fetch(this.upstream, { method: "POST", headers: { "content-type": "application/json" }, body })
            .then((r) => r.text())
            .then((text) => {
              if (isSend && this.mode === "lose-sends") return cut();
              res.setHeader("content-type", "application/json");
              res.end(text);
            })
            .catch(() => req.socket.destroy());
        if (this.holding?.(body)) this.held.push(forward);
        else forward();
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, "127.0.0.1", resolve));
    this.server = server;
  }

  async down(): Promise<void> {
    this.holding = undefined;
    this.held = [];
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}
