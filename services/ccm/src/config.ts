// The ccm service's own environment variables (the kit adds GRPC_LISTEN, METRICS_LISTEN, TLS_*, NATS_URL,
// ...). One server serves one cluster: project, partition and cluster come from here. The adapter's
// variables (Kubernetes, leader election, intervals) are in adapter/config.ts.

import { bool, duration, enumOf, field, list, text, url } from "@metal-kube/config";
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
};
