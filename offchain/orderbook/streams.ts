import type { WsStreams } from "../api";
import type { OrderGateway } from "./gateway";

/**
 * The order book's WebSocket channels: `depth` (a depthSnapshot, then every depthUpdate with a larger seq) and
 * `trades` of one instrument, for any authenticated key; `orders`: the client key's own order events on every book.
 */
export function orderbookStreams(gateway: OrderGateway): WsStreams {
  return {
    channels: ["depth", "trades", "orders"],
    subscribe(req, caller, send) {
      if (req.channel === "orders") {
        if (caller.role !== "client") return "the orders channel is for client keys";
        const account = caller.subject.toLowerCase();
        const offs = gateway.instruments().map((s) => gateway.service(s.id).marketData.subscribeAccount(account, send));
        return () => offs.forEach((off) => off());
      }
      if (req.channel !== "depth" && req.channel !== "trades") return `unknown channel ${req.channel}`;
      if (req.instrument === undefined) return `the ${req.channel} channel needs an instrument`;
      let md;
      try {
        md = gateway.service(req.instrument).marketData;
      } catch {
        return `unknown instrument ${req.instrument}`;
      }
      const want = req.channel === "depth" ? "depthUpdate" : "trade";
      if (req.channel === "depth") send(md.snapshot());
      return md.subscribePublic((m) => {
        if (m.type === want) send(m);
      });
    },
  };
}
