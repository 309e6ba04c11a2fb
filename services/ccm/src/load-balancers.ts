// Load balancer IPs in metal-api (anchors §4, and beyond: `-static` pools, the newer metallb.io
// annotation, no leaked IPs when a Service changes its IP, no races on shared IPs).
//
// Locking: every operation holds its Service's lock for its whole run and an IP's lock around each
// read-modify-write of that IP's tags. Service locks are always taken before IP locks, never the other
// way round, so there is no deadlock; two Services sharing one IP never lose each other's tag.

import { isIP } from "node:net";
import type { Logger } from "@metal-kube/logging";
import type { IpResponse, MetalApiClient } from "@metal-kube/metal-api";
import { isNotFound } from "@metal-kube/metal-api";
import { isReservedTag, serviceOfTag, serviceTag } from "@metal-kube/metal-stack";
import {
  IpType,
  type LoadBalancerIp,
  type LoadBalancerService,
  type LoadBalancerStatus,
} from "@metal-kube/proto/metalstack/ccm/v1/ccm";
import { ServiceError } from "@metal-kube/service-kit";
import { type CcmEventSink, publishEvent } from "./events.js";
import { createKeyedLock } from "./keyed-lock.js";
import { addressKey } from "./lb-config.js";

export type IpsApi = Pick<MetalApiClient["ip"], "allocate" | "get" | "find" | "update" | "free">;

/** Address-pool annotations, newest first (MetalLB renamed its API group). */
export const POOL_ANNOTATIONS = ["metallb.io/address-pool", "metallb.universe.tf/address-pool"] as const;

export interface LoadBalancersOptions {
  ips: IpsApi;
  projectId: string;
  clusterId: string;
  defaultExternalNetworkId: string;
  events: CcmEventSink;
  logger: Logger;
  timeoutMs?: number;
}

export interface EnsureResult {
  status: LoadBalancerStatus;
  ip: LoadBalancerIp;
  allocated: boolean;
  released: string[];
}

export interface LoadBalancers {
  get(svc: LoadBalancerService | undefined, signal?: AbortSignal): Promise<LoadBalancerIp[]>;
  ensure(svc: LoadBalancerService | undefined, signal?: AbortSignal): Promise<EnsureResult>;
  update(svc: LoadBalancerService | undefined, signal?: AbortSignal): Promise<LoadBalancerStatus>;
  release(
    svc: Pick<LoadBalancerService, "namespace" | "name"> | undefined,
    signal?: AbortSignal,
  ): Promise<{ untagged: string[]; freed: string[] }>;
  list(signal?: AbortSignal): Promise<LoadBalancerIp[]>;
  /** Operations waiting for or holding a lock (diagnostics, tests). */
  readonly pendingLocks: number;
}

/** The network an annotation names: pool `<network>-<ephemeral|static>` or a bare network id. */
export function networkOfPool(pool: string): string {
  return pool.replace(/-(ephemeral|static)$/, "");
}

const ipType = (t: string) => (t === "static" ? IpType.IP_TYPE_STATIC : IpType.IP_TYPE_EPHEMERAL);

function checkService(svc: Pick<LoadBalancerService, "namespace" | "name"> | undefined) {
  if (!svc) throw ServiceError.invalidArgument("service", "is required");
  if (svc.namespace === "") throw ServiceError.invalidArgument("service.namespace", "is required");
  if (svc.name === "") throw ServiceError.invalidArgument("service.name", "is required");
  return svc;
}

export function createLoadBalancers(o: LoadBalancersOptions): LoadBalancers {
  const serviceLocks = createKeyedLock();
  const ipLocks = createKeyedLock();
  const call = (signal?: AbortSignal) => ({ signal, timeoutMs: o.timeoutMs });
  const tagOf = (s: Pick<LoadBalancerService, "namespace" | "name">) =>
    serviceTag(o.clusterId, s.namespace, s.name);

  const view = (ip: IpResponse): LoadBalancerIp => ({
    address: ip.ipaddress,
    networkId: ip.networkid,
    type: ipType(ip.type),
    services: (ip.tags ?? [])
      .map((t) => serviceOfTag(o.clusterId, t))
      .filter((s): s is string => s !== undefined)
      .sort(),
  });

  const held = (tag: string, signal?: AbortSignal) =>
    o.ips.find({ projectid: o.projectId, tags: [tag] }, call(signal));

  /** Removes `tag` from the IP; frees it when ephemeral and nothing else holds it. */
  function releaseTag(address: string, tag: string, service: string, signal?: AbortSignal) {
    return ipLocks.run(address, async () => {
      let ip: IpResponse;
      try {
        ip = await o.ips.get(address, call(signal));
      } catch (err) {
        if (isNotFound(err)) return "gone" as const;
        throw err;
      }
      const tags = (ip.tags ?? []).filter((t) => t !== tag);
      if (tags.length === (ip.tags ?? []).length) return "untouched" as const;
      const free = ip.type === "ephemeral" && tags.length === 0;
      if (free) {
        try {
          await o.ips.free(address, call(signal));
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      } else {
        await o.ips.update(
          { ipaddress: address, type: ip.type, name: ip.name, description: ip.description, tags },
          call(signal),
        );
      }
      o.logger.info({ ip: address, service, freed: free }, free ? "IP freed" : "IP untagged");
      void publishEvent(o.events, {
        entity: "ip",
        action: "released",
        subject: address,
        data: { ip: address, network: ip.networkid, type: ip.type, service, freed: free },
      }).catch((err: unknown) => o.logger.warn({ err }, "event not published"));
      return free ? ("freed" as const) : ("untagged" as const);
    });
  }

  async function releaseAll(ips: IpResponse[], tag: string, service: string, signal?: AbortSignal) {
    const untagged: string[] = [];
    const freed: string[] = [];
    for (const ip of ips) {
      const r = await releaseTag(ip.ipaddress, tag, service, signal);
      if (r === "freed") freed.push(ip.ipaddress);
      else if (r === "untagged") untagged.push(ip.ipaddress);
    }
    return { untagged, freed };
  }

  /** Tags the requested IP for the Service after checking it may serve one. */
  function claim(address: string, tag: string, service: string, signal?: AbortSignal) {
    return ipLocks.run(address, async () => {
      let ip: IpResponse;
      try {
        ip = await o.ips.get(address, call(signal));
      } catch (err) {
        if (isNotFound(err))
          throw ServiceError.failedPrecondition(
            `service.load_balancer_ip: ${address} is not allocated in metal-api; allocate it in project ${o.projectId} first`,
            err,
          );
        throw err;
      }
      if (ip.projectid !== o.projectId)
        throw ServiceError.failedPrecondition(
          `service.load_balancer_ip: ${address} belongs to another project, not ${o.projectId}`,
        );
      const reserved = (ip.tags ?? []).find(isReservedTag);
      if (reserved)
        throw ServiceError.failedPrecondition(
          `service.load_balancer_ip: ${address} is in use by a machine or as egress IP (tag ${reserved})`,
        );
      if ((ip.tags ?? []).includes(tag)) return ip;
      const updated = await o.ips.update(
        {
          ipaddress: address,
          type: ip.type,
          name: ip.name,
          description: ip.description,
          tags: [...(ip.tags ?? []), tag],
        },
        call(signal),
      );
      o.logger.info({ ip: address, service }, "IP tagged for service");
      return updated;
    });
  }

  function wantedNetwork(svc: LoadBalancerService): { network: string; field?: string } {
    for (const a of POOL_ANNOTATIONS) {
      const v = svc.annotations[a]?.trim();
      if (v === undefined) continue;
      const network = networkOfPool(v);
      if (network === "") throw ServiceError.invalidArgument(`service.annotations[${a}]`, "names no network");
      return { network, field: `service.annotations[${a}]` };
    }
    return { network: o.defaultExternalNetworkId };
  }

  async function allocate(svc: LoadBalancerService, tag: string, service: string, signal?: AbortSignal) {
    const { network, field } = wantedNetwork(svc);
    try {
      const ip = await o.ips.allocate(
        {
          networkid: network,
          projectid: o.projectId,
          type: "ephemeral",
          name: `ccm-${svc.namespace}-${svc.name}`.slice(0, 63),
          description: `${o.clusterId}/${service}${svc.uid ? ` (uid ${svc.uid})` : ""}`,
          tags: [tag],
        },
        call(signal),
      );
      o.logger.info({ ip: ip.ipaddress, network, service }, "IP allocated");
      void publishEvent(o.events, {
        entity: "ip",
        action: "allocated",
        subject: ip.ipaddress,
        data: { ip: ip.ipaddress, network, type: ip.type, service },
      }).catch((err: unknown) => o.logger.warn({ err }, "event not published"));
      return ip;
    } catch (err) {
      if (isNotFound(err))
        throw field
          ? ServiceError.invalidArgument(
              field,
              `network ${JSON.stringify(network)} does not exist in metal-api`,
              err,
            )
          : ServiceError.failedPrecondition(
              `default external network ${network} does not exist in metal-api`,
              err,
            );
      throw err;
    }
  }

  const statusOf = (addresses: string[]): LoadBalancerStatus => ({
    ingress: addresses.map((ip) => ({ ip })),
  });

  return {
    async get(svc, signal) {
      const s = checkService(svc);
      return (await held(tagOf(s), signal)).map(view);
    },

    ensure(svc, signal) {
      const s = checkService(svc) as LoadBalancerService;
      const service = `${s.namespace}/${s.name}`;
      const tag = tagOf(s);
      const requested = s.loadBalancerIp.trim();
      if (requested !== "" && isIP(requested) === 0)
        throw ServiceError.invalidArgument(
          "service.load_balancer_ip",
          `${JSON.stringify(requested)} is not an IP address`,
        );
      return serviceLocks.run(service, async () => {
        const current = await held(tag, signal);
        if (requested !== "") {
          const ip = await claim(requested, tag, service, signal);
          // A Service that moved to another IP lets go of the old ones (metal-ccm leaked them).
          const { untagged, freed } = await releaseAll(
            current.filter((c) => c.ipaddress !== requested),
            tag,
            service,
            signal,
          );
          return {
            status: statusOf([ip.ipaddress]),
            ip: view(ip),
            allocated: false,
            released: [...untagged, ...freed],
          };
        }
        const { network } = wantedNetwork(s);
        // Keep the oldest IP already in the wanted network; any other is surplus (pool changed, or a
        // requested IP was dropped from the spec).
        const ordered = [...current].sort((a, b) => (a.created ?? "").localeCompare(b.created ?? ""));
        const keep = ordered.find((c) => c.networkid === network);
        if (keep) {
          const { untagged, freed } = await releaseAll(
            current.filter((c) => c !== keep),
            tag,
            service,
            signal,
          );
          return {
            status: statusOf([keep.ipaddress]),
            ip: view(keep),
            allocated: false,
            released: [...untagged, ...freed],
          };
        }
        const ip = await allocate(s, tag, service, signal);
        try {
          const { untagged, freed } = await releaseAll(current, tag, service, signal);
          signal?.throwIfAborted();
          return {
            status: statusOf([ip.ipaddress]),
            ip: view(ip),
            allocated: true,
            released: [...untagged, ...freed],
          };
        } catch (err) {
          // Roll back: the caller sees a failure, so it must not be left holding a fresh IP.
          await releaseTag(ip.ipaddress, tag, service).catch((e: unknown) =>
            o.logger.error({ err: e, ip: ip.ipaddress, service }, "rollback of the allocated IP failed"),
          );
          throw err;
        }
      });
    },

    async update(svc, signal) {
      const s = checkService(svc);
      const ips = await held(tagOf(s), signal);
      if (ips.length === 0)
        throw ServiceError.notFound(
          `service ${s.namespace}/${s.name} holds no load balancer IP; ensure it first`,
        );
      return statusOf(ips.map((i) => i.ipaddress).sort());
    },

    release(svc, signal) {
      const s = checkService(svc);
      const service = `${s.namespace}/${s.name}`;
      const tag = tagOf(s);
      return serviceLocks.run(service, async () => releaseAll(await held(tag, signal), tag, service, signal));
    },

    async list(signal) {
      const all = await o.ips.find({ projectid: o.projectId }, call(signal));
      return all
        .map(view)
        .filter((v) => v.services.length > 0)
        .map((v) => [addressKey(v.address), v] as const)
        .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
        .map(([, v]) => v);
    },

    get pendingLocks() {
      return serviceLocks.size + ipLocks.size;
    },
  };
}
