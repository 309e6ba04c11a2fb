import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { createLogger, type Logger } from "@metal-kube/logging";
import { createInformer, type Informer } from "./informer.js";
import { isAlreadyExists, isConflict, isNotFound } from "./kube-error.js";
import type { KubeMetrics } from "./metrics.js";
import { parseOptions } from "./parse-options.js";
import type { Permission } from "./permissions.js";
import type { ResourceRef } from "./resource.js";
import { createResourceClient } from "./resource-client.js";
import type { Transport } from "./transport.js";
import type { KubeObject } from "./types.js";

/** How long a lease is valid after its last renewal: a standby takes over this long after the leader dies. */
export const DEFAULT_LEASE_DURATION_MS = 15_000;
/** The leader stops leading when it could not renew for this long (must be < lease duration). */
export const DEFAULT_RENEW_DEADLINE_MS = 10_000;
/** Period of renewals and of acquisition attempts. */
export const DEFAULT_RETRY_PERIOD_MS = 2_000;

export const LEASES: ResourceRef = {
  group: "coordination.k8s.io",
  version: "v1",
  plural: "leases",
  kind: "Lease",
};

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface Lease extends KubeObject {
  spec?: LeaseSpec;
}

export interface LeaderElectorOptions {
  transport: Transport;
  namespace: string;
  /** Lease name, one per controller set (e.g. "metal-kube-extension"). */
  name: string;
  /** Unique per process; host name + pid + random by default. */
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /**
   * Watch the Lease (needs list/watch on leases) so a standby notices the last renewal at once and takes
   * over exactly one lease duration after it; without, renewals are seen up to one retry period late.
   */
  watchLease?: boolean;
  /** On stop, hand the lease back so a standby takes over at once instead of after it expires. */
  releaseOnStop?: boolean;
  logger?: Logger;
  metrics?: KubeMetrics;
}

/**
 * Leader election on a coordination.k8s.io/v1 Lease, with client-go's rules: a lease is taken over only
 * when its record has not changed for its full duration by this process' own clock (remote timestamps are
 * never trusted), writes use the resourceVersion so two candidates cannot both win, and a leader that
 * cannot renew within the renew deadline steps down before its lease can expire for anyone else.
 */
export interface LeaderElector {
  readonly identity: string;
  readonly isLeader: boolean;
  /** Calls `listener` with true on gaining and false on losing leadership. Returns an unsubscribe. */
  onChange(listener: (leading: boolean) => void): () => void;
  start(): void;
  /** Stops campaigning; a leader steps down (and releases the lease when `releaseOnStop`). */
  stop(): Promise<void>;
  /** Permissions the elector needs, for verifyPermissions. */
  readonly permissions: Permission[];
}

/** metav1.MicroTime: RFC 3339 with exactly six fractional digits (the apiserver rejects other widths). */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

function sameRecord(a: LeaseSpec | undefined, b: LeaseSpec | undefined): boolean {
  return (
    a?.holderIdentity === b?.holderIdentity &&
    a?.renewTime === b?.renewTime &&
    a?.acquireTime === b?.acquireTime &&
    a?.leaseTransitions === b?.leaseTransitions &&
    a?.leaseDurationSeconds === b?.leaseDurationSeconds
  );
}

export function createLeaderElector(options: LeaderElectorOptions): LeaderElector {
  const o = parseOptions(
    {
      identity: `${hostname()}_${process.pid}_${randomBytes(4).toString("hex")}`,
      leaseDurationMs: DEFAULT_LEASE_DURATION_MS,
      renewDeadlineMs: DEFAULT_RENEW_DEADLINE_MS,
      retryPeriodMs: DEFAULT_RETRY_PERIOD_MS,
      watchLease: true,
      releaseOnStop: true,
    },
    options,
    "LeaderElectorOptions",
  );
  if (!o.namespace) throw new TypeError("LeaderElectorOptions.namespace: must not be empty");
  if (!o.name) throw new TypeError("LeaderElectorOptions.name: must not be empty");
  if (o.leaseDurationMs < 1000) throw new TypeError("LeaderElectorOptions.leaseDurationMs: must be >= 1000");
  if (o.renewDeadlineMs >= o.leaseDurationMs) {
    throw new TypeError(
      `LeaderElectorOptions.renewDeadlineMs: must be less than leaseDurationMs (${o.renewDeadlineMs} >= ${o.leaseDurationMs})`,
    );
  }
  if (o.retryPeriodMs <= 0 || o.retryPeriodMs >= o.renewDeadlineMs) {
    throw new TypeError(
      `LeaderElectorOptions.retryPeriodMs: must be > 0 and less than renewDeadlineMs (${o.retryPeriodMs})`,
    );
  }
  const log = (o.logger ?? createLogger({ name: "kube" })).child({
    lease: `${o.namespace}/${o.name}`,
    identity: o.identity,
  });
  const client = createResourceClient<Lease>(o.transport, LEASES);
  const ref = { name: o.name, namespace: o.namespace };
  const leaseSeconds = Math.max(1, Math.round(o.leaseDurationMs / 1000));
  const listeners = new Set<(leading: boolean) => void>();
  let leading = false;
  let observed: LeaseSpec | undefined;
  /** Local monotonic time at which `observed` was first seen. */
  let observedAt = 0;
  let running = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  let stepDownTimer: NodeJS.Timeout | undefined;
  let informer: Informer<Lease> | undefined;
  let forceGet = false;
  const now = () => performance.now();

  const setLeading = (value: boolean) => {
    if (leading === value) return;
    leading = value;
    o.metrics?.isLeader.set({ lease: o.name }, value ? 1 : 0);
    log.info(value ? "became leader" : "stopped leading");
    for (const l of listeners) {
      try {
        l(value);
      } catch (err) {
        log.error({ err }, "leadership listener threw");
      }
    }
  };

  const observe = (spec: LeaseSpec | undefined) => {
    if (!sameRecord(spec, observed)) {
      observed = spec;
      observedAt = now();
    }
  };

  const expiresIn = () => {
    const d = (observed?.leaseDurationSeconds ?? leaseSeconds) * 1000;
    return observedAt + d - now();
  };

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(done, Math.max(0, ms));
      function done() {
        clearTimeout(t);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  /** One attempt to acquire or renew; true when this process holds the lease afterwards. */
  async function tryAcquireOrRenew(): Promise<boolean> {
    const t = Date.now();
    let lease: Lease;
    try {
      // The watched copy saves a round trip (a standby acquires one request sooner); after a conflict
      // it may be stale, so read afresh.
      const cached = !forceGet ? informer?.store.get(`${o.namespace}/${o.name}`) : undefined;
      forceGet = false;
      lease = cached ? structuredClone(cached) : await client.get(ref);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        const created = await client.create({
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { name: o.name, namespace: o.namespace },
          spec: {
            holderIdentity: o.identity,
            leaseDurationSeconds: leaseSeconds,
            acquireTime: microTime(t),
            renewTime: microTime(t),
            leaseTransitions: 0,
          },
        });
        observe(created.spec);
        return true;
      } catch (e) {
        if (isAlreadyExists(e) || isConflict(e)) return false;
        throw e;
      }
    }
    observe(lease.spec);
    const holder = lease.spec?.holderIdentity;
    const mine = holder === o.identity;
    if (holder && !mine && expiresIn() > 0) return false;
    const spec: LeaseSpec = {
      holderIdentity: o.identity,
      leaseDurationSeconds: leaseSeconds,
      acquireTime: mine && lease.spec?.acquireTime ? lease.spec.acquireTime : microTime(t),
      renewTime: microTime(t),
      leaseTransitions: (lease.spec?.leaseTransitions ?? 0) + (mine ? 0 : 1),
    };
    try {
      const updated = await client.replace({ ...lease, spec });
      observe(updated.spec);
      return true;
    } catch (err) {
      if (isConflict(err)) {
        forceGet = true;
        return false;
      }
      throw err;
    }
  }

  function armStepDown(renewedAt: number) {
    // Measured from before the renewal was sent, so the lease can only have been written later than that.
    if (stepDownTimer) clearTimeout(stepDownTimer);
    stepDownTimer = setTimeout(
      () => {
        stepDownTimer = undefined;
        if (leading) {
          log.warn(
            { renewDeadlineMs: o.renewDeadlineMs },
            "could not renew the lease in time; stepping down",
          );
          setLeading(false);
          wake?.();
        }
      },
      Math.max(0, renewedAt + o.renewDeadlineMs - now()),
    );
  }

  async function campaign(): Promise<void> {
    while (running) {
      const attemptAt = now();
      let ok = false;
      let failed = false;
      try {
        ok = await tryAcquireOrRenew();
      } catch (err) {
        failed = true;
        log.warn(
          { err: (err as Error).message },
          leading ? "lease renewal failed" : "lease acquisition failed",
        );
      }
      if (!running) break;
      if (ok) {
        armStepDown(attemptAt);
        setLeading(true);
        await pause(o.retryPeriodMs);
        continue;
      }
      if (leading && !failed && observed?.holderIdentity !== o.identity) {
        // Someone else holds it now: our lease must have expired in their eyes; stop at once.
        setLeading(false);
      }
      if (leading || failed) {
        // A leader keeps retrying until its step-down timer ends leadership; errors are never retried hot.
        await pause(o.retryPeriodMs);
      } else {
        // Standby: come back at the next retry, or exactly when the observed lease expires if sooner.
        const released = observed !== undefined && !observed.holderIdentity;
        await pause(released ? 0 : Math.min(o.retryPeriodMs, Math.max(0, expiresIn()) + 5));
      }
    }
  }

  return {
    identity: o.identity,
    get isLeader() {
      return leading;
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    permissions: [
      { verb: "get", group: LEASES.group, resource: "leases", namespace: o.namespace },
      { verb: "create", group: LEASES.group, resource: "leases", namespace: o.namespace },
      { verb: "update", group: LEASES.group, resource: "leases", namespace: o.namespace },
      ...(o.watchLease
        ? [
            { verb: "list", group: LEASES.group, resource: "leases", namespace: o.namespace },
            { verb: "watch", group: LEASES.group, resource: "leases", namespace: o.namespace },
          ]
        : []),
    ],
    start() {
      if (running) return;
      running = true;
      if (o.watchLease) {
        informer = createInformer<Lease>({
          transport: o.transport,
          resource: LEASES,
          namespace: o.namespace,
          fieldSelector: `metadata.name=${o.name}`,
          logger: log,
        });
        const seen = (l: Lease) => {
          const before = observed;
          observe(l.spec);
          // Released or newly expiring lease: re-plan the standby's wait at once.
          if (!leading && !sameRecord(before, observed)) wake?.();
        };
        informer.addHandler({ add: seen, update: (_, l) => seen(l) });
        informer.start();
      }
      loop = campaign();
    },
    async stop() {
      if (!running) return;
      running = false;
      wake?.();
      await loop;
      await informer?.stop();
      informer = undefined;
      if (stepDownTimer) clearTimeout(stepDownTimer);
      stepDownTimer = undefined;
      const wasLeading = leading;
      setLeading(false);
      if (wasLeading && o.releaseOnStop) {
        try {
          const lease = await client.get(ref);
          if (lease.spec?.holderIdentity === o.identity) {
            const t = microTime(Date.now());
            await client.replace({
              ...lease,
              spec: {
                ...lease.spec,
                holderIdentity: "",
                leaseDurationSeconds: 1,
                renewTime: t,
                acquireTime: t,
              },
            });
            log.info("released the lease");
          }
        } catch (err) {
          log.warn({ err: (err as Error).message }, "could not release the lease");
        }
      }
    },
  };
}
