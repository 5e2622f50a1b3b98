import path from "node:path";
import type { StaticMount } from "../api";

/** The console's pages, scripts and styles: plain files, no build step. */
export const WEB_STATIC_DIR = path.join(__dirname, "static");
/** URL prefix of the console. */
export const CONSOLE_PATH = "/console";

/**
 * The pages load only their own scripts and ethers' browser build (served from node_modules, not copied), and the
 * auditor page talks JSON-RPC to a node of the user's choice — hence `connect-src` beyond 'self'.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self' http: https:",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** Static mounts of the web console for the API (the console and ethers' ES-module browser build). */
export function webConsoleMounts(): StaticMount[] {
  const ethersDist = path.join(path.dirname(require.resolve("ethers")), "..", "dist");
  return [
    { urlPath: `${CONSOLE_PATH}/vendor`, dir: ethersDist, contentSecurityPolicy: CONSOLE_CSP },
    { urlPath: CONSOLE_PATH, dir: WEB_STATIC_DIR, contentSecurityPolicy: CONSOLE_CSP },
  ];
}
