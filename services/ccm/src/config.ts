// The ccm's own environment variables (the kit adds GRPC_LISTEN, METRICS_LISTEN, TLS_*, NATS_URL,
// KUBECONFIG, ...). One server serves one cluster: project, partition and cluster come from here.

import { bool, duration, enumOf, field, integer, list, text, url } from "@metal-kube/config";
import { LB_MODES } from "./lb-config.js";

export const DEFAULT_LISTEN = "0.0.0.0:50052";
export const DEFAULT_METRICS_LISTEN = "0.0.0.0:9052";

export const ccmConfigSpec = {
  metalApiUrl: field("METAL_API_URL", url(), { description: "metal-api base URL" }),
  metalApiHmac: field("METAL_API_HMAC", text(), {
    optional: true,
    secret: true,
    description: "metal-api HMAC key (exactly one of METAL_API_HMAC and METAL_API_TOKEN)",
  }),
  metalApiToken: field("METAL_API_TOKEN", text(), {
    optional: true,
    secret: true,
    description: "metal-api bearer token (exactly one of METAL_API_HMAC and METAL_API_TOKEN)",
  }),
  hmacAuthType: field("METAL_API_HMAC_AUTH_TYPE", enumOf(["Metal-View", "Metal-Edit", "Metal-Admin"]), {
    default: "Metal-Edit",
    description: "which metal-api key METAL_API_HMAC is (machine housekeeping needs Metal-Admin)",
  }),
  metalApiTimeoutMs: field("METAL_API_TIMEOUT", duration(), {
    default: "30s",
    description: "deadline of one metal-api call, retries of reads included",
  }),
  projectId: field("METAL_PROJECT_ID", text(), { description: "metal-api project of the cluster" }),
  partitionId: field("METAL_PARTITION_ID", text(), { description: "metal-api partition of the cluster" }),
  clusterId: field("METAL_CLUSTER_ID", text(), {
    description: "cluster id: the value of the cluster.metal-stack.io/id tags",
  }),
  defaultExternalNetworkId: field("METAL_DEFAULT_EXTERNAL_NETWORK_ID", text(), {
    default: "internet",
    description:
      "network of load balancer IPs without an address-pool annotation; its machine IPs are ExternalIPs",
  }),
  additionalNetworks: field("METAL_ADDITIONAL_NETWORKS", list(), {
    optional: true,
    description: "further networks whose machine IPs are reported as ExternalIPs (comma-separated ids)",
  }),
  sshPublicKey: field("METAL_SSH_PUBLICKEY", text(), {
    optional: true,
    description: "SSH public key housekeeping puts on the cluster's machines",
  }),
  loadBalancer: field("LOADBALANCER", enumOf(LB_MODES), {
    default: "metallb",
    description:
      "what announces load balancer IPs: MetalLB objects; cilium: Cilium's BGP peering policy and LB IP pools (Cilium <= 1.17); cilium-bgp-v2: Cilium's BGP control plane v2 (Cilium >= 1.18)",
  }),
  instanceCacheTtlMs: field("INSTANCE_CACHE_TTL", duration(), {
    default: "1m",
    description: "how long machine lookups are cached (a missing machine is always looked up afresh)",
  }),
  eventsEnabled: field("EVENTS_ENABLED", bool(), {
    default: "true",
    description: "publish CloudEvents to NATS (through the durable outbox)",
  }),
  inCluster: field("IN_CLUSTER", bool(), {
    default: "false",
    description: "run the Kubernetes adapter with the pod's ServiceAccount (KUBECONFIG set also turns it on)",
  }),
  leaderElect: field("LEADER_ELECT", bool(), {
    default: "true",
    description:
      "the adapter reconciles only while holding the Lease LEADER_ELECTION_NAMESPACE/metal-kube-ccm",
  }),
  leaseDurationMs: field("LEADER_ELECTION_LEASE_DURATION", duration(), {
    default: "15s",
    description: "Lease duration; a standby takes over this long after the leader stopped renewing",
  }),
  leaderElectionNamespace: field("LEADER_ELECTION_NAMESPACE", text(), {
    default: "kube-system",
    description: "namespace of the leader election Lease",
  }),
  loadBalancerNamespace: field("LOADBALANCER_NAMESPACE", text(), {
    optional: true,
    description: "namespace of the MetalLB objects (Cilium's are cluster-scoped)",
  }),
  loadBalancerClass: field("LOADBALANCER_CLASS", text(), {
    optional: true,
    description:
      "Services with this spec.loadBalancerClass are served too (those without a class always are)",
  }),
  housekeepingIntervalMs: field("HOUSEKEEPING_INTERVAL", duration(), {
    default: "1m",
    description: "machine tags to node labels, cluster tag and SSH key on machines, orphan IP collection",
  }),
  nodeMonitorPeriodMs: field("NODE_MONITOR_PERIOD", duration(), {
    default: "5s",
    description: "how often a NotReady node's machine is checked (deleted when gone, tainted when shut down)",
  }),
  concurrency: field("ADAPTER_CONCURRENCY", integer(1, 1000), {
    default: "50",
    description: "nodes and Services reconciled at once (each)",
  }),
  configDebounceMs: field("LOADBALANCER_CONFIG_DEBOUNCE", duration(), {
    default: "300ms",
    description: "quiet time after a Service or node change before the MetalLB/Cilium objects are rewritten",
  }),
};
