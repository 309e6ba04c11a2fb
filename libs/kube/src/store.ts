import { type KubeObject, objectKey } from "./types.js";

/** Computes the index values of an object (e.g. its labels' values, or an owner's name). */
export type IndexFunc<T> = (obj: T) => string[];

/** The built-in index every store keeps: objects by namespace. */
export const NAMESPACE_INDEX = "namespace";

/** Cache of the objects an informer has seen, keyed by namespace/name, with secondary indexes. */
export interface Store<T extends KubeObject = KubeObject> {
  get(key: string): T | undefined;
  has(key: string): boolean;
  list(): T[];
  keys(): string[];
  readonly size: number;
  /** Objects whose `index` function returned `value`. */
  byIndex(index: string, value: string): T[];
  /** Adds an index (built over the current contents at once). */
  addIndexer(name: string, fn: IndexFunc<T>): void;
  /** Inserts or replaces; returns the previous object. */
  upsert(obj: T): T | undefined;
  /** Removes by key; returns the removed object. */
  remove(key: string): T | undefined;
}

export function createStore<T extends KubeObject = KubeObject>(
  indexers: Record<string, IndexFunc<T>> = {},
): Store<T> {
  const items = new Map<string, T>();
  const fns = new Map<string, IndexFunc<T>>([[NAMESPACE_INDEX, (o) => [o.metadata.namespace ?? ""]]]);
  const indices = new Map<string, Map<string, Set<string>>>();
  for (const [n, f] of Object.entries(indexers)) fns.set(n, f);
  for (const n of fns.keys()) indices.set(n, new Map());

  const index = (key: string, obj: T, add: boolean) => {
    for (const [n, f] of fns) {
      const idx = indices.get(n)!;
      for (const v of f(obj)) {
        let set = idx.get(v);
        if (add) {
          if (!set) {
            set = new Set();
            idx.set(v, set);
          }
          set.add(key);
        } else if (set) {
          set.delete(key);
          if (set.size === 0) idx.delete(v);
        }
      }
    }
  };

  return {
    get: (k) => items.get(k),
    has: (k) => items.has(k),
    list: () => [...items.values()],
    keys: () => [...items.keys()],
    get size() {
      return items.size;
    },
    byIndex(name, value) {
      const idx = indices.get(name);
      if (!idx) throw new Error(`store: no index named "${name}" (known: ${[...fns.keys()].join(", ")})`);
      return [...(idx.get(value) ?? [])].map((k) => items.get(k)!);
    },
    addIndexer(name, fn) {
      if (fns.has(name)) return;
      fns.set(name, fn);
      const idx = new Map<string, Set<string>>();
      indices.set(name, idx);
      for (const [k, o] of items) {
        for (const v of fn(o)) {
          let set = idx.get(v);
          if (!set) {
            set = new Set();
            idx.set(v, set);
          }
          set.add(k);
        }
      }
    },
    upsert(obj) {
      const key = objectKey(obj);
      const old = items.get(key);
      if (old) index(key, old, false);
      items.set(key, obj);
      index(key, obj, true);
      return old;
    },
    remove(key) {
      const old = items.get(key);
      if (!old) return undefined;
      index(key, old, false);
      items.delete(key);
      return old;
    },
  };
}
