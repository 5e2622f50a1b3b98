export { createApi, listen, type Api, type ApiOptions, type RunningApi, type StaticMount } from "./app";
export {
  defineRoute,
  type CapabilityRoutes,
  type Route,
  type RouteSpec,
  type RouteContext,
  type Caller,
} from "./route";
export { ROLES, STAFF_ROLES, isRole, type Role } from "./roles";
export { coreRoutes, type CoreRouteDeps, type Readiness } from "./routes/core";
export { authRoutes, type AuthRouteDeps } from "./routes/auth";
export {
  SESSION_COOKIE,
  SESSION_ROLE,
  issueSignInNonce,
  loadSession,
  signIn,
  type OpenedSession,
  type SessionSettings,
} from "./sessions";
export { formatSiweMessage, parseSiweMessage, verifySiwe, type SiweMessage } from "./siwe";
export { createApiKey, ensureDemoKeys, loadApiKey, revokeApiKey, type NewApiKey, type CreateKeyInput } from "./keys";
export { signedHeaders, signature, signingString, HEADER, type SignedRequestInput } from "./signing";
export { ApiClient, type ApiCredentials, type ApiResponse } from "./client";
export { totpCode, verifyTotp, newTotpSecret } from "./totp";
export { createMetrics, serveMetrics, type ApiMetrics } from "./metrics";
export { HTTP_STATUS, httpStatusOf } from "./errors";
export {
  DEFAULT_WS_LIMITS,
  WS_PATH,
  signedWsQuery,
  type WsLimits,
  type WsStreams,
  type WsSubscribeRequest,
} from "./ws";
