// The ccm adapter's environment variables (the kit adds CCM_ADDRESS, CCM_TIMEOUT, ADAPTER_METRICS_LISTEN,
// KUBECONFIG and LOG_LEVEL). Everything about Kubernetes lives here; the service's own variables (metal-api,
// project, cluster, LOADBALANCER) stay with the service, which the adapter asks at start.

import { bool, duration, field, integer, text } from "@metal-kube/config";

/** The service's loopback port, as `npm start` runs it; deploy/ccm dials the pod's socket instead. */
export const DEFAULT_CCM_ADDRESS = "127.0.0.1:50052";
/** The service's metrics port + 100. */
export const DEFAULT_ADAPTER_METRICS_LISTEN = "0.0.0.0:9152";
export const DEFAULT_CCM_TIMEOUT = "30s";

export const ccmAdapterConfigSpec = {
  connectTimeoutMs: field("CCM_CONNECT_TIMEOUT", duration(), {
    default: "60s",
    description:
      "how long the adapter waits at start for the service to answer (its container may start later)",
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
    description:
      "namespace of the MetalLB objects; the service's default (metallb-system) when unset (Cilium's are cluster-scoped)",
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
