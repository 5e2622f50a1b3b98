import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { equalHex } from "../shared/crypto";
import type { Logger } from "../shared/logger";
import type { Store } from "../store";
import { loadApiKey } from "./keys";
import { signature } from "./signing";
import { verifyTotp } from "./totp";

export const WS_PATH = "/v1/ws";

/** A subscription request: `{ "type": "subscribe", "channel": "depth", "instrument": "mbBANK" }`. */
export interface WsSubscribeRequest {
  channel: string;
  instrument?: string;
}

/**
 * Streams later capabilities offer on the WebSocket. `subscribe` returns an unsubscribe function, or a short
 * reason when the request is refused (unknown channel or instrument, channel not open to the caller's role).
 */
export interface WsStreams {
  channels: string[];
  subscribe(
    req: WsSubscribeRequest,
    caller: { keyId: string; role: string; subject: string },
    send: (msg: unknown) => void,
  ): (() => void) | string;
}

/**
 * The authenticated WebSocket endpoint. The upgrade request is signed like any GET, with the auth fields in
 * the query string (browsers cannot set headers on a WebSocket): the signed path is "/v1/ws" and the query
 * carries key, ts, nonce, sig (and totp). Streams are added by later capabilities; for now the server greets.
 */
export function attachWebSocket(
  server: Server,
  deps: { store: Store; secretKey: Buffer; timestampWindowMs: number; log: Logger; streams?: WsStreams },
): WebSocketServer {
  const wss = new WebSocketServer({ noServer: true });
  const refuse = (socket: Duplex, status: number, reason: string): void => {
    socket.write(
      `HTTP/1.1 ${status} ${status === 401 ? "Unauthorized" : "Not Found"}\r\nconnection: close\r\ncontent-type: text/plain\r\n\r\n${reason}`,
    );
    socket.destroy();
  };
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "http://localhost");
      if (url.pathname !== WS_PATH) return refuse(socket, 404, "not found");
      const q = (k: string): string => url.searchParams.get(k) ?? "";
      const [keyId, ts, nonce, sig] = [q("key"), q("ts"), q("nonce"), q("sig")];
      if (
        !/^mbk_[0-9a-f]{24}$/.test(keyId) ||
        !/^[0-9]{1,16}$/.test(ts) ||
        !/^[A-Za-z0-9_-]{8,64}$/.test(nonce) ||
        !/^[0-9a-f]{64}$/.test(sig)
      ) {
        return refuse(socket, 401, "missing or malformed auth parameters");
      }
      const key = await loadApiKey(deps.store, deps.secretKey, keyId);
      if (!key || !equalHex(signature(key.secret, "GET", WS_PATH, "", ts, nonce), sig))
        return refuse(socket, 401, "bad signature");
      if (Math.abs(Date.now() - Number(ts)) > deps.timestampWindowMs) return refuse(socket, 401, "stale timestamp");
      if (key.totpSecret && !verifyTotp(key.totpSecret, q("totp"))) return refuse(socket, 401, "TOTP required");
      if (!(await deps.store.nonces.use(keyId, nonce, Number(ts) + deps.timestampWindowMs)))
        return refuse(socket, 401, "replayed nonce");
      wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
        ws.send(JSON.stringify({ type: "hello", keyId, role: key.role, streams: deps.streams?.channels ?? [] }));
        const streams = deps.streams;
        if (!streams) {
          ws.on("message", () => ws.send(JSON.stringify({ type: "error", message: "no streams are available yet" })));
          return;
        }
        const unsubscribe: Array<() => void> = [];
        const send = (msg: unknown): void => {
          if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
        };
        ws.on("message", (data: Buffer) => {
          let req: { type?: unknown; channel?: unknown; instrument?: unknown };
          try {
            req = JSON.parse(data.toString("utf8")) as typeof req;
          } catch {
            return send({ type: "error", message: "messages are JSON" });
          }
          if (req.type !== "subscribe" || typeof req.channel !== "string")
            return send({ type: "error", message: 'expected {"type":"subscribe","channel":…}' });
          const instrument = typeof req.instrument === "string" ? req.instrument : undefined;
          const out = streams.subscribe(
            { channel: req.channel, instrument },
            { keyId, role: key.role, subject: key.subject },
            send,
          );
          if (typeof out === "string") return send({ type: "error", message: out });
          unsubscribe.push(out);
          send({ type: "subscribed", channel: req.channel, instrument: instrument ?? null });
        });
        ws.on("close", () => {
          for (const u of unsubscribe) u();
        });
      });
    })().catch((err: unknown) => {
      deps.log.error("websocket upgrade failed", { err });
      socket.destroy();
    });
  });
  return wss;
}

/** Query string for a signed WebSocket upgrade. */
export function signedWsQuery(
  keyId: string,
  secret: string,
  opts: { timestamp?: number; nonce?: string; totp?: string } = {},
): string {
  const ts = String(opts.timestamp ?? Date.now());
  const nonce = opts.nonce ?? `ws${Math.random().toString(36).slice(2)}${Date.now()}`;
  const p = new URLSearchParams({ key: keyId, ts, nonce, sig: signature(secret, "GET", WS_PATH, "", ts, nonce) });
  if (opts.totp) p.set("totp", opts.totp);
  return p.toString();
}
