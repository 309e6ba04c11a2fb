// Lenient readers of the Gardener objects the apiserver sends: the apiserver has validated them already,
// so a missing part reads as absent instead of failing the call.

export type JsonObject = Record<string, unknown>;

export const isObject = (v: unknown): v is JsonObject =>
  typeof v === "object" && v !== null && !Array.isArray(v);

export const obj = (v: unknown): JsonObject | undefined => (isObject(v) ? v : undefined);

export const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

export const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Walks a path of keys; undefined as soon as one is missing. */
export function at(root: unknown, ...keys: string[]): unknown {
  let v = root;
  for (const k of keys) {
    if (!isObject(v)) return undefined;
    v = v[k];
  }
  return v;
}

/** A deep copy of JSON data (structuredClone keeps what JSON.parse gave). */
export const cloneJson = <T>(v: T): T => structuredClone(v);
