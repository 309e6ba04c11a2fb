import { createLogger, type Logger } from "@metal-kube/logging";
import { type Backoff, type BackoffOptions, createBackoff } from "./backoff.js";
import type { KubeMetrics } from "./metrics.js";
import { parseOptions } from "./parse-options.js";

/** Reconciles running at once per queue. */
export const DEFAULT_CONCURRENCY = 10;
/** Every cached key is re-queued at this period (0 disables), so drift outside Kubernetes gets corrected. */
export const DEFAULT_RESYNC_PERIOD_MS = 10 * 60_000;
export const DEFAULT_QUEUE_BACKOFF_BASE_MS = 500;
export const DEFAULT_QUEUE_BACKOFF_MAX_MS = 5 * 60_000;

/** What a processed key asks for next: nothing, or another run after a delay (not counted as failure). */
export type QueueResult = undefined | { requeueAfterMs: number };

export interface WorkQueueOptions {
  /** Name used in metrics and logs. */
  name: string;
  /** Processes one key; a rejection counts as failure and re-queues the key with backoff. */
  process: (key: string, signal: AbortSignal) => Promise<QueueResult | undefined>;
  concurrency?: number;
  /** Per-key failure backoff, or options to make one. */
  backoff?: Backoff | BackoffOptions;
  resyncPeriodMs?: number;
  /** Keys to re-queue at every resync. */
  listKeys?: () => Iterable<string>;
  metrics?: KubeMetrics;
  logger?: Logger;
}

/**
 * Rate-limited work queue keyed by namespace/name. A key is processed by at most one worker at a time;
 * adding a key that is already waiting is a no-op, and adding one that is in flight marks it to run once
 * more afterwards, so bursts of events coalesce into one reconcile. Failures back off per key
 * (exponential, capped); a global limit bounds parallel work.
 */
export interface WorkQueue {
  add(key: string): void;
  addAfter(key: string, delayMs: number): void;
  /** Stops starting new work (in-flight work continues unless `abortInFlight`); keys keep accumulating. */
  pause(options?: { abortInFlight?: boolean }): void;
  resume(): void;
  start(): void;
  /** Stops timers, aborts in-flight work and waits for it to settle. */
  stop(): Promise<void>;
  /** Resolves once nothing is ready or in flight (delayed keys are not waited for). */
  drain(): Promise<void>;
  readonly depth: number;
  readonly inFlight: number;
  readonly delayed: number;
  readonly paused: boolean;
  readonly backoff: Backoff;
}

export function createWorkQueue(options: WorkQueueOptions): WorkQueue {
  const o = parseOptions(
    { concurrency: DEFAULT_CONCURRENCY, resyncPeriodMs: DEFAULT_RESYNC_PERIOD_MS },
    options,
    "WorkQueueOptions",
  );
  if (o.concurrency < 1)
    throw new TypeError(`WorkQueueOptions.concurrency: must be >= 1, got ${o.concurrency}`);
  const log = (o.logger ?? createLogger({ name: "kube" })).child({ queue: o.name });
  const backoff =
    o.backoff && "next" in o.backoff
      ? o.backoff
      : createBackoff({
          baseMs: DEFAULT_QUEUE_BACKOFF_BASE_MS,
          maxMs: DEFAULT_QUEUE_BACKOFF_MAX_MS,
          ...o.backoff,
        });
  const labels = { queue: o.name };
  const adds = o.metrics?.queueAdds.labels(labels);
  const retries = o.metrics?.queueRetries.labels(labels);
  const wait = o.metrics?.queueWait.labels(labels);

  let ready: string[] = [];
  let head = 0;
  const dirty = new Set<string>();
  const processing = new Map<string, AbortController>();
  const addedAt = new Map<string, number>();
  // Delayed keys: due time per key plus a binary min-heap with lazy deletion (entry valid while it matches).
  const due = new Map<string, number>();
  const heap: { at: number; key: string }[] = [];
  let timer: NodeJS.Timeout | undefined;
  let timerAt = Number.POSITIVE_INFINITY;
  let resyncTimer: NodeJS.Timeout | undefined;
  let pumpQueued = false;
  let started = false;
  let paused = false;
  let stopped = false;
  let idleWaiters: (() => void)[] = [];

  const depth = () => ready.length - head;
  o.metrics?.queueDepthSources.set(o.name, () => depth() + due.size);

  function push(key: string) {
    ready.push(key);
    if (wait) addedAt.set(key, performance.now());
    schedulePump();
  }

  function add(key: string) {
    adds?.inc();
    if (dirty.has(key) || stopped) return;
    dirty.add(key);
    if (!processing.has(key)) push(key);
  }

  function schedulePump() {
    if (pumpQueued) return;
    pumpQueued = true;
    queueMicrotask(pump);
  }

  function pump() {
    pumpQueued = false;
    while (started && !paused && !stopped && processing.size < o.concurrency && head < ready.length) {
      const key = ready[head++]!;
      dirty.delete(key);
      if (wait) {
        const t = addedAt.get(key);
        if (t !== undefined) wait.observe((performance.now() - t) / 1000);
        addedAt.delete(key);
      }
      run(key);
    }
    if (head > 1024 && head * 2 > ready.length) {
      ready = ready.slice(head);
      head = 0;
    }
    if (processing.size === 0 && depth() === 0 && idleWaiters.length) {
      const w = idleWaiters;
      idleWaiters = [];
      for (const f of w) f();
    }
  }

  function run(key: string) {
    const ac = new AbortController();
    processing.set(key, ac);
    let p: Promise<QueueResult | undefined>;
    try {
      p = o.process(key, ac.signal);
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then(
      (res) => {
        finish(key);
        backoff.forget(key);
        if (res && res.requeueAfterMs >= 0) addAfter(key, res.requeueAfterMs);
      },
      (err: unknown) => {
        finish(key);
        if (ac.signal.aborted) {
          // Cut short by pause/stop (e.g. lost leadership), not failed: run again when work resumes.
          add(key);
          return;
        }
        retries?.inc();
        const delay = backoff.next(key);
        log.debug({ key, err: (err as Error)?.message, retryInMs: delay }, "processing failed; backing off");
        addAfter(key, delay);
      },
    );
  }

  function finish(key: string) {
    processing.delete(key);
    if (dirty.has(key) && !stopped) push(key);
    else schedulePump();
  }

  function addAfter(key: string, delayMs: number) {
    if (stopped) return;
    if (delayMs <= 0) return add(key);
    const at = Date.now() + delayMs;
    const cur = due.get(key);
    if (cur !== undefined && cur <= at) return;
    due.set(key, at);
    heapPush({ at, key });
    arm();
  }

  function arm() {
    const top = heap[0];
    if (!top || stopped) return;
    if (timer && timerAt <= top.at) return;
    if (timer) clearTimeout(timer);
    timerAt = top.at;
    timer = setTimeout(fire, Math.max(0, top.at - Date.now()));
  }

  function fire() {
    timer = undefined;
    timerAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    while (heap.length && heap[0]!.at <= now) {
      const { at, key } = heapPop()!;
      if (due.get(key) === at) {
        due.delete(key);
        add(key);
      }
    }
    arm();
  }

  function heapPush(e: { at: number; key: string }) {
    heap.push(e);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.at <= e.at) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = e;
  }

  function heapPop(): { at: number; key: string } | undefined {
    const top = heap[0];
    const last = heap.pop();
    if (!top || !last || heap.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= heap.length) break;
      const r = l + 1;
      const c = r < heap.length && heap[r]!.at < heap[l]!.at ? r : l;
      if (heap[c]!.at >= last.at) break;
      heap[i] = heap[c]!;
      i = c;
    }
    heap[i] = last;
    return top;
  }

  const queue: WorkQueue = {
    add,
    addAfter,
    pause(opts = {}) {
      paused = true;
      if (opts.abortInFlight) for (const ac of processing.values()) ac.abort(new Error("queue paused"));
    },
    resume() {
      paused = false;
      schedulePump();
    },
    start() {
      started = true;
      stopped = false;
      if (o.resyncPeriodMs > 0 && o.listKeys && !resyncTimer) {
        resyncTimer = setInterval(() => {
          for (const k of o.listKeys!()) add(k);
        }, o.resyncPeriodMs);
      }
      schedulePump();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (resyncTimer) clearInterval(resyncTimer);
      timer = resyncTimer = undefined;
      o.metrics?.queueDepthSources.delete(o.name);
      for (const ac of processing.values()) ac.abort(new Error("queue stopped"));
      while (processing.size) await new Promise((r) => setTimeout(r, 10));
    },
    drain() {
      if (processing.size === 0 && depth() === 0) return Promise.resolve();
      return new Promise<void>((r) => idleWaiters.push(r));
    },
    get depth() {
      return depth();
    },
    get inFlight() {
      return processing.size;
    },
    get delayed() {
      return due.size;
    },
    get paused() {
      return paused;
    },
    backoff,
  };
  return queue;
}
