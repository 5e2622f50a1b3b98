import type { Interface } from "ethers";
import { AppError } from "../shared/errors";

/** Finds the revert data (0x-prefixed selector + args) anywhere in an ethers/JSON-RPC error. */
export function revertData(err: unknown): string | undefined {
  const seen = new Set<unknown>();
  const visit = (e: unknown, depth: number): string | undefined => {
    if (!e || typeof e !== "object" || seen.has(e) || depth > 6) return undefined;
    seen.add(e);
    const o = e as Record<string, unknown>;
    if (typeof o.data === "string" && /^0x[0-9a-fA-F]{8}/.test(o.data)) return o.data;
    for (const k of ["error", "info", "cause", "data", "payload"]) {
      const found = visit(o[k], depth + 1);
      if (found) return found;
    }
    return undefined;
  };
  return visit(err, 0);
}

/**
 * Turns a reverted call into CHAIN_REVERTED with the custom error's name and arguments decoded against the
 * given interfaces (e.g. "KycInvalidTier(9)"). Anything that is not a revert is returned unchanged.
 */
export function decodeRevert(err: unknown, interfaces: Interface[]): unknown {
  if (err instanceof AppError) return err;
  const code = (err as { code?: unknown })?.code;
  const data = revertData(err);
  if (code !== "CALL_EXCEPTION" && data === undefined) return err;
  if (data) {
    for (const iface of interfaces) {
      try {
        const parsed = iface.parseError(data);
        if (!parsed) continue;
        const args = parsed.args.toArray().map((a) => (typeof a === "bigint" ? a.toString() : String(a)));
        return new AppError("CHAIN_REVERTED", `${parsed.name}(${args.join(", ")})`, {
          details: { error: parsed.name, args, selector: parsed.selector },
          cause: err,
        });
      } catch {
        // not this interface's error; try the next
      }
    }
  }
  const reason = (err as { reason?: unknown })?.reason;
  return new AppError("CHAIN_REVERTED", typeof reason === "string" ? reason : "transaction reverted", {
    details: { error: "unknown", data: data ?? null },
    cause: err,
  });
}
