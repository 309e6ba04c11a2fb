import { HMAC_AUTH_TYPES, type HmacAuthType } from "./hmac.js";
import { MetalApiConfigError } from "./metal-api-error.js";

export interface MetalApiClientOptions {
  /** metal-api base URL, e.g. `http://127.0.0.1:8080` or `https://api.example/metal`. */
  url: string;
  /** HMAC key (metal-api's view/edit/admin key). Exactly one of `hmac` and `token`. */
  hmac?: string;
  /** Which key `hmac` is; default Metal-Edit. */
  hmacAuthType?: HmacAuthType;
  /** Bearer token (JWT). Exactly one of `hmac` and `token`. */
  token?: string;
  /** Deadline of one call including its retries, in ms. */
  timeoutMs?: number;
  /** Extra attempts for reads and idempotent writes after a connection error or 5xx. */
  retries?: number;
  /** First back-off before a retry, in ms; doubles per attempt, fully jittered. */
  retryBaseDelayMs?: number;
  /** Upper bound of one back-off, in ms. */
  retryMaxDelayMs?: number;
  /** Kept-alive connections to metal-api. */
  connections?: number;
  /** How long an idle connection is kept, in ms. */
  keepAliveTimeoutMs?: number;
  userAgent?: string;
  /** PEM CA bundle trusted for an https `url` (a private CA); default the system's CAs. */
  caCert?: string;
  /** Clock for the HMAC date (tests). */
  now?: () => Date;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_RETRIES = 3;
export const DEFAULT_RETRY_BASE_DELAY_MS = 100;
export const DEFAULT_RETRY_MAX_DELAY_MS = 2_000;
export const DEFAULT_CONNECTIONS = 16;
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 30_000;
export const DEFAULT_HMAC_AUTH_TYPE: HmacAuthType = "Metal-Edit";
export const DEFAULT_USER_AGENT = "metal-kube-metal-api-client";

export type Auth = { kind: "hmac"; key: string; authType: HmacAuthType } | { kind: "token"; token: string };

export interface ParsedOptions {
  origin: string;
  basePath: string;
  auth: Auth;
  timeoutMs: number;
  retries: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  connections: number;
  keepAliveTimeoutMs: number;
  userAgent: string;
  caCert: string | undefined;
  now: () => Date;
}

function nonNegative(name: string, value: number | undefined, dflt: number, min = 0): number {
  const v = value ?? dflt;
  if (!Number.isFinite(v) || v < min)
    throw new MetalApiConfigError(name, `must be a number >= ${min}, got ${v}`);
  return v;
}

function caCert(pem: string | undefined): string | undefined {
  if (pem === undefined || pem === "") return undefined;
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
    throw new MetalApiConfigError("caCert", "must be PEM (-----BEGIN CERTIFICATE-----)");
  }
  return pem;
}

/** Merges the DEFAULT_* constants into the options and validates them. */
export function parseOptions(opts: MetalApiClientOptions): ParsedOptions {
  let u: URL;
  try {
    u = new URL(opts.url);
  } catch {
    throw new MetalApiConfigError("url", `must be an http(s) URL, got ${JSON.stringify(opts.url)}`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new MetalApiConfigError("url", `must be an http(s) URL, got ${JSON.stringify(opts.url)}`);
  }
  const hasHmac = typeof opts.hmac === "string" && opts.hmac !== "";
  const hasToken = typeof opts.token === "string" && opts.token !== "";
  if (hasHmac === hasToken) {
    throw new MetalApiConfigError(
      "hmac/token",
      hasHmac
        ? "both an HMAC key and a bearer token are set; set exactly one"
        : "set exactly one of hmac or token",
    );
  }
  if (hasToken && opts.hmacAuthType !== undefined) {
    throw new MetalApiConfigError("hmacAuthType", "only applies to an HMAC key, but a bearer token is set");
  }
  const authType = opts.hmacAuthType ?? DEFAULT_HMAC_AUTH_TYPE;
  if (!HMAC_AUTH_TYPES.includes(authType)) {
    throw new MetalApiConfigError(
      "hmacAuthType",
      `must be one of ${HMAC_AUTH_TYPES.join(", ")}, got ${authType}`,
    );
  }
  return {
    origin: u.origin,
    basePath: u.pathname.replace(/\/+$/, ""),
    auth: hasHmac ? { kind: "hmac", key: opts.hmac!, authType } : { kind: "token", token: opts.token! },
    timeoutMs: nonNegative("timeoutMs", opts.timeoutMs, DEFAULT_TIMEOUT_MS, 1),
    retries: Math.floor(nonNegative("retries", opts.retries, DEFAULT_RETRIES)),
    retryBaseDelayMs: nonNegative("retryBaseDelayMs", opts.retryBaseDelayMs, DEFAULT_RETRY_BASE_DELAY_MS),
    retryMaxDelayMs: nonNegative("retryMaxDelayMs", opts.retryMaxDelayMs, DEFAULT_RETRY_MAX_DELAY_MS),
    connections: Math.floor(nonNegative("connections", opts.connections, DEFAULT_CONNECTIONS, 1)),
    keepAliveTimeoutMs: nonNegative(
      "keepAliveTimeoutMs",
      opts.keepAliveTimeoutMs,
      DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
      1,
    ),
    userAgent: opts.userAgent ?? DEFAULT_USER_AGENT,
    caCert: caCert(opts.caCert),
    now: opts.now ?? (() => new Date()),
  };
}
