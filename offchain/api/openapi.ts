import { OpenAPIRegistry, OpenApiGeneratorV3, extendZodWithOpenApi } from "@asteasolutions/zod-to-openapi";
import { z } from "zod";
import type { Route } from "./route";
import { HEADER } from "./signing";

extendZodWithOpenApi(z);

const ErrorSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.record(z.unknown()),
    requestId: z.string(),
  }),
});

/** Builds the OpenAPI 3 document from the very schemas that validate requests. */
export function buildOpenApi(routes: Route[], info: { title: string; version: string }): object {
  const registry = new OpenAPIRegistry();
  registry.registerComponent("securitySchemes", "mbKey", { type: "apiKey", in: "header", name: HEADER.key });
  registry.registerComponent("securitySchemes", "mbSignature", {
    type: "apiKey",
    in: "header",
    name: HEADER.signature,
    description:
      `hex HMAC-SHA256(secret, METHOD\\nPATH_WITH_QUERY\\nhex SHA-256(body)\\n${HEADER.timestamp}\\n${HEADER.nonce}); ` +
      `${HEADER.timestamp} is unix ms within the window, ${HEADER.nonce} is single-use; staff keys with TOTP add ${HEADER.totp}.`,
  });
  for (const r of routes) {
    const idem = z
      .string()
      .min(1)
      .max(128)
      .openapi({ description: "same key + same body → first result; other body → 409" });
    const headers = r.write
      ? z.object({ [HEADER.idempotencyKey]: idem })
      : r.idempotent
        ? z.object({ [HEADER.idempotencyKey]: idem.optional() })
        : undefined;
    const responses: Record<number, { description: string; content?: Record<string, { schema: z.ZodTypeAny }> }> = {
      [r.status ?? 200]: {
        description: "success",
        content: { [r.contentType ?? "application/json"]: { schema: r.response } },
      },
      400: { description: "invalid input (names the field)", content: { "application/json": { schema: ErrorSchema } } },
    };
    if (r.roles !== "public") {
      responses[401] = {
        description: "missing or invalid signature, stale timestamp, replayed nonce",
        content: { "application/json": { schema: ErrorSchema } },
      };
      responses[403] = {
        description: `role not allowed (allowed: ${(r.roles as readonly string[]).join(", ")})`,
        content: { "application/json": { schema: ErrorSchema } },
      };
      responses[429] = {
        description: "rate limit of the key exceeded",
        content: { "application/json": { schema: ErrorSchema } },
      };
    }
    if (r.write)
      responses[409] = {
        description: "Idempotency-Key reused with another body",
        content: { "application/json": { schema: ErrorSchema } },
      };
    registry.registerPath({
      method: r.method,
      path: r.path.replace(/:([A-Za-z0-9_]+)/g, "{$1}"),
      summary: r.summary,
      description: [
        r.description,
        r.roles === "public" ? "Public." : `Roles: ${(r.roles as readonly string[]).join(", ")}.`,
        r.write ? "Write: audited, needs an Idempotency-Key." : "",
      ]
        .filter(Boolean)
        .join(" "),
      tags: r.tags,
      // The allow-list as data, for clients and for the OpenAPI-driven fuzz test.
      "x-mb-roles": r.roles === "public" ? [] : [...r.roles],
      security: r.roles === "public" ? [] : [{ mbKey: [], mbSignature: [] }],
      request: {
        ...(r.params ? { params: r.params } : {}),
        ...(r.query ? { query: r.query } : {}),
        ...(headers ? { headers } : {}),
        ...(r.body ? { body: { content: { "application/json": { schema: r.body } } } } : {}),
      },
      responses,
    });
  }
  return new OpenApiGeneratorV3(registry.definitions).generateDocument({ openapi: "3.0.3", info });
}

/** A self-contained docs page (no CDN): docs.js renders /openapi.json as a readable list of operations. */
export const DOCS_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>MarginBridge API</title>
<style>body{font:14px/1.5 system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}
.op{border:1px solid #ddd;border-radius:6px;margin:1em 0;padding:.6em 1em}.m{font-weight:bold;text-transform:uppercase;margin-right:.6em}
.get{color:#0a6}.post{color:#06c}.put,.patch{color:#a60}.delete{color:#c00}pre{background:#f6f6f6;padding:.6em;overflow:auto}</style>
</head><body><h1>MarginBridge API</h1><p>Machine-readable document: <a href="/openapi.json">/openapi.json</a>.</p>
<div id="ops">loading…</div><script src="/docs.js"></script></body></html>`;

export const DOCS_JS = `fetch('/openapi.json').then(r=>r.json()).then(doc=>{
const el=document.getElementById('ops');el.textContent='';
const intro=document.createElement('p');intro.textContent=(doc.components&&doc.components.securitySchemes&&doc.components.securitySchemes.mbSignature.description)||'';el.appendChild(intro);
for(const [p,ops] of Object.entries(doc.paths)){for(const [m,op] of Object.entries(ops)){
const d=document.createElement('div');d.className='op';
const h=document.createElement('div');const ms=document.createElement('span');ms.className='m '+m;ms.textContent=m;h.appendChild(ms);
const ps=document.createElement('code');ps.textContent=p;h.appendChild(ps);d.appendChild(h);
const s=document.createElement('p');s.textContent=(op.summary||'')+' '+(op.description||'');d.appendChild(s);
const details={parameters:op.parameters,requestBody:op.requestBody,responses:op.responses};
const pre=document.createElement('pre');pre.textContent=JSON.stringify(details,null,2);d.appendChild(pre);el.appendChild(d);}}});`;
