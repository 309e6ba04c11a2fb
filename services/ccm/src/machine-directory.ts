// Machine lookups for nodes, cached briefly. One find over the project answers every node at once (500
// nodes initializing cost one metal-api call, not 500); a miss always looks afresh, so "machine gone" is
// never answered from a stale cache.

import type { MachineResponse, MetalApiClient } from "@metal-kube/metal-api";
import { isNotFound } from "@metal-kube/metal-api";
import { TAG_CLUSTER } from "@metal-kube/metal-stack";

export type MachinesApi = Pick<MetalApiClient["machine"], "find" | "get" | "update">;

export interface MachineDirectoryOptions {
  machines: MachinesApi;
  projectId: string;
  clusterId: string;
  /** How long a snapshot answers lookups (ms). */
  ttlMs: number;
  timeoutMs?: number;
  now?: () => number;
}

export interface MachineRef {
  machineId?: string;
  hostname?: string;
}

export interface MachineDirectory {
  /** The machine allocated to the project with that id or hostname; undefined when there is none. */
  lookup(
    ref: MachineRef,
    opts?: { fresh?: boolean; signal?: AbortSignal },
  ): Promise<MachineResponse | undefined>;
  /** Forget everything (tests, after writes). */
  invalidate(): void;
}

interface Snapshot {
  at: number;
  byId: Map<string, MachineResponse>;
  byHostname: Map<string, MachineResponse>;
}

export function createMachineDirectory(o: MachineDirectoryOptions): MachineDirectory {
  const now = o.now ?? (() => performance.now());
  let snap: Snapshot | undefined;
  let refreshing: { promise: Promise<Snapshot>; startedAt: number } | undefined;
  const clusterTag = `${TAG_CLUSTER}=${o.clusterId}`;

  const ours = (m: MachineResponse) => m.allocation?.project === o.projectId;

  function index(list: MachineResponse[]): Snapshot {
    const byId = new Map<string, MachineResponse>();
    const byHostname = new Map<string, MachineResponse>();
    for (const m of list) {
      if (!ours(m)) continue;
      byId.set(m.id, m);
      const h = m.allocation?.hostname;
      if (!h) continue;
      // Two machines of the project with one hostname (two clusters in a project): ours wins.
      const prev = byHostname.get(h);
      if (!prev || (!prev.tags.includes(clusterTag) && m.tags.includes(clusterTag))) byHostname.set(h, m);
    }
    return { at: now(), byId, byHostname };
  }

  function refresh(signal?: AbortSignal): Promise<Snapshot> {
    const startedAt = now();
    const promise = o.machines
      .find({ allocation_project: o.projectId }, { signal, timeoutMs: o.timeoutMs })
      .then((list) => {
        const s = index(list);
        s.at = startedAt;
        snap = s;
        return s;
      })
      .finally(() => {
        if (refreshing?.promise === promise) refreshing = undefined;
      });
    refreshing = { promise, startedAt };
    return promise;
  }

  /**
   * A snapshot whose find started no earlier than `since`: a miss never trusts an answer older than the
   * question. Concurrent misses share one find (at most two for a burst: the one running and the next).
   */
  async function snapshotSince(since: number, signal?: AbortSignal): Promise<Snapshot> {
    for (;;) {
      if (snap && snap.at >= since) return snap;
      if (!refreshing) return refresh(signal);
      if (refreshing.startedAt >= since) return refreshing.promise;
      await refreshing.promise.catch(() => undefined);
    }
  }

  const find = (s: Snapshot, ref: MachineRef) =>
    ref.machineId ? s.byId.get(ref.machineId) : ref.hostname ? s.byHostname.get(ref.hostname) : undefined;

  return {
    async lookup(ref, opts = {}) {
      const asked = now();
      if (!opts.fresh && snap && now() - snap.at < o.ttlMs) {
        const hit = find(snap, ref);
        if (hit) return hit;
      }
      if (ref.machineId) {
        // By id one GET is exact and cheap; it also finds machines the snapshot has not seen yet.
        try {
          const m = await o.machines.get(ref.machineId, { signal: opts.signal, timeoutMs: o.timeoutMs });
          if (ours(m)) snap?.byId.set(m.id, m);
          else snap?.byId.delete(m.id);
          return ours(m) ? m : undefined;
        } catch (err) {
          if (isNotFound(err)) {
            snap?.byId.delete(ref.machineId);
            return undefined;
          }
          throw err;
        }
      }
      const s = await snapshotSince(asked, opts.signal);
      return find(s, ref);
    },
    invalidate() {
      snap = undefined;
    },
  };
}
