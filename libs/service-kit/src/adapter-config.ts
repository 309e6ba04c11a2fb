import { duration, enumOf, field, hostPort, listenAddress, text } from "@metal-kube/config";

export interface AdapterDefaults {
  /** The service's address as `npm start` runs it (its loopback port). */
  address: string;
  /** The adapter's own /metrics, /healthz and /readyz: the service's metrics port + 100. */
  metricsListen: string;
  /** Deadline of one call to the service. */
  callTimeout: string;
}

const envPrefix = (service: string) => service.toUpperCase().replaceAll("-", "_");

/** The variable an adapter reads its service's address from, e.g. CCM_ADDRESS for `ccm`. */
export const serviceAddressVariable = (service: string) => `${envPrefix(service)}_ADDRESS`;

/**
 * The variables every adapter reads: where its service is (`<SERVICE>_ADDRESS`), its own metrics address,
 * the kubeconfig and the log level. `service` is the service's name, e.g. `ccm` for CCM_ADDRESS.
 */
export function adapterKitConfigSpec(service: string, defaults: AdapterDefaults) {
  return {
    serviceAddress: field(serviceAddressVariable(service), listenAddress(), {
      default: defaults.address,
      description: `gRPC address of the ${service} service: host:port or unix:///path.sock (its pod's socket)`,
    }),
    serviceTimeoutMs: field(`${envPrefix(service)}_TIMEOUT`, duration(), {
      default: defaults.callTimeout,
      description: `deadline of one call to the ${service} service`,
    }),
    metricsListen: field("ADAPTER_METRICS_LISTEN", hostPort(), {
      default: defaults.metricsListen,
      description: "HTTP address of the adapter's /metrics, /healthz and /readyz",
    }),
    kubeconfig: field("KUBECONFIG", text(), {
      optional: true,
      description: "kubeconfig of the cluster the adapter works in; the pod's ServiceAccount when unset",
    }),
    logLevel: field("LOG_LEVEL", enumOf(["trace", "debug", "info", "warn", "error", "fatal"]), {
      default: "info",
      description: "log level",
    }),
  };
}
