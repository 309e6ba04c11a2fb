// RFC 6902 JSON patches between two JSON documents, as admission webhooks answer mutations: the apiserver
// applies the patch to the object it sent, so the patch is computed from exactly those bytes.

export type PatchOperation =
  | { op: "add" | "replace"; path: string; value: unknown }
  | { op: "remove"; path: string };

const escapeKey = (key: string) => key.replaceAll("~", "~0").replaceAll("/", "~1");

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((v, i) => equal(v, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && equal(a[k], b[k]));
  }
  return false;
}

function diff(a: unknown, b: unknown, path: string, ops: PatchOperation[]): void {
  if (equal(a, b)) return;
  if (isObject(a) && isObject(b)) {
    for (const k of Object.keys(a))
      if (!Object.hasOwn(b, k)) ops.push({ op: "remove", path: `${path}/${escapeKey(k)}` });
    for (const [k, v] of Object.entries(b)) {
      const p = `${path}/${escapeKey(k)}`;
      if (!Object.hasOwn(a, k)) ops.push({ op: "add", path: p, value: v });
      else diff(a[k], v, p, ops);
    }
    return;
  }
  // Lists that keep their length are patched element by element (a changed container stays a small
  // patch); a list that grows or shrinks is replaced whole, which is always correct.
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    for (let i = 0; i < a.length; i++) diff(a[i], b[i], `${path}/${i}`, ops);
    return;
  }
  ops.push({ op: "replace", path, value: b });
}

/** The operations that turn `before` into `after` (empty when they are equal). */
export function createPatch(before: unknown, after: unknown): PatchOperation[] {
  const ops: PatchOperation[] = [];
  diff(before, after, "", ops);
  return ops;
}

/** Applies a patch made by createPatch (for tests and for checking a response before it is sent). */
export function applyPatch<T>(doc: T, ops: readonly PatchOperation[]): T {
  let root: unknown = structuredClone(doc);
  for (const op of ops) {
    if (op.path === "") {
      if (op.op === "remove") throw new Error("cannot remove the document root");
      root = structuredClone(op.value);
      continue;
    }
    const keys = op.path
      .slice(1)
      .split("/")
      .map((k) => k.replaceAll("~1", "/").replaceAll("~0", "~"));
    const last = keys.pop() as string;
    let parent: unknown = root;
    for (const k of keys) parent = (parent as Record<string, unknown>)[k];
    if (parent === null || typeof parent !== "object") throw new Error(`${op.path}: no such parent`);
    const target = parent as Record<string, unknown>;
    if (op.op === "remove") {
      if (Array.isArray(target)) target.splice(Number(last), 1);
      else delete target[last];
    } else if (Array.isArray(target) && op.op === "add") {
      if (last === "-") target.push(structuredClone(op.value));
      else target.splice(Number(last), 0, structuredClone(op.value));
    } else target[last] = structuredClone(op.value);
  }
  return root as T;
}
