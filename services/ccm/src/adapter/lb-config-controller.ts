// Keeps the MetalLB (or Cilium) objects equal to what RenderLoadBalancerConfig renders for the
// cluster's IPs and nodes: creates and updates by server-side apply, deletes ours that are no longer
// wanted. Changes are debounced, so a burst of 200 Services costs a handful of syncs, not 200.

import { isNotFound, type KubeClient, type KubeObject, type Store } from "@metal-kube/kube";
import type { Logger } from "@metal-kube/logging";
import { LoadBalancerMode } from "@metal-kube/proto/metalstack/ccm/v1/ccm";
import type { CcmClient } from "./ccm-client.js";
import { FIELD_MANAGER, internalIpOf, type LbConfigResources, type NodeObject } from "./resources.js";

/** True when every field of `want` is in `have` with the same value (arrays compared whole). */
export function covers(have: unknown, want: unknown): boolean {
  if (want === null || typeof want !== "object") return have === want;
  if (Array.isArray(want)) {
    return Array.isArray(have) && have.length === want.length && want.every((w, i) => covers(have[i], w));
  }
  if (have === null || typeof have !== "object" || Array.isArray(have)) return false;
  const h = have as Record<string, unknown>;
  return Object.entries(want as Record<string, unknown>).every(([k, v]) => covers(h[k], v));
}

const MAX_RETRY_MS = 30_000;

export interface LbConfigControllerOptions {
  ccm: CcmClient;
  kube: KubeClient;
  nodes: Store<NodeObject>;
  /** The kinds the service renders in its mode. */
  resources: LbConfigResources;
  /** Namespace of the objects; "" when they are cluster-scoped. */
  namespace: string;
  /** Selects every object the service renders (DescribeCluster's config_label_selector). */
  labelSelector: string;
  debounceMs: number;
  logger: Logger;
}

export interface LbConfigController {
  /** Asks for a sync after the debounce time. */
  trigger(): void;
  /** Syncs now (waits for a running sync, then runs once more). */
  sync(signal?: AbortSignal): Promise<void>;
  /** Number of objects written or deleted by the last sync. */
  readonly lastChanges: number;
  readonly syncs: number;
  setActive(active: boolean): void;
  stop(): Promise<void>;
}

export function createLbConfigController(o: LbConfigControllerOptions): LbConfigController {
  const log = o.logger.child({ controller: "loadbalancer-config" });
  const namespace = o.namespace;
  const clients = Object.fromEntries(
    Object.entries(o.resources).map(([kind, ref]) => [kind, o.kube.resource(ref)]),
  );
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let active = false;
  let lastChanges = 0;
  let syncs = 0;
  let lastWarnings = "";
  let retryMs = 0;
  const abort = new AbortController();

  async function syncOnce(signal: AbortSignal) {
    const nodes = o.nodes.list().map((n) => ({
      name: n.metadata.name ?? "",
      labels: n.metadata.labels ?? {},
      internalIp: internalIpOf(n),
    }));
    const out = await o.ccm.renderLoadBalancerConfig(
      { mode: LoadBalancerMode.LOAD_BALANCER_MODE_UNSPECIFIED, nodes, ips: [], namespace },
      { signal },
    );
    const warnings = out.warnings.map((w) => `${w.node}: ${w.message}`).join("; ");
    if (warnings !== lastWarnings && warnings !== "")
      log.warn(
        { skipped: out.warnings.length, warnings: out.warnings.slice(0, 10) },
        "nodes left out of the load balancer config",
      );
    lastWarnings = warnings;
    let changes = 0;
    const failures: string[] = [];
    for (const [kind, client] of Object.entries(clients)) {
      const existing = await client.list({
        namespace: namespace || undefined,
        labelSelector: o.labelSelector,
        signal,
      });
      const have = new Map(existing.items.map((i) => [i.metadata.name ?? "", i]));
      const want = out.objects.filter((obj) => obj.kind === kind);
      for (const obj of want) {
        const desired = JSON.parse(obj.json) as KubeObject & { spec: unknown };
        const cur = have.get(obj.name) as (KubeObject & { spec?: unknown }) | undefined;
        have.delete(obj.name);
        // The apiserver may default spec fields: what we set is all that must match.
        if (cur && covers(cur.spec, desired.spec)) continue;
        signal.throwIfAborted();
        try {
          await client.patch({
            name: obj.name,
            namespace: obj.namespace || undefined,
            patch: desired,
            type: "apply",
            fieldManager: FIELD_MANAGER,
            force: true,
          });
          changes++;
        } catch (err) {
          // One refused object (e.g. a value its CRD rejects) must not hold back the others.
          failures.push(`${kind}/${obj.name}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      for (const name of have.keys()) {
        signal.throwIfAborted();
        try {
          await client.delete({ name, namespace: namespace || undefined });
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
        changes++;
      }
    }
    lastChanges = changes;
    syncs++;
    if (failures.length > 0) throw new Error(`objects not applied: ${failures.join("; ")}`);
    if (changes > 0) log.info({ changes, objects: out.objects.length }, "load balancer config updated");
  }

  async function sync(signal: AbortSignal = abort.signal): Promise<void> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await syncOnce(signal);
        } while (again && !signal.aborted);
      } finally {
        running = undefined;
      }
    })();
    return running;
  }

  let due = 0;
  /** Arms the timer for `delayMs` unless it already fires sooner (a change never waits for a retry). */
  const schedule = (delayMs: number) => {
    const at = performance.now() + delayMs;
    if (timer && due <= at) return;
    if (timer) clearTimeout(timer);
    due = at;
    timer = setTimeout(fire, delayMs);
  };
  const fire = () => {
    timer = undefined;
    if (!active) return;
    sync().then(
      () => {
        retryMs = 0;
      },
      (err: unknown) => {
        if (abort.signal.aborted) return;
        // Doubling up to 30 s: a missing CRD or RBAC gap must not turn into a log line per second.
        retryMs = Math.min(MAX_RETRY_MS, retryMs === 0 ? Math.max(o.debounceMs, 1000) : retryMs * 2);
        log.warn(
          { err: err instanceof Error ? err.message : String(err), retryInMs: retryMs },
          "load balancer config sync failed; retrying",
        );
        schedule(retryMs);
      },
    );
  };

  return {
    trigger() {
      if (active) schedule(o.debounceMs);
    },
    sync: (signal) => sync(signal),
    get lastChanges() {
      return lastChanges;
    },
    get syncs() {
      return syncs;
    },
    setActive(value) {
      active = value;
      if (!value && timer) {
        clearTimeout(timer);
        timer = undefined;
      }
      if (value) this.trigger();
    },
    async stop() {
      active = false;
      if (timer) clearTimeout(timer);
      abort.abort();
      await running?.catch(() => undefined);
    },
  };
}
