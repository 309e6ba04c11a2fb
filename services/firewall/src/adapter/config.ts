// The adapter's variables (a module of its own, so the configuration reference reads it without
// loading any Kubernetes code).
import { type ConfigValues, enumOf, field, hostPort, list, listenAddress, text } from "@metal-kube/config";

export const DEFAULT_FIREWALL_ADDRESS = "127.0.0.1:50053";
export const DEFAULT_ADAPTER_METRICS_LISTEN = "0.0.0.0:9153";
/** Where the firewall-controller-manager's userdata puts the two kubeconfigs. */
export const DEFAULT_SHOOT_KUBECONFIG = "/etc/firewall-controller/.kubeconfig";
export const DEFAULT_SEED_KUBECONFIG = "/etc/firewall-controller/.seed-kubeconfig";
/** What the FirewallMonitor (and so the Firewall's status) shows as the controller's version. */
export const CONTROLLER_VERSION = "metal-kube-firewall/v0.1.0";

export const adapterConfigSpec = {
  shootKubeconfig: field("SHOOT_KUBECONFIG", text(), {
    default: DEFAULT_SHOOT_KUBECONFIG,
    description: "kubeconfig of the shoot (CWNPs, Services, the FirewallMonitor)",
  }),
  seedKubeconfig: field("SEED_KUBECONFIG", text(), {
    default: DEFAULT_SEED_KUBECONFIG,
    description: "kubeconfig of the seed (the Firewall object, read only)",
  }),
  seedNamespace: field("SEED_NAMESPACE", text(), {
    optional: true,
    description:
      "namespace of the Firewall in the seed; default the seed kubeconfig's current context (as the firewall-controller-manager writes it)",
  }),
  firewallName: field("FIREWALL_NAME", text(), {
    optional: true,
    description: "name of this machine's Firewall and FirewallMonitor; default the hostname",
  }),
  firewallAddress: field("FIREWALL_ADDRESS", listenAddress(), {
    default: DEFAULT_FIREWALL_ADDRESS,
    description: "gRPC address of the firewall service: host:port or unix:///path.sock",
  }),
  clusterPrefixes: field("CLUSTER_PREFIXES", list(), {
    default: "",
    description: "further prefixes that count as the cluster's own (e.g. a routed pod network)",
  }),
  controllerVersion: field("CONTROLLER_VERSION", text(), {
    default: CONTROLLER_VERSION,
    description: "the version written to the FirewallMonitor's controllerStatus",
  }),
  logLevel: field("LOG_LEVEL", enumOf(["trace", "debug", "info", "warn", "error", "fatal"]), {
    default: "info",
    description: "log level",
  }),
  metricsListen: field("ADAPTER_METRICS_LISTEN", hostPort(), {
    default: DEFAULT_ADAPTER_METRICS_LISTEN,
    description: "HTTP address of the adapter's /metrics, /healthz and /readyz",
  }),
};

export type AdapterConfig = ConfigValues<typeof adapterConfigSpec>;
