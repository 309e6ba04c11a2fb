// The ccm adapter process: the Kubernetes side of the ccm (nodes, Services, MetalLB/Cilium objects,
// housekeeping), leader-elected, calling the ccm service at CCM_ADDRESS over gRPC. Its own /metrics,
// /healthz and /readyz are on ADAPTER_METRICS_LISTEN (9152).

import { runAdapter } from "@metal-kube/service-kit";
import { startCcmAdapter } from "./adapter.js";
import { createCcmClient } from "./ccm-client.js";
import {
  ccmAdapterConfigSpec,
  DEFAULT_ADAPTER_METRICS_LISTEN,
  DEFAULT_CCM_ADDRESS,
  DEFAULT_CCM_TIMEOUT,
} from "./config.js";

await runAdapter({
  name: "ccm-adapter",
  service: "ccm",
  defaults: {
    address: DEFAULT_CCM_ADDRESS,
    metricsListen: DEFAULT_ADAPTER_METRICS_LISTEN,
    callTimeout: DEFAULT_CCM_TIMEOUT,
  },
  config: ccmAdapterConfigSpec,
  async start({ config, kit, logger, registry }) {
    const ccm = createCcmClient({ address: kit.serviceAddress, timeoutMs: kit.serviceTimeoutMs });
    try {
      const adapter = await startCcmAdapter({
        ccm,
        kubeconfigPath: kit.kubeconfig,
        connectTimeoutMs: config.connectTimeoutMs,
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
        registry,
        logger,
      });
      return {
        stop: async () => {
          await adapter.stop();
          ccm.close();
        },
      };
    } catch (err) {
      ccm.close();
      throw err;
    }
  },
});
