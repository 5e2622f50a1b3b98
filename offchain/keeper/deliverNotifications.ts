import { createHmac } from "node:crypto";
import type { Logger } from "../shared/logger";
import type { Notification, Store } from "../store";

export const SIGNATURE_HEADER = "x-mb-signature";
export const TIMESTAMP_HEADER = "x-mb-timestamp";
export const EVENT_ID_HEADER = "x-mb-event-id";

/** The JSON body of one notice: amounts as decimal strings of cash base units (mbCNY: 6 decimals). */
export function noticeBody(n: Notification): Record<string, unknown> {
  return {
    id: n.id,
    account: n.account,
    kind: n.kind,
    deadline: n.deadline,
    amountToCure: n.amountToCure?.toString() ?? null,
    equity: n.equity?.toString() ?? null,
    maintenanceReq: n.maintenanceReq?.toString() ?? null,
    blockNumber: n.blockNumber,
    txHash: n.txHash,
    createdAt: n.createdAt,
  };
}

/** hex HMAC-SHA256(secret, timestamp "." body): what the receiver recomputes to trust a notice. */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
}

export interface DeliverySettings {
  webhookUrl?: string;
  webhookSecret: string;
  webhookBaseBackoffMs: number;
  webhookMaxBackoffMs: number;
}

/**
 * One pass of the outbox: POSTs every due notice to the webhook; a 2xx marks it delivered, anything else
 * (status, timeout, refused connection) schedules the next attempt after base · 2^attempts (capped). Safe to run
 * twice: a notice is marked only after its POST, so the worst case is a repeat the receiver dedupes by id.
 */
export async function deliverNotifications(
  store: Store,
  s: DeliverySettings,
  log: Logger,
  now: () => number = Date.now,
): Promise<{ delivered: number; failed: number }> {
  if (!s.webhookUrl) return { delivered: 0, failed: 0 };
  let delivered = 0;
  let failed = 0;
  for (const n of await store.keeper.dueNotifications(now())) {
    const body = JSON.stringify(noticeBody(n));
    const ts = String(now());
    try {
      const res = await fetch(s.webhookUrl, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          [TIMESTAMP_HEADER]: ts,
          [EVENT_ID_HEADER]: String(n.id),
          [SIGNATURE_HEADER]: webhookSignature(s.webhookSecret, ts, body),
        },
        body,
        signal: AbortSignal.timeout(5000),
      });
      if (res.status < 200 || res.status >= 300) throw new Error(`webhook answered ${res.status}`);
      await store.keeper.markDelivered(n.id, now());
      delivered++;
    } catch (err) {
      const delay = Math.min(s.webhookBaseBackoffMs * 2 ** n.attempts, s.webhookMaxBackoffMs);
      await store.keeper.markFailed(n.id, now() + delay, String((err as Error)?.message ?? err));
      log.warn("notice delivery failed", { id: n.id, attempts: n.attempts + 1, retryInMs: delay });
      failed++;
    }
  }
  return { delivered, failed };
}
