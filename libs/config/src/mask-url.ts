/** What stands in for a hidden value; the same text the secret fields and pino's redaction use. */
export const MASK = "[REDACTED]";

// `scheme://userinfo@`: the run ends at the first `/` or blank and backtracks to its last `@`, so a password
// holding `@`, `?` or `#` (unencoded, as people paste them) is masked whole, and a comma-separated list of
// URLs is matched URL by URL (each scheme's `//` ends the run before it). A query holding `@` gets masked
// too: showing too little beats showing a password.
const URL_USERINFO = /([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/\s]*@/g;

/**
 * `text` with the credentials of every URL in it masked: `nats://user:pw@host` -> `nats://[REDACTED]@host`,
 * the style of the events library's maskUrl. The whole userinfo goes, since a lone one is often a token
 * (NATS token auth) and a user name helps whoever guesses passwords. Masking by value rather than by
 * schema covers every field that can hold a URL (unions such as NATS_URL's, lists, plain text) without a
 * flag the author of a new field could forget.
 */
export function maskUrlCredentials(text: string): string {
  return text.replace(URL_USERINFO, `$1${MASK}@`);
}

/** A config value as it may be shown: strings (alone or in lists) with URL credentials masked. */
export function maskConfigValue(value: unknown): unknown {
  if (typeof value === "string") return maskUrlCredentials(value);
  if (Array.isArray(value)) return value.map(maskConfigValue);
  return value;
}
