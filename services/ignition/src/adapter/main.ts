// The ignition adapter process: OperatingSystemConfig -> user data Secret, rendered by the ignition service
// at IGNITION_ADDRESS over gRPC. Its own /metrics, /healthz and /readyz are on ADAPTER_METRICS_LISTEN (9154).

import { runAdapter } from "@metal-kube/service-kit";
import { startIgnitionAdapter } from "./adapter.js";
import {
  DEFAULT_ADAPTER_METRICS_LISTEN,
  DEFAULT_IGNITION_ADDRESS,
  DEFAULT_IGNITION_TIMEOUT,
  ignitionAdapterConfigSpec,
} from "./config.js";

await runAdapter({
  name: "ignition-adapter",
  service: "ignition",
  defaults: {
    address: DEFAULT_IGNITION_ADDRESS,
    metricsListen: DEFAULT_ADAPTER_METRICS_LISTEN,
    callTimeout: DEFAULT_IGNITION_TIMEOUT,
  },
  config: ignitionAdapterConfigSpec,
  start: (ctx) => startIgnitionAdapter(ctx),
});
