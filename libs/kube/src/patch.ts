import { isConflict } from "./kube-error.js";
import { parseOptions } from "./parse-options.js";
import type { JsonPatchOp, ObjectRef, ResourceClient } from "./resource-client.js";
import type { KubeObject } from "./types.js";

/** Attempts of a read-modify-write before a persistent conflict is given up as an error. */
export const DEFAULT_CONFLICT_ATTEMPTS = 5;

type Json = unknown;

const isPlainObject = (v: unknown): v is Record<string, Json> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * RFC 7386 merge patch that turns `original` into `modified`: changed keys carry the new value, removed
 * keys `null`, arrays are replaced whole. Returns undefined when nothing differs.
 */
export function createMergePatch(original: Json, modified: Json): Record<string, Json> | undefined {
  if (!isPlainObject(original) || !isPlainObject(modified)) {
    throw new TypeError("createMergePatch: both sides must be JSON objects");
  }
  const out: Record<string, Json> = {};
  let changed = false;
  for (const k of Object.keys(original)) {
    if (original[k] === undefined) continue;
    if (!(k in modified) || modified[k] === undefined) {
      out[k] = null;
      changed = true;
    }
  }
  for (const [k, v] of Object.entries(modified)) {
    if (v === undefined) continue;
    const o = original[k];
    if (isPlainObject(o) && isPlainObject(v)) {
      const sub = createMergePatch(o, v);
      if (sub) {
        out[k] = sub;
        changed = true;
      }
    } else if (!jsonEqual(o, v)) {
      out[k] = v;
      changed = true;
    }
  }
  return changed ? out : undefined;
}

export function jsonEqual(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (Array.isArray(b)) return false;
  const ao = a as Record<string, Json>;
  const bo = b as Record<string, Json>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => jsonEqual(ao[k], bo[k]));
}

export interface MutateOptions<T extends KubeObject> {
  /** `status` writes through the status subresource. */
  subresource?: string;
  attempts?: number;
  /** A copy already at hand (e.g. from an informer cache); read from the apiserver when absent. */
  current?: T;
}

/**
 * Optimistic concurrency: applies `mutate` to a copy of the object and sends the difference as a merge
 * patch that carries the object's resourceVersion, so the apiserver refuses it (409) if someone else wrote
 * in between; on 409 the object is read fresh and `mutate` runs again. `mutate` edits the copy in place
 * (or returns a replacement); no difference means no request. Returns the object as last seen/written.
 */
export async function mutateWithRetry<T extends KubeObject>(
  client: ResourceClient<T>,
  ref: ObjectRef,
  // biome-ignore lint/suspicious/noConfusingVoidType: mutators usually edit in place and return nothing
  mutate: (obj: T) => T | undefined | void,
  options: MutateOptions<T> = {},
): Promise<T> {
  const o = parseOptions({ attempts: DEFAULT_CONFLICT_ATTEMPTS }, options, "MutateOptions");
  let current = o.current ?? (await client.get(ref));
  for (let attempt = 1; ; attempt++) {
    const copy = structuredClone(current);
    const modified = (mutate(copy) ?? copy) as T;
    const patch = createMergePatch(current, modified);
    if (!patch) return current;
    const meta = (patch.metadata ?? {}) as Record<string, Json>;
    patch.metadata = { ...meta, resourceVersion: current.metadata.resourceVersion };
    try {
      return await client.mergePatch(ref, patch, { subresource: o.subresource });
    } catch (err) {
      if (!isConflict(err) || attempt >= o.attempts) throw err;
      current = await client.get(ref);
    }
  }
}

/**
 * Optimistic concurrency for RFC 6902 JSON patches: `build` makes the operations from the current object
 * (undefined or [] = nothing to do); they are sent with a leading replace of metadata.resourceVersion, so
 * the apiserver refuses them (409) if the object changed since it was read; on 409 it is read fresh and
 * `build` runs again.
 */
export async function jsonPatchWithRetry<T extends KubeObject>(
  client: ResourceClient<T>,
  ref: ObjectRef,
  build: (obj: T) => JsonPatchOp[] | undefined,
  options: MutateOptions<T> = {},
): Promise<T> {
  const o = parseOptions({ attempts: DEFAULT_CONFLICT_ATTEMPTS }, options, "MutateOptions");
  let current = o.current ?? (await client.get(ref));
  for (let attempt = 1; ; attempt++) {
    const ops = build(structuredClone(current));
    if (!ops?.length) return current;
    const guarded: JsonPatchOp[] = [
      { op: "replace", path: "/metadata/resourceVersion", value: current.metadata.resourceVersion },
      ...ops,
    ];
    try {
      return await client.jsonPatch(ref, guarded, { subresource: o.subresource });
    } catch (err) {
      if (!isConflict(err) || attempt >= o.attempts) throw err;
      current = await client.get(ref);
    }
  }
}
