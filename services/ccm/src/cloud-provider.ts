// The CloudProvider domain: every operation of metalstack.ccm.v1.CloudProvider, with the request and
// response types of the proto. The gRPC service binds it; the adapter reaches it only over gRPC.

import type { Logger } from "@metal-kube/logging";
import type { MetalApiClient } from "@metal-kube/metal-api";
import { machineIdOf } from "@metal-kube/metal-stack";
import {
  type DescribeClusterResponse,
  type EnsureLoadBalancerDeletedRequest,
  type EnsureLoadBalancerDeletedResponse,
  type EnsureLoadBalancerRequest,
  type EnsureLoadBalancerResponse,
  type GetLoadBalancerRequest,
  type GetLoadBalancerResponse,
  type GetZoneRequest,
  type GetZoneResponse,
  type InstanceExistsRequest,
  type InstanceExistsResponse,
  type InstanceMetadataRequest,
  type InstanceMetadataResponse,
  type InstanceShutdownRequest,
  type InstanceShutdownResponse,
  type ListLoadBalancerIpsResponse,
  LoadBalancerMode,
  NodeEventType,
  type RecordNodeEventRequest,
  type RecordNodeEventResponse,
  type RenderLoadBalancerConfigRequest,
  type RenderLoadBalancerConfigResponse,
  type SyncMachinesRequest,
  type SyncMachinesResponse,
  type UpdateLoadBalancerRequest,
  type UpdateLoadBalancerResponse,
} from "@metal-kube/proto/metalstack/ccm/v1/ccm";
import { ServiceError } from "@metal-kube/service-kit";
import { type CcmEventSink, noEvents, publishEvent } from "./events.js";
import { createInstances } from "./instances.js";
import {
  defaultNamespaceOf,
  type LbMode,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  modeEnum,
  modeOf,
  renderConfig,
} from "./lb-config.js";
import { createLoadBalancers } from "./load-balancers.js";
import { createMachineDirectory } from "./machine-directory.js";
import { createMachineSync } from "./machine-sync.js";

export interface CloudProviderOptions {
  metal: Pick<MetalApiClient, "machine" | "ip">;
  projectId: string;
  partitionId: string;
  clusterId: string;
  defaultExternalNetworkId: string;
  additionalNetworks?: readonly string[];
  sshPublicKey?: string;
  loadBalancer?: LbMode;
  instanceCacheTtlMs?: number;
  metalApiTimeoutMs?: number;
  events?: CcmEventSink;
  logger: Logger;
}

export const DEFAULT_INSTANCE_CACHE_TTL_MS = 60_000;

export interface CloudProvider {
  instanceMetadata(req: InstanceMetadataRequest, signal?: AbortSignal): Promise<InstanceMetadataResponse>;
  instanceExists(req: InstanceExistsRequest, signal?: AbortSignal): Promise<InstanceExistsResponse>;
  instanceShutdown(req: InstanceShutdownRequest, signal?: AbortSignal): Promise<InstanceShutdownResponse>;
  getZone(req: GetZoneRequest, signal?: AbortSignal): Promise<GetZoneResponse>;
  getLoadBalancer(req: GetLoadBalancerRequest, signal?: AbortSignal): Promise<GetLoadBalancerResponse>;
  ensureLoadBalancer(
    req: EnsureLoadBalancerRequest,
    signal?: AbortSignal,
  ): Promise<EnsureLoadBalancerResponse>;
  updateLoadBalancer(
    req: UpdateLoadBalancerRequest,
    signal?: AbortSignal,
  ): Promise<UpdateLoadBalancerResponse>;
  ensureLoadBalancerDeleted(
    req: EnsureLoadBalancerDeletedRequest,
    signal?: AbortSignal,
  ): Promise<EnsureLoadBalancerDeletedResponse>;
  listLoadBalancerIps(signal?: AbortSignal): Promise<ListLoadBalancerIpsResponse>;
  renderLoadBalancerConfig(
    req: RenderLoadBalancerConfigRequest,
    signal?: AbortSignal,
  ): Promise<RenderLoadBalancerConfigResponse>;
  syncMachines(req: SyncMachinesRequest, signal?: AbortSignal): Promise<SyncMachinesResponse>;
  describeCluster(): DescribeClusterResponse;
  recordNodeEvent(req: RecordNodeEventRequest): Promise<RecordNodeEventResponse>;
}

const NODE_ACTIONS: Partial<Record<NodeEventType, "initialized" | "deleted">> = {
  [NodeEventType.NODE_EVENT_TYPE_INITIALIZED]: "initialized",
  [NodeEventType.NODE_EVENT_TYPE_DELETED]: "deleted",
};

export function createCloudProvider(o: CloudProviderOptions): CloudProvider {
  for (const [k, v] of Object.entries({
    projectId: o.projectId,
    partitionId: o.partitionId,
    clusterId: o.clusterId,
    defaultExternalNetworkId: o.defaultExternalNetworkId,
  }))
    if (!v) throw new TypeError(`CloudProviderOptions.${k}: must not be empty`);
  const mode = o.loadBalancer ?? "metallb";
  const events = o.events ?? noEvents;
  const directory = createMachineDirectory({
    machines: o.metal.machine,
    projectId: o.projectId,
    clusterId: o.clusterId,
    ttlMs: o.instanceCacheTtlMs ?? DEFAULT_INSTANCE_CACHE_TTL_MS,
    timeoutMs: o.metalApiTimeoutMs,
  });
  const instances = createInstances({
    directory,
    defaultExternalNetworkId: o.defaultExternalNetworkId,
    additionalNetworks: o.additionalNetworks,
  });
  const lbs = createLoadBalancers({
    ips: o.metal.ip,
    projectId: o.projectId,
    clusterId: o.clusterId,
    defaultExternalNetworkId: o.defaultExternalNetworkId,
    events,
    logger: o.logger.child({ component: "load-balancers" }),
    timeoutMs: o.metalApiTimeoutMs,
  });
  const syncMachines = createMachineSync({
    machines: o.metal.machine,
    directory,
    clusterId: o.clusterId,
    sshPublicKey: o.sshPublicKey,
    logger: o.logger.child({ component: "housekeeping" }),
    timeoutMs: o.metalApiTimeoutMs,
  });

  return {
    instanceMetadata: (req, signal) => instances.metadata(req.node, signal),
    instanceExists: async (req, signal) => ({ exists: await instances.exists(req.node, signal) }),
    instanceShutdown: async (req, signal) => ({ shutdown: await instances.shutdown(req.node, signal) }),
    getZone: (req, signal) => instances.zone(req.node, signal),
    async getLoadBalancer(req, signal) {
      const ips = await lbs.get(req.service, signal);
      return {
        exists: ips.length > 0,
        status: { ingress: ips.map((i) => ({ ip: i.address })) },
        ips,
      };
    },
    async ensureLoadBalancer(req, signal) {
      const r = await lbs.ensure(req.service, signal);
      return { status: r.status, ip: r.ip, allocated: r.allocated, released: r.released };
    },
    async updateLoadBalancer(req, signal) {
      return { status: await lbs.update(req.service, signal) };
    },
    ensureLoadBalancerDeleted: (req, signal) => lbs.release(req.service, signal),
    listLoadBalancerIps: async (signal) => ({ ips: await lbs.list(signal) }),
    async renderLoadBalancerConfig(req, signal) {
      for (const [i, n] of req.nodes.entries())
        if (n.name === "") throw ServiceError.invalidArgument(`nodes[${i}].name`, "is required");
      const ips = req.ips.length > 0 ? req.ips : await lbs.list(signal);
      for (const [i, ip] of ips.entries()) {
        if (ip.address === "") throw ServiceError.invalidArgument(`ips[${i}].address`, "is required");
        if (ip.networkId === "") throw ServiceError.invalidArgument(`ips[${i}].network_id`, "is required");
      }
      return renderConfig({
        mode: modeOf(req.mode ?? LoadBalancerMode.LOAD_BALANCER_MODE_UNSPECIFIED, mode),
        nodes: req.nodes,
        ips,
        namespace: req.namespace,
      });
    },
    syncMachines: (req, signal) => syncMachines(req.nodes, signal),
    describeCluster: () => ({
      projectId: o.projectId,
      partitionId: o.partitionId,
      clusterId: o.clusterId,
      defaultExternalNetworkId: o.defaultExternalNetworkId,
      loadBalancerMode: modeEnum(mode),
      defaultConfigNamespace: defaultNamespaceOf(mode),
      configLabelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY}`,
    }),
    async recordNodeEvent(req) {
      const action = NODE_ACTIONS[req.type];
      if (!action)
        throw ServiceError.invalidArgument(
          "type",
          "must be NODE_EVENT_TYPE_INITIALIZED or NODE_EVENT_TYPE_DELETED",
        );
      if (req.nodeName === "") throw ServiceError.invalidArgument("node_name", "is required");
      if (req.providerId !== "") machineIdOf(req.providerId, "provider_id");
      else if (action === "initialized")
        throw ServiceError.invalidArgument("provider_id", "is required for an initialized node");
      let published: unknown;
      try {
        published = await publishEvent(events, {
          entity: "node",
          action,
          subject: req.nodeName,
          data: {
            node: req.nodeName,
            providerId: req.providerId,
            ...(req.reason !== "" ? { reason: req.reason } : {}),
          },
        });
      } catch (err) {
        throw ServiceError.unavailable(
          `event not published: ${err instanceof Error ? err.message : String(err)}`,
          err,
        );
      }
      const id = (published as { id?: unknown } | undefined)?.id;
      return { eventId: typeof id === "string" ? id : "" };
    },
  };
}
