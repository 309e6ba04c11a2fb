import { KubeError } from "../../src/kube-error.js";
import { createMergePatch } from "../../src/patch.js";
import type { KubeRequest, Transport, WatchEnd, WatchRequest } from "../../src/transport.js";
import type { KubeObject, KubeStatus, WatchEvent } from "../../src/types.js";

/**
 * An in-memory stand-in for the apiserver behind the Transport interface, for unit tests only: objects
 * per resource path, a global resourceVersion, merge patches with optimistic concurrency, finalizers and
 * deletionTimestamp, watch history (with compaction -> 410) and fault injection. Integration tests use the
 * real kube-apiserver.
 */
export interface FakeApi {
  transport: Transport;
  /** Requests seen, as "METHOD path". */
  log: string[];
  get(base: string, key: string): KubeObject | undefined;
  list(base: string): KubeObject[];
  /** Creates or replaces an object directly (as another client would), emitting a watch event. */
  put(base: string, obj: KubeObject): KubeObject;
  remove(base: string, key: string): void;
  /** Makes the next matching requests fail with `status`. */
  failNext(match: (req: KubeRequest) => boolean, status: number, times?: number): void;
  /** Ends every open watch with a connection error. */
  breakWatches(): void;
  /** Drops watch history: watching from an older resourceVersion gets 410. */
  compact(): void;
  readonly openWatches: number;
  readonly rv: number;
}

interface Parsed {
  base: string;
  namespace?: string;
  name?: string;
  subresource?: string;
}

function parse(path: string): Parsed {
  const parts = path.split("/").filter(Boolean);
  const prefixLen = parts[0] === "api" ? 2 : 3;
  const prefix = parts.slice(0, prefixLen);
  let rest = parts.slice(prefixLen);
  let namespace: string | undefined;
  if (rest[0] === "namespaces" && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [plural, name, subresource] = rest;
  return { base: `/${[...prefix, plural].join("/")}`, namespace, name, subresource };
}

const keyOf = (ns: string | undefined, name: string) => (ns ? `${ns}/${name}` : name);

export function createFakeApi(): FakeApi {
  const stores = new Map<string, Map<string, KubeObject>>();
  const history: { rv: number; base: string; event: WatchEvent }[] = [];
  let compactedAt = 0;
  let rv = 1;
  let uid = 0;
  const log: string[] = [];
  const faults: { match: (r: KubeRequest) => boolean; status: number; times: number }[] = [];
  const watchers = new Set<{
    base: string;
    namespace?: string;
    send: (e: WatchEvent) => void;
    fail: (e: Error) => void;
  }>();

  const store = (base: string) => {
    let s = stores.get(base);
    if (!s) {
      s = new Map();
      stores.set(base, s);
    }
    return s;
  };

  const emit = (base: string, type: WatchEvent["type"], obj: KubeObject) => {
    const event = { type, object: structuredClone(obj) } as WatchEvent;
    history.push({ rv, base, event });
    for (const w of watchers) {
      if (w.base === base && (!w.namespace || w.namespace === obj.metadata.namespace)) w.send(event);
    }
  };

  const write = (base: string, obj: KubeObject, type: "ADDED" | "MODIFIED"): KubeObject => {
    rv++;
    const stored = structuredClone(obj);
    stored.metadata.resourceVersion = String(rv);
    stored.metadata.uid ??= `uid-${++uid}`;
    store(base).set(keyOf(stored.metadata.namespace, stored.metadata.name ?? ""), stored);
    emit(base, type, stored);
    return structuredClone(stored);
  };

  const del = (base: string, key: string) => {
    const s = store(base);
    const old = s.get(key);
    if (!old) return;
    s.delete(key);
    rv++;
    emit(base, "DELETED", { ...old, metadata: { ...old.metadata, resourceVersion: String(rv) } });
  };

  const status = (req: KubeRequest, code: number, message = `fake ${code}`): KubeError => {
    const body: KubeStatus = { kind: "Status", status: "Failure", code, message };
    return new KubeError(req.target, code, body);
  };

  function takeFault(req: KubeRequest): KubeError | undefined {
    const f = faults.find((x) => x.match(req));
    if (!f) return undefined;
    if (--f.times <= 0) faults.splice(faults.indexOf(f), 1);
    return status(req, f.status);
  }

  async function request<T>(req: KubeRequest): Promise<T> {
    log.push(`${req.method} ${req.path}`);
    await Promise.resolve();
    const fault = takeFault(req);
    if (fault) throw fault;
    const p = parse(req.path);
    const s = store(p.base);
    if (req.method === "GET" && !p.name) {
      const items = [...s.values()].filter((o) => !p.namespace || o.metadata.namespace === p.namespace);
      return { metadata: { resourceVersion: String(rv) }, items: structuredClone(items) } as T;
    }
    const key = keyOf(p.namespace, p.name ?? (req.body as KubeObject)?.metadata?.name ?? "");
    const cur = s.get(key);
    switch (req.method) {
      case "GET":
        if (!cur) throw status(req, 404);
        return structuredClone(cur) as T;
      case "POST": {
        if (cur)
          throw new KubeError(req.target, 409, { code: 409, reason: "AlreadyExists", message: "exists" });
        const obj = structuredClone(req.body as KubeObject);
        obj.metadata.generation = 1;
        obj.metadata.namespace ??= p.namespace;
        return write(p.base, obj, "ADDED") as T;
      }
      case "PUT":
      case "PATCH": {
        if (!cur) throw status(req, 404);
        let next: KubeObject;
        if (req.method === "PUT") next = structuredClone(req.body as KubeObject);
        else {
          if (req.contentType !== "application/merge-patch+json") throw status(req, 415);
          const patch = req.body as { metadata?: { resourceVersion?: string } };
          next = applyMerge(structuredClone(cur), patch) as KubeObject;
        }
        const wantRv = next.metadata.resourceVersion;
        if (wantRv && wantRv !== cur.metadata.resourceVersion)
          throw status(req, 409, "the object has been modified");
        if (p.subresource === "status") next = { ...cur, status: next.status };
        else {
          next.status = cur.status;
          const specChanged = createMergePatch(
            { ...cur, metadata: {}, status: undefined },
            { ...next, metadata: {}, status: undefined },
          );
          next.metadata.generation = (cur.metadata.generation ?? 1) + (specChanged ? 1 : 0);
        }
        next.metadata.uid = cur.metadata.uid;
        next.metadata.deletionTimestamp = cur.metadata.deletionTimestamp;
        if (next.metadata.deletionTimestamp && !next.metadata.finalizers?.length) {
          del(p.base, key);
          return next as T;
        }
        return write(p.base, next, "MODIFIED") as T;
      }
      case "DELETE": {
        if (!cur) throw status(req, 404);
        if (cur.metadata.finalizers?.length) {
          if (!cur.metadata.deletionTimestamp) {
            write(
              p.base,
              { ...cur, metadata: { ...cur.metadata, deletionTimestamp: new Date().toISOString() } },
              "MODIFIED",
            );
          }
        } else del(p.base, key);
        return { kind: "Status", status: "Success" } as T;
      }
    }
  }

  async function watch(req: WatchRequest, onEvent: (e: WatchEvent) => void): Promise<WatchEnd> {
    log.push(`WATCH ${req.path}`);
    await Promise.resolve();
    if (req.signal?.aborted) return "aborted";
    const fault = takeFault(req);
    if (fault) throw fault;
    const p = parse(req.path);
    const from = Number(req.query?.resourceVersion ?? rv);
    return new Promise<WatchEnd>((resolve, reject) => {
      const w = {
        base: p.base,
        namespace: p.namespace,
        send: (e: WatchEvent) => {
          try {
            onEvent(e);
          } catch (err) {
            watchers.delete(w);
            reject(err);
          }
        },
        fail: (e: Error) => {
          watchers.delete(w);
          reject(new KubeError(req.target, 0, undefined, { cause: e }));
        },
      };
      req.signal?.addEventListener("abort", () => {
        watchers.delete(w);
        resolve("aborted");
      });
      if (from < compactedAt) {
        w.send({
          type: "ERROR",
          object: {
            kind: "Status",
            code: 410,
            reason: "Expired",
            message: "too old resource version",
          } as never,
        });
        return;
      }
      watchers.add(w);
      for (const h of history) {
        if (
          h.rv > from &&
          h.base === p.base &&
          (!p.namespace || h.event.object.metadata?.namespace === p.namespace)
        ) {
          w.send(h.event);
        }
      }
    });
  }

  return {
    transport: { request, watch, identity: "fake-user", server: "https://fake", close() {} },
    log,
    get: (base, key) => store(base).get(key),
    list: (base) => [...store(base).values()],
    put(base, obj) {
      const cur = store(base).get(keyOf(obj.metadata.namespace, obj.metadata.name ?? ""));
      const next = structuredClone(obj);
      if (cur) next.metadata.uid ??= cur.metadata.uid;
      next.metadata.generation = (cur?.metadata.generation ?? 0) + 1;
      return write(base, next, cur ? "MODIFIED" : "ADDED");
    },
    remove: del,
    failNext(match, code, times = 1) {
      faults.push({ match, status: code, times });
    },
    breakWatches() {
      for (const w of [...watchers]) w.fail(new Error("connection reset by fake"));
    },
    compact() {
      compactedAt = rv;
      history.length = 0;
    },
    get openWatches() {
      return watchers.size;
    },
    get rv() {
      return rv;
    },
  };
}

function applyMerge(target: unknown, patch: unknown): unknown {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return patch;
  const out = (
    typeof target === "object" && target !== null && !Array.isArray(target) ? target : {}
  ) as Record<string, unknown>;
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMerge(out[k], v);
  }
  return out;
}
