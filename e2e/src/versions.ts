/**
 * Every pinned upstream version the test bed uses, in one place. Bump here only; the binary cache and
 * the module cache are keyed by these strings, so a bump rebuilds/redownloads by itself.
 */

/**
 * kube-apiserver release: the newest one served. It runs on Debian's etcd 3.4.23 (checked by
 * e2e/test/testbed.test.ts: CRUD, watch resume, 410 after compaction, restarts): the apiserver probes
 * etcd's version and turns off what 3.4.23 lacks (RequestWatchProgress, so consistent reads come from
 * etcd instead of the watch cache). Its etcd client is v3.7, which still speaks the 3.4 API.
 * 1.37 refuses a loopback advertise address with the endpoint reconciler: the bed runs it with
 * --endpoint-reconciler-type=none.
 */
export const KUBERNETES_VERSION = "v1.37.2";
/** The `k8s.io/*` staging modules carry the same release as v0.<minor>.<patch>. */
export const KUBERNETES_STAGING_VERSION = `v0.${KUBERNETES_VERSION.slice("v1.".length)}`;

export const GRPCURL_VERSION = "v1.9.4";

/** Upstream modules whose CRD YAML the test bed installs (and, for MCM, whose binary may be built). */
export const MACHINE_CONTROLLER_MANAGER_VERSION = "v0.55.0";
export const GARDENER_VERSION = "v1.110.0";
export const METALLB_VERSION = "v0.16.2";
export const FIREWALL_CONTROLLER_VERSION = "v2.3.5";
export const FIREWALL_CONTROLLER_MANAGER_VERSION = "v0.3.2";
/**
 * Cilium: the current release for the LB IP pools (served as v2 and v2alpha1) and BGP control plane v2
 * (LOADBALANCER=cilium-bgp-v2); 1.17, the last line serving `cilium.io/v2alpha1` CiliumBGPPeeringPolicy,
 * for the peering policy of LOADBALANCER=cilium (later releases dropped it).
 */
export const CILIUM_VERSION = "v1.20.2";
export const CILIUM_PEERING_POLICY_VERSION = "v1.17.6";

export const MODULES = {
  kubernetes: { module: "k8s.io/kubernetes", version: KUBERNETES_VERSION },
  grpcurl: { module: "github.com/fullstorydev/grpcurl", version: GRPCURL_VERSION },
  machineControllerManager: {
    module: "github.com/gardener/machine-controller-manager",
    version: MACHINE_CONTROLLER_MANAGER_VERSION,
  },
  gardener: { module: "github.com/gardener/gardener", version: GARDENER_VERSION },
  metallb: { module: "go.universe.tf/metallb", version: METALLB_VERSION },
  firewallController: {
    module: "github.com/metal-stack/firewall-controller/v2",
    version: FIREWALL_CONTROLLER_VERSION,
  },
  firewallControllerManager: {
    module: "github.com/metal-stack/firewall-controller-manager",
    version: FIREWALL_CONTROLLER_MANAGER_VERSION,
  },
  cilium: { module: "github.com/cilium/cilium", version: CILIUM_VERSION },
  ciliumPeeringPolicy: { module: "github.com/cilium/cilium", version: CILIUM_PEERING_POLICY_VERSION },
} as const;
