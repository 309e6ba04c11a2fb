// The ccm process: gRPC on 50052, metrics on 9052; with KUBECONFIG (or IN_CLUSTER) also the
// Kubernetes adapter, leader-elected.

import { createMetalApiClient } from "@metal-kube/metal-api";
import { metalErrorMapper } from "@metal-kube/metal-stack";
import { runService } from "@metal-kube/service-kit";
import { type CcmAdapter, startCcmAdapter } from "./adapter/adapter.js";
import { createCloudProvider } from "./cloud-provider.js";
import { ccmConfigSpec, DEFAULT_LISTEN, DEFAULT_METRICS_LISTEN } from "./config.js";
import { noEvents } from "./events.js";
import { cloudProviderService } from "./service.js";

await runService({
  name: "ccm",
  defaults: { listen: DEFAULT_LISTEN, metricsListen: DEFAULT_METRICS_LISTEN },
  config: ccmConfigSpec,
  async setup({ config, kit, logger, events: kitEvents }) {
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
      loadBalancerNamespace: config.loadBalancerNamespace,
      instanceCacheTtlMs: config.instanceCacheTtlMs,
      metalApiTimeoutMs: config.metalApiTimeoutMs,
      events,
      logger,
    });
    let adapter: CcmAdapter | undefined;
    const adapterOn = kit.kubeconfig !== undefined || config.inCluster;
    return {
      services: [cloudProviderService(cp)],
      errorMappers: [metalErrorMapper],
      secretFields: [],
      ready: async () => {
        if (adapterOn) {
          try {
            adapter = await startCcmAdapter({
              cp,
              kubeconfigPath: kit.kubeconfig,
              leaderElect: config.leaderElect,
              leaderElectionNamespace: config.leaderElectionNamespace,
              // client-go's proportions: renew deadline 2/3 and retry period 2/15 of the lease.
              leaseDurationMs: config.leaseDurationMs,
              renewDeadlineMs: Math.round((config.leaseDurationMs * 2) / 3),
              retryPeriodMs: Math.round((config.leaseDurationMs * 2) / 15),
              loadBalancerNamespace: config.loadBalancerNamespace,
              loadBalancerClass: config.loadBalancerClass,
              housekeepingIntervalMs: config.housekeepingIntervalMs,
              nodeMonitorPeriodMs: config.nodeMonitorPeriodMs,
              concurrency: config.concurrency,
              configDebounceMs: config.configDebounceMs,
              events,
              logger,
            });
          } catch (err) {
            // E.g. missing RBAC: the message lists every missing permission.
            logger.fatal({ err: err instanceof Error ? err.message : String(err) }, "adapter cannot start");
            logger.flush();
            process.exit(1);
          }
        }
      },
      close: async () => {
        await adapter?.stop();
        await metal.close();
      },
    };
  },
});
