import { createLogger, type Logger } from "@metal-kube/logging";
import { backoffDelay } from "./backoff.js";
import { isForbidden, isGone, KubeError } from "./kube-error.js";
import type { KubeMetrics } from "./metrics.js";
import { parseOptions } from "./parse-options.js";
import { apiVersionOf, type ResourceRef, resourceId } from "./resource.js";
import { createResourceClient, type ResourceClient } from "./resource-client.js";
import { sleep } from "./sleep.js";
import { createStore, type IndexFunc, type Store } from "./store.js";
import type { Transport, WatchEnd } from "./transport.js";
import { type KubeObject, type KubeStatus, objectKey, type WatchEvent } from "./types.js";

/** Objects per list page, so a relist of a large collection does not load the apiserver in one piece. */
export const DEFAULT_PAGE_SIZE = 500;
/** Server-side watch timeout, randomised in [t, 2t) so that informers do not reconnect in lockstep. */
export const DEFAULT_WATCH_TIMEOUT_SECONDS = 300;
/** A watch silent for this long (no event, no bookmark) is presumed dead and re-opened. */
export const DEFAULT_WATCH_IDLE_TIMEOUT_MS = 90_000;
export const DEFAULT_RETRY_BASE_MS = 100;
export const DEFAULT_RETRY_MAX_MS = 5_000;
/** After this many consecutive failed watches the informer relists instead of trusting its resourceVersion. */
export const DEFAULT_RELIST_AFTER_FAILURES = 5;

export interface InformerHandler<T extends KubeObject> {
  add?(obj: T): void;
  update?(oldObj: T, newObj: T): void;
  /** `finalStateUnknown`: the deletion was inferred from a relist, `obj` is the last state seen. */
  delete?(obj: T, finalStateUnknown: boolean): void;
}

export interface InformerOptions<T extends KubeObject> {
  transport: Transport;
  resource: ResourceRef;
  /** Only this namespace (all namespaces when absent). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  indexers?: Record<string, IndexFunc<T>>;
  pageSize?: number;
  watchTimeoutSeconds?: number;
  watchIdleTimeoutMs?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  relistAfterFailures?: number;
  /** Keep metadata.managedFields in the cache (dropped by default: large, and never needed to reconcile). */
  keepManagedFields?: boolean;
  logger?: Logger;
  metrics?: KubeMetrics;
}

/**
 * List+watch cache of one resource. Unlike client-node's informer it resumes after every kind of failure:
 * a watch that ends or errors is re-opened from the last resourceVersion (so the apiserver replays what
 * happened meanwhile), 410 Gone triggers a relist that is diffed against the cache (so adds, updates and
 * deletes missed during an outage are still delivered), and errors are retried with capped backoff.
 * Cached objects are shared with every handler: treat them as read-only (copy before changing).
 */
export interface Informer<T extends KubeObject = KubeObject> {
  readonly resource: ResourceRef;
  readonly client: ResourceClient<T>;
  readonly store: Store<T>;
  /** Registers handlers; objects already cached are replayed as adds. Returns an unsubscribe function. */
  addHandler(handler: InformerHandler<T>): () => void;
  start(): void;
  stop(): Promise<void>;
  hasSynced(): boolean;
  /**
   * Resolves after the first complete list. Rejects at once when the apiserver refused the list with 401
   * or 403 (the informer keeps retrying in the background, so a late RBAC grant still heals it), and with
   * the last error after `timeoutMs`.
   */
  waitForSync(timeoutMs?: number): Promise<void>;
  /** resourceVersion the cache is at. */
  readonly resourceVersion: string | undefined;
  /** The last list/watch failure (cleared by the next successful list or watch). */
  readonly lastError: Error | undefined;
}

export function createInformer<T extends KubeObject = KubeObject>(options: InformerOptions<T>): Informer<T> {
  const o = parseOptions(
    {
      pageSize: DEFAULT_PAGE_SIZE,
      watchTimeoutSeconds: DEFAULT_WATCH_TIMEOUT_SECONDS,
      watchIdleTimeoutMs: DEFAULT_WATCH_IDLE_TIMEOUT_MS,
      retryBaseMs: DEFAULT_RETRY_BASE_MS,
      retryMaxMs: DEFAULT_RETRY_MAX_MS,
      relistAfterFailures: DEFAULT_RELIST_AFTER_FAILURES,
      keepManagedFields: false,
    },
    options,
    "InformerOptions",
  );
  const resource = o.resource;
  const rid = resourceId(resource);
  const log = (o.logger ?? createLogger({ name: "kube" })).child({ informer: rid, namespace: o.namespace });
  const client = createResourceClient<T>(o.transport, resource);
  const store = createStore<T>(o.indexers);
  const handlers = new Set<InformerHandler<T>>();
  const apiVersion = apiVersionOf(resource);
  let rv: string | undefined;
  let synced = false;
  let lastError: Error | undefined;
  let syncWaiters: { resolve: () => void; reject: (err: Error) => void }[] = [];
  let abort: AbortController | undefined;
  let loop: Promise<void> | undefined;

  const emit = (fn: (h: InformerHandler<T>) => void) => {
    for (const h of handlers) {
      try {
        fn(h);
      } catch (err) {
        log.error({ err }, "informer handler threw");
      }
    }
  };
  const onAdd = (obj: T) => emit((h) => h.add?.(obj));
  const onUpdate = (old: T, obj: T) => emit((h) => h.update?.(old, obj));
  const onDelete = (obj: T, unknown: boolean) => emit((h) => h.delete?.(obj, unknown));

  const normalize = (item: T): T => {
    const obj = (item.apiVersion && item.kind ? item : { apiVersion, kind: resource.kind, ...item }) as T;
    if (!o.keepManagedFields && obj.metadata?.managedFields) delete obj.metadata.managedFields;
    return obj;
  };

  /** Applies a fresh object to the cache and tells handlers what changed. */
  const apply = (obj: T) => {
    const old = store.upsert(obj);
    if (!old) onAdd(obj);
    else if (old.metadata.uid !== obj.metadata.uid) {
      // Deleted and re-created under the same name while we were not looking.
      onDelete(old, true);
      onAdd(obj);
    } else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) onUpdate(old, obj);
  };

  const common = () => ({
    namespace: o.namespace,
    labelSelector: o.labelSelector,
    fieldSelector: o.fieldSelector,
  });

  const settleWaiters = (err?: Error) => {
    const w = syncWaiters;
    syncWaiters = [];
    for (const x of w) err ? x.reject(err) : x.resolve();
  };

  async function relist(signal: AbortSignal): Promise<void> {
    o.metrics?.relists.inc({ resource: rid });
    const seen = new Map<string, T>();
    let cont: string | undefined;
    let listRv: string | undefined;
    do {
      let page: Awaited<ReturnType<typeof client.list>>;
      try {
        page = await client.list({ ...common(), limit: o.pageSize, continue: cont, signal });
      } catch (err) {
        // A continue token outlived compaction: start the list over.
        if (isGone(err) && cont) {
          seen.clear();
          cont = undefined;
          continue;
        }
        throw err;
      }
      for (const item of page.items) {
        const obj = normalize(item);
        seen.set(objectKey(obj), obj);
      }
      cont = page.metadata.continue || undefined;
      listRv = page.metadata.resourceVersion;
    } while (cont);
    if (signal.aborted) return;
    for (const obj of seen.values()) apply(obj);
    for (const key of store.keys()) {
      if (!seen.has(key)) onDelete(store.remove(key)!, true);
    }
    rv = listRv;
    lastError = undefined;
    if (!synced) {
      synced = true;
      settleWaiters();
    }
    log.debug({ resourceVersion: rv, objects: store.size }, "listed");
  }

  async function watchOnce(signal: AbortSignal): Promise<{ end: WatchEnd; events: number }> {
    let events = 0;
    const timeoutSeconds = Math.floor(o.watchTimeoutSeconds * (1 + Math.random())) || 1;
    const end = await client.watch(
      {
        ...common(),
        resourceVersion: rv,
        allowWatchBookmarks: true,
        timeoutSeconds,
        idleTimeoutMs: o.watchIdleTimeoutMs,
        signal,
      },
      (ev: WatchEvent<T>) => {
        events++;
        if (ev.type === "ERROR") {
          const st = ev.object as KubeStatus;
          throw new KubeError(
            { verb: "watch", group: resource.group, resource: resource.plural, namespace: o.namespace },
            st.code ?? 500,
            st,
            { user: o.transport.identity },
          );
        }
        lastError = undefined;
        const obj = ev.object as T;
        const newRv = obj.metadata?.resourceVersion;
        if (ev.type === "BOOKMARK") {
          if (newRv) rv = newRv;
          return;
        }
        if (ev.type === "DELETED") {
          const key = objectKey(obj);
          if (store.has(key)) {
            store.remove(key);
            onDelete(normalize(obj), false);
          }
        } else apply(normalize(obj));
        if (newRv) rv = newRv;
      },
    );
    return { end, events };
  }

  async function run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    let needList = true;
    while (!signal.aborted) {
      let started = Date.now();
      let events = 0;
      try {
        if (needList) {
          await relist(signal);
          needList = false;
          failures = 0;
          started = Date.now();
        }
        const w = await watchOnce(signal);
        events = w.events;
        if (w.end === "aborted" || signal.aborted) break;
        if (w.end === "idle") {
          // Quiet resource or dead connection: re-open at once; a dead apiserver shows up as an error.
          o.metrics?.watchRestarts.inc({ resource: rid, reason: "idle" });
          continue;
        }
        // A watch the server closes at once without a word is a failure in disguise: back off.
        if (events === 0 && Date.now() - started < 1000)
          throw new Error("the apiserver closed the watch at once");
        failures = 0;
        o.metrics?.watchRestarts.inc({ resource: rid, reason: "closed" });
      } catch (err) {
        if (signal.aborted) break;
        if (isGone(err)) {
          log.info({ resourceVersion: rv }, "resourceVersion expired (410 Gone); relisting");
          o.metrics?.watchRestarts.inc({ resource: rid, reason: "expired" });
          needList = true;
          continue;
        }
        // A watch that worked for a while before it broke starts the failure count afresh.
        if (events > 0 || Date.now() - started > 10_000) failures = 0;
        failures++;
        lastError = err instanceof Error ? err : new Error(String(err));
        if (!synced && err instanceof KubeError && (err.status === 401 || err.status === 403)) {
          settleWaiters(err);
        }
        if (failures >= o.relistAfterFailures) needList = true;
        o.metrics?.watchRestarts.inc({ resource: rid, reason: "error" });
        const delay = backoffDelay(failures, {
          baseMs: o.retryBaseMs,
          maxMs: o.retryMaxMs,
          factor: 2,
          jitter: 0.2,
        });
        const level = failures > 3 || isForbidden(err) ? "error" : "warn";
        log[level]({ err: lastError.message, failures, retryInMs: delay }, "list/watch failed; resuming");
        await sleep(delay, signal);
      }
    }
  }

  return {
    resource,
    client,
    store,
    addHandler(h) {
      handlers.add(h);
      if (h.add) for (const obj of store.list()) h.add(obj);
      return () => handlers.delete(h);
    },
    start() {
      if (abort) return;
      abort = new AbortController();
      loop = run(abort.signal);
    },
    async stop() {
      abort?.abort();
      await loop;
      abort = undefined;
      loop = undefined;
      settleWaiters(new Error(`informer ${rid}: stopped before it synced`));
    },
    hasSynced: () => synced,
    waitForSync(timeoutMs = 60_000) {
      if (synced) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => {
          syncWaiters = syncWaiters.filter((x) => x !== waiter);
          const why = lastError ? `: ${lastError.message}` : "";
          reject(new Error(`informer ${rid}: not synced after ${timeoutMs} ms${why}`, { cause: lastError }));
        }, timeoutMs);
        const waiter = {
          resolve: () => {
            clearTimeout(t);
            resolve();
          },
          reject: (err: Error) => {
            clearTimeout(t);
            reject(err);
          },
        };
        syncWaiters.push(waiter);
      });
    },
    get resourceVersion() {
      return rv;
    },
    get lastError() {
      return lastError;
    },
  };
}
