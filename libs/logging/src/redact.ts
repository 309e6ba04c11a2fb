/**
 * Field names that hold secrets anywhere in this project (user data, HMAC keys, tokens, passwords, keys).
 * Matching by name rather than by position means a new message with a `token` field is safe by default.
 */
export const SECRET_KEY_PATTERN =
  /(token|password|passwd|secret|hmac|user_?data|private_?key|api_?key|credential|authorization|^key$|metalapikey)/i;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY_PATTERN.test(key);
}

const MASK = "[REDACTED]";

/** Deep copy of `value` with every secret-named field masked; safe on cycles and large inputs. */
export function redactSecrets(
  value: unknown,
  extraKeys: ReadonlySet<string> = new Set(),
  depth = 0,
): unknown {
  if (depth > 16 || value === null || typeof value !== "object") return value;
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `<${value.length} bytes>`;
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, extraKeys, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] =
      (isSecretKey(k) || extraKeys.has(k)) && v !== "" && v !== undefined
        ? MASK
        : redactSecrets(v, extraKeys, depth + 1);
  }
  return out;
}
