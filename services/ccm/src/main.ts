// The ccm service process: gRPC on 50052, metrics on 9052. No Kubernetes here: its adapter is a process
// of its own (src/adapter/main.ts) calling this service over gRPC.

import { createMetalApiClient } from "@metal-kube/metal-api";
import { metalErrorMapper } from "@metal-kube/metal-stack";
import { runService } from "@metal-kube/service-kit";
import { createCloudProvider } from "./cloud-provider.js";
import { ccmConfigSpec, DEFAULT_LISTEN, DEFAULT_METRICS_LISTEN } from "./config.js";
import { noEvents } from "./events.js";
import { cloudProviderService } from "./service.js";

await runService({
  name: "ccm",
  defaults: { listen: DEFAULT_LISTEN, metricsListen: DEFAULT_METRICS_LISTEN },
  config: ccmConfigSpec,
  async setup({ config, logger, events: kitEvents }) {
    if ((config.metalApiHmac === undefined) === (config.metalApiToken === undefined)) {
      process.stderr.write("METAL_API_HMAC, METAL_API_TOKEN: set exactly one of them\n");
      process.exit(2);
    }
    const metal = createMetalApiClient({
      url: config.metalApiUrl,
      ...(config.metalApiHmac !== undefined
        ? { hmac: config.metalApiHmac, hmacAuthType: config.hmacAuthType }
        : { token: config.metalApiToken! }),
      timeoutMs: config.metalApiTimeoutMs,
    });
    // The kit owns the publisher (outbox, readiness, flush on shutdown); EVENTS_ENABLED=false mutes it.
    const events = config.eventsEnabled ? kitEvents : noEvents;
    const cp = createCloudProvider({
      metal,
      projectId: config.projectId,
      partitionId: config.partitionId,
      clusterId: config.clusterId,
      defaultExternalNetworkId: config.defaultExternalNetworkId,
      additionalNetworks: config.additionalNetworks,
      sshPublicKey: config.sshPublicKey,
      loadBalancer: config.loadBalancer,
      instanceCacheTtlMs: config.instanceCacheTtlMs,
      metalApiTimeoutMs: config.metalApiTimeoutMs,
      events,
      logger,
    });
    return {
      services: [cloudProviderService(cp)],
      errorMappers: [metalErrorMapper],
      secretFields: [],
      close: async () => {
        await metal.close();
      },
    };
  },
});
