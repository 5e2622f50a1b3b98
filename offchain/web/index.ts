import path from "node:path";
import type { StaticMount } from "../api";

/** The console's pages, scripts and styles: plain files, no build step. */
export const WEB_STATIC_DIR = path.join(__dirname, "static");
/** URL prefix of the console. */
export const CONSOLE_PATH = "/console";

/**
 * The console's Content-Security-Policy. The pages load only their own scripts and ethers' browser build (served
 * from node_modules, not copied); they talk to this API ('self') and, on the auditor page, to the JSON-RPC node
 * the service publishes in /v1/config — `connect-src` names exactly those two, nothing else.
 */
export function consoleCsp(rpcUrl?: string): string {
  const rpc = rpcUrl ? ` ${new URL(rpcUrl).origin}` : "";
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self'${rpc}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** The policy without a JSON-RPC node (the service has no chain). */
export const CONSOLE_CSP = consoleCsp();

/**
 * Static mounts of the web console for the API (the console and ethers' ES-module browser build), under the CSP
 * that allows `rpcUrl` (the JSON-RPC URL published to browsers) besides the API itself.
 */
export function webConsoleMounts(rpcUrl?: string): StaticMount[] {
  const ethersDist = path.join(path.dirname(require.resolve("ethers")), "..", "dist");
  const contentSecurityPolicy = consoleCsp(rpcUrl);
  return [
    { urlPath: `${CONSOLE_PATH}/vendor`, dir: ethersDist, contentSecurityPolicy },
    { urlPath: CONSOLE_PATH, dir: WEB_STATIC_DIR, contentSecurityPolicy },
  ];
}
