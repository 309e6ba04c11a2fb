// The ignition adapter's environment variables (the kit adds IGNITION_ADDRESS, IGNITION_TIMEOUT,
// ADAPTER_METRICS_LISTEN, KUBECONFIG and LOG_LEVEL).

import { bool, duration, enumOf, field, integer, list, text } from "@metal-kube/config";
import { SpecVersion } from "@metal-kube/proto/metalstack/ignition/v1/ignition";
import { DEFAULT_OSC_TYPES } from "./controller.js";

/** The service's loopback port, as `npm start` runs it; deploy/ignition dials the pod's socket instead. */
export const DEFAULT_IGNITION_ADDRESS = "127.0.0.1:50054";
/** The service's metrics port + 100. */
export const DEFAULT_ADAPTER_METRICS_LISTEN = "0.0.0.0:9154";
export const DEFAULT_IGNITION_TIMEOUT = "10s";

/** The wire's spec versions by their version string (SPEC_VERSION_3_3_0 -> "3.3.0"), UNSPECIFIED left out. */
export const SPEC_VERSIONS: Readonly<Record<string, SpecVersion>> = Object.fromEntries(
  Object.entries(SpecVersion).flatMap(([name, value]) =>
    typeof value === "number" && value > 0 && name.startsWith("SPEC_VERSION_")
      ? [[name.slice("SPEC_VERSION_".length).replaceAll("_", "."), value]]
      : [],
  ),
);

export const ignitionAdapterConfigSpec = {
  types: field("OSC_TYPES", list(), {
    default: DEFAULT_OSC_TYPES.join(","),
    description: "OperatingSystemConfig spec.type values this adapter handles",
  }),
  namespace: field("WATCH_NAMESPACE", text(), {
    optional: true,
    description: "watch only this namespace (all when unset)",
  }),
  specVersion: field("IGNITION_SPEC_VERSION", enumOf(Object.keys(SPEC_VERSIONS) as [string, ...string[]]), {
    optional: true,
    description: "Ignition spec asked of the service; the service's default when unset",
  }),
  concurrency: field("ADAPTER_CONCURRENCY", integer(1, 1000), {
    default: "10",
    description: "OSCs reconciled at once",
  }),
  resyncPeriodMs: field("RESYNC_PERIOD", duration(), {
    default: "10m",
    description: "every OSC is reconciled again at this period (secret changes are picked up then)",
  }),
  leaderElect: field("LEADER_ELECT", bool(), {
    default: "false",
    description: "run with leader election (a Lease in LEADER_ELECTION_NAMESPACE)",
  }),
  leaderElectionNamespace: field("LEADER_ELECTION_NAMESPACE", text(), {
    default: "default",
    description: "namespace of the leader election Lease",
  }),
};
