import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { equalHex } from "../shared/crypto";
import type { Logger } from "../shared/logger";
import type { Store } from "../store";
import { keyRevocations, loadApiKey } from "./keys";
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
 * What one socket and one key may hold: market data must not turn one client's cheap request into everybody's
 * expensive fan-out, nor let a client that does not read make the server buffer for it.
 */
export interface WsLimits {
  /** Distinct subscriptions one socket may hold (a repeated subscription is the same one). */
  maxSubscriptionsPerSocket: number;
  /** Open sockets per API key on this instance. */
  maxSocketsPerKey: number;
  /** Largest frame a client may send (bytes); a larger one closes the socket (1009). */
  maxPayloadBytes: number;
  /** Bytes the server may have queued for one socket; a consumer that falls further behind is dropped (1013). */
  maxBufferedBytes: number;
  /** Client messages per second per socket (a token bucket of that size); a socket sending faster is closed. */
  maxMessagesPerSecond: number;
  /** How often open sockets' keys are re-read (revocations made by another instance). */
  keyRecheckMs: number;
}

export const DEFAULT_WS_LIMITS: WsLimits = {
  maxSubscriptionsPerSocket: 32,
  maxSocketsPerKey: 8,
  maxPayloadBytes: 4 * 1024,
  maxBufferedBytes: 1024 * 1024,
  maxMessagesPerSecond: 50,
  keyRecheckMs: 2_000,
};

/** Close codes: 1008 policy (key revoked, message flood), 1009 frame too big (ws itself), 1013 too slow. */
const CLOSE_POLICY = 1008;
const CLOSE_TOO_SLOW = 1013;

const STATUS_TEXT: Record<number, string> = { 401: "Unauthorized", 404: "Not Found", 429: "Too Many Requests" };

/**
 * The authenticated WebSocket endpoint. The upgrade request is signed like any GET, with the auth fields in
 * the query string (browsers cannot set headers on a WebSocket): the signed path is "/v1/ws" and the query
 * carries key, ts, nonce, sig (and totp). A key's sockets are closed as soon as it is revoked (by this process at
 * once, by another instance at the next periodic re-read of the key), and every subscription re-reads the key.
 */
export function attachWebSocket(
  server: Server,
  deps: {
    store: Store;
    secretKey: Buffer;
    timestampWindowMs: number;
    log: Logger;
    streams?: WsStreams;
    wsLimits?: Partial<WsLimits>;
  },
): WebSocketServer {
  const limits: WsLimits = { ...DEFAULT_WS_LIMITS, ...deps.wsLimits };
  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxPayloadBytes });
  const byKey = new Map<string, Set<WebSocket>>();
  const closeKey = (keyId: string, reason: string): void => {
    for (const ws of byKey.get(keyId) ?? []) ws.close(CLOSE_POLICY, reason);
  };
  const onRevoked = (keyId: string): void => closeKey(keyId, "API key revoked");
  keyRevocations.on("revoked", onRevoked);
  const recheck = setInterval(() => {
    for (const keyId of [...byKey.keys()]) {
      void loadApiKey(deps.store, deps.secretKey, keyId).then(
        (key) => key || closeKey(keyId, "API key revoked"),
        () => undefined,
      );
    }
  }, limits.keyRecheckMs);
  recheck.unref();
  wss.on("close", () => {
    clearInterval(recheck);
    keyRevocations.off("revoked", onRevoked);
  });

  const refuse = (socket: Duplex, status: number, reason: string): void => {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Bad Request"}\r\nconnection: close\r\ncontent-type: text/plain\r\n\r\n${reason}`,
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
      if ((byKey.get(keyId)?.size ?? 0) >= limits.maxSocketsPerKey)
        return refuse(socket, 429, `at most ${limits.maxSocketsPerKey} open sockets per API key`);
      if (!(await deps.store.nonces.use(keyId, nonce, Number(ts) + deps.timestampWindowMs)))
        return refuse(socket, 401, "replayed nonce");
      const open = byKey.get(keyId) ?? new Set<WebSocket>();
      // counted before the upgrade completes, so parallel upgrades of one key cannot pass the cap together
      if (open.size >= limits.maxSocketsPerKey)
        return refuse(socket, 429, `at most ${limits.maxSocketsPerKey} open sockets per API key`);
      const placeholder = {} as WebSocket;
      open.add(placeholder);
      byKey.set(keyId, open);
      socket.once("close", () => open.delete(placeholder));
      wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
        open.delete(placeholder);
        open.add(ws);
        ws.once("close", () => {
          open.delete(ws);
          if (open.size === 0 && byKey.get(keyId) === open) byKey.delete(keyId);
        });
        serveSocket(ws, { keyId, role: key.role, subject: key.subject }, deps, limits);
      });
    })().catch((err: unknown) => {
      deps.log.error("websocket upgrade failed", { err });
      socket.destroy();
    });
  });
  return wss;
}

/** One authenticated socket: subscriptions (de-duplicated, capped, each re-checking the key), paced input. */
function serveSocket(
  ws: WebSocket,
  caller: { keyId: string; role: string; subject: string },
  deps: { store: Store; secretKey: Buffer; log: Logger; streams?: WsStreams },
  limits: WsLimits,
): void {
  ws.send(
    JSON.stringify({ type: "hello", keyId: caller.keyId, role: caller.role, streams: deps.streams?.channels ?? [] }),
  );
  const subscriptions = new Map<string, () => void>();
  const unsubscribeAll = (): void => {
    for (const off of subscriptions.values()) off();
    subscriptions.clear();
  };
  let dropped = false;
  const send = (msg: unknown): void => {
    if (dropped || ws.readyState !== ws.OPEN) return;
    // a consumer that does not keep up is dropped, never buffered for: it re-subscribes and takes a fresh snapshot
    if (ws.bufferedAmount > limits.maxBufferedBytes) {
      dropped = true;
      deps.log.warn("dropping a slow WebSocket consumer", { keyId: caller.keyId, buffered: ws.bufferedAmount });
      unsubscribeAll();
      ws.close(CLOSE_TOO_SLOW, "too slow: messages were not read");
      // a peer that does not read will not read the close frame either
      setTimeout(() => ws.terminate(), 1_000).unref();
      return;
    }
    ws.send(JSON.stringify(msg));
  };
  let tokens = limits.maxMessagesPerSecond;
  let refilled = Date.now();
  let queue: Promise<void> = Promise.resolve();
  ws.on("message", (data: Buffer) => {
    const now = Date.now();
    tokens = Math.min(limits.maxMessagesPerSecond, tokens + ((now - refilled) / 1000) * limits.maxMessagesPerSecond);
    refilled = now;
    if (tokens < 1) {
      // a flood is not answered message by message: the socket goes
      ws.close(CLOSE_POLICY, `more than ${limits.maxMessagesPerSecond} messages per second`);
      return;
    }
    tokens -= 1;
    // handled one at a time, in order: a subscription waits for its key check
    queue = queue.then(() => handle(data)).catch((err: unknown) => deps.log.error("websocket message failed", { err }));
  });
  ws.on("close", unsubscribeAll);
  // a frame over maxPayload, a protocol error: ws closes the socket itself; this only keeps the error handled
  ws.on("error", (err) => deps.log.warn("websocket error", { keyId: caller.keyId, err: err.message }));

  const handle = async (data: Buffer): Promise<void> => {
    if (ws.readyState !== ws.OPEN) return;
    const streams = deps.streams;
    if (!streams) return send({ type: "error", message: "no streams are available yet" });
    let req: { type?: unknown; channel?: unknown; instrument?: unknown };
    try {
      req = JSON.parse(data.toString("utf8")) as typeof req;
    } catch {
      return send({ type: "error", message: "messages are JSON" });
    }
    if ((req.type !== "subscribe" && req.type !== "unsubscribe") || typeof req.channel !== "string")
      return send({ type: "error", message: 'expected {"type":"subscribe"|"unsubscribe","channel":…}' });
    const instrument = typeof req.instrument === "string" ? req.instrument : undefined;
    const id = `${req.channel}\u0000${instrument ?? ""}`;
    const answer = { channel: req.channel, instrument: instrument ?? null };
    if (req.type === "unsubscribe") {
      subscriptions.get(id)?.();
      subscriptions.delete(id);
      return send({ type: "unsubscribed", ...answer });
    }
    if (subscriptions.has(id)) return send({ type: "subscribed", ...answer, already: true });
    if (subscriptions.size >= limits.maxSubscriptionsPerSocket)
      return send({
        type: "error",
        message: `at most ${limits.maxSubscriptionsPerSocket} subscriptions per socket`,
        ...answer,
      });
    // the key may have been revoked since the upgrade (here or on another instance)
    if (!(await loadApiKey(deps.store, deps.secretKey, caller.keyId))) {
      ws.close(CLOSE_POLICY, "API key revoked");
      return;
    }
    if (ws.readyState !== ws.OPEN || subscriptions.has(id)) return;
    const out = streams.subscribe({ channel: req.channel, instrument }, caller, send);
    if (typeof out === "string") return send({ type: "error", message: out, ...answer });
    subscriptions.set(id, out);
    send({ type: "subscribed", ...answer });
  };
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
