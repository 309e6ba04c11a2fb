import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

// metal-stack's HMAC scheme: hex(HMAC-SHA256(key, date + METHOD + salt)). Path and body are not signed,
// so a signature only proves the key and freshness; metal-api relies on TLS for the rest.

export const HMAC_AUTH_TYPES = ["Metal-View", "Metal-Edit", "Metal-Admin"] as const;
export type HmacAuthType = (typeof HMAC_AUTH_TYPES)[number];

export const HMAC_DATE_HEADER = "x-date";
export const HMAC_SALT_HEADER = "x-data-salt";
export const HMAC_SALT_LENGTH = 24;

const LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** RFC 3339 in UTC with whole seconds, as Go's time.RFC3339 prints it (`2026-01-02T15:04:05Z`). */
export function formatHmacDate(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/** 24 random ASCII letters, like metal-stack's salt. */
export function randomSalt(length = HMAC_SALT_LENGTH): string {
  let out = "";
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      // 208 = 4 * 52: rejecting the rest keeps every letter equally likely.
      if (b < 208 && out.length < length) out += LETTERS[b % 52];
    }
  }
  return out;
}

/** The hex signature for one request. */
export function computeHmac(key: string, date: string, method: string, salt: string): string {
  return createHmac("sha256", key).update(date).update(method).update(salt).digest("hex");
}

export interface HmacHeaderOptions {
  key: string;
  authType: HmacAuthType;
  method: string;
  now?: Date;
  salt?: string;
}

/** Headers that authenticate one request. */
export function hmacHeaders(opts: HmacHeaderOptions): Record<string, string> {
  const date = formatHmacDate(opts.now ?? new Date());
  const salt = opts.salt ?? randomSalt();
  return {
    authorization: `${opts.authType} ${computeHmac(opts.key, date, opts.method, salt)}`,
    [HMAC_DATE_HEADER]: date,
    [HMAC_SALT_HEADER]: salt,
  };
}

export interface HmacKey {
  key: string;
  /** Oldest accepted X-Date, in ms; 0 disables the check. */
  lifetimeMs: number;
}

export type HmacVerification = { ok: true; authType: HmacAuthType } | { ok: false; reason: string };

// Go's time.Parse(time.RFC3339): fractional seconds optional, `Z` or a numeric offset.
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

/**
 * Server side: checks an Authorization/X-Date/X-Data-Salt triple against the configured keys, like
 * metal-stack/security. The server signs the *re-formatted* parsed date (UTC, whole seconds), not the
 * header text, so a client that sends fractional seconds or an offset fails just as it would there.
 */
export function verifyHmac(
  headers: { authorization?: string; date?: string; salt?: string },
  method: string,
  keys: Partial<Record<HmacAuthType, HmacKey>>,
  now: Date = new Date(),
): HmacVerification {
  const auth = headers.authorization ?? "";
  if (auth === "") return { ok: false, reason: "no auth found" };
  const parts = auth.split(" ");
  if (parts.length !== 2) return { ok: false, reason: "illegal auth found" };
  const type = parts[0]!.trim() as HmacAuthType;
  const key = HMAC_AUTH_TYPES.includes(type) ? keys[type] : undefined;
  if (!key) return { ok: false, reason: "unknown authtype found" };
  const date = headers.date ?? "";
  const ts = RFC3339.test(date) ? Date.parse(date) : Number.NaN;
  if (Number.isNaN(ts))
    return { ok: false, reason: `unknown timestamp "${date}" in "X-Date" header, use RFC3339` };
  if (key.lifetimeMs > 0 && now.getTime() - ts > key.lifetimeMs) {
    return {
      ok: false,
      reason: `the timestamp in your header is too old: "${date}", please check if you have time synchronization activated`,
    };
  }
  const signedDate = formatHmacDate(new Date(ts));
  const want = Buffer.from(computeHmac(key.key, signedDate, method, headers.salt ?? ""));
  const got = Buffer.from(parts[1]!.trim());
  if (got.length !== want.length || !timingSafeEqual(got, want))
    return { ok: false, reason: "Wrong HMAC found" };
  return { ok: true, authType: type };
}
