/**
 * Merges caller options over a factory's DEFAULT_* values. `undefined` keeps the default, and a value whose
 * default is a number must be a finite non-negative number, so a typo such as `"5s"` fails at construction
 * with the option's name instead of surfacing later as a NaN timer.
 */
export function parseOptions<D extends object, O extends object>(
  defaults: D,
  options: O | undefined,
  context = "options",
): Omit<O, keyof D> & D {
  const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [k, v] of Object.entries(options ?? {})) {
    if (v === undefined) continue;
    const d = (defaults as Record<string, unknown>)[k];
    if (typeof d === "number" && (typeof v !== "number" || !Number.isFinite(v) || v < 0)) {
      throw new TypeError(`${context}.${k}: must be a non-negative number, got ${JSON.stringify(v)}`);
    }
    if (typeof d === "boolean" && typeof v !== "boolean") {
      throw new TypeError(`${context}.${k}: must be a boolean, got ${JSON.stringify(v)}`);
    }
    if (typeof d === "string" && typeof v !== "string") {
      throw new TypeError(`${context}.${k}: must be a string, got ${JSON.stringify(v)}`);
    }
    out[k] = v;
  }
  return out as Omit<O, keyof D> & D;
}
