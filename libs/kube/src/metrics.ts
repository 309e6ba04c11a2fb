import { Counter, Gauge, register as globalRegistry, Histogram, type Registry } from "prom-client";
import { parseOptions } from "./parse-options.js";

export const DEFAULT_METRICS_PREFIX = "metal_kube_";
export const DEFAULT_DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export interface KubeMetricsOptions {
  /** Registry to register on (the global prom-client registry when absent). */
  registry?: Registry;
  prefix?: string;
}

/** Prometheus metrics of the kit; one instance per registry is shared by all queues/informers/reconcilers. */
export interface KubeMetrics {
  queueDepth: Gauge<"queue">;
  queueAdds: Counter<"queue">;
  queueRetries: Counter<"queue">;
  queueWait: Histogram<"queue">;
  reconcileDuration: Histogram<"kind" | "operation" | "result">;
  reconcileErrors: Counter<"kind" | "operation">;
  watchRestarts: Counter<"resource" | "reason">;
  relists: Counter<"resource">;
  isLeader: Gauge<"lease">;
  /** Work queues report their depth here; the gauge reads it at scrape time, so adds cost nothing extra. */
  queueDepthSources: Map<string, () => number>;
}

const cache = new WeakMap<Registry, Map<string, KubeMetrics>>();

export function createKubeMetrics(options: KubeMetricsOptions = {}): KubeMetrics {
  const o = parseOptions({ prefix: DEFAULT_METRICS_PREFIX }, options, "KubeMetricsOptions");
  const registry = o.registry ?? globalRegistry;
  let byPrefix = cache.get(registry);
  if (!byPrefix) {
    byPrefix = new Map();
    cache.set(registry, byPrefix);
  }
  const known = byPrefix.get(o.prefix);
  if (known) return known;
  const p = o.prefix;
  const registers = [registry];
  const queueDepthSources = new Map<string, () => number>();
  const m: KubeMetrics = {
    queueDepthSources,
    queueDepth: new Gauge({
      name: `${p}workqueue_depth`,
      help: "Keys waiting in the work queue (ready or delayed, not in flight)",
      labelNames: ["queue"],
      registers,
      collect() {
        for (const [queue, depth] of queueDepthSources) this.set({ queue }, depth());
      },
    }),
    queueAdds: new Counter({
      name: `${p}workqueue_adds_total`,
      help: "Keys added to the work queue (before coalescing)",
      labelNames: ["queue"],
      registers,
    }),
    queueRetries: new Counter({
      name: `${p}workqueue_retries_total`,
      help: "Keys re-added with backoff after a failed reconcile",
      labelNames: ["queue"],
      registers,
    }),
    queueWait: new Histogram({
      name: `${p}workqueue_wait_seconds`,
      help: "Time a key waited in the queue before its reconcile started",
      labelNames: ["queue"],
      buckets: DEFAULT_DURATION_BUCKETS,
      registers,
    }),
    reconcileDuration: new Histogram({
      name: `${p}reconcile_duration_seconds`,
      help: "Duration of reconciles by kind, operation and result",
      labelNames: ["kind", "operation", "result"],
      buckets: DEFAULT_DURATION_BUCKETS,
      registers,
    }),
    reconcileErrors: new Counter({
      name: `${p}reconcile_errors_total`,
      help: "Failed reconciles by kind and operation (requeue-after is not a failure)",
      labelNames: ["kind", "operation"],
      registers,
    }),
    watchRestarts: new Counter({
      name: `${p}informer_watch_restarts_total`,
      help: "Watches re-opened, by reason (expired = 410 Gone, error, closed)",
      labelNames: ["resource", "reason"],
      registers,
    }),
    relists: new Counter({
      name: `${p}informer_relists_total`,
      help: "Full lists made by informers (initial and after 410 Gone)",
      labelNames: ["resource"],
      registers,
    }),
    isLeader: new Gauge({
      name: `${p}leader_election_is_leader`,
      help: "1 while this process holds the lease",
      labelNames: ["lease"],
      registers,
    }),
  };
  byPrefix.set(o.prefix, m);
  return m;
}
