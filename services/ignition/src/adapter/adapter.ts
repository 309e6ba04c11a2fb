// The ignition adapter: watches OperatingSystemConfigs, renders them through the ignition service over
// gRPC, writes the user data Secrets and the OSC status.

import type { ConfigValues } from "@metal-kube/config";
import { createKubeClient, createKubeMetrics, createLeaderElector, type KubeClient } from "@metal-kube/kube";
import type { Logger } from "@metal-kube/logging";
import type { AdapterKitConfig } from "@metal-kube/service-kit";
import type { Registry } from "prom-client";
import { createOscActuator } from "./actuator.js";
import { type ignitionAdapterConfigSpec, SPEC_VERSIONS } from "./config.js";
import { createOscController, type OscController } from "./controller.js";
import { createIgnitionClient } from "./ignition-client.js";
import { SECRET_RESOURCE, type SecretObject, secretApiFrom } from "./secrets.js";

export const LEADER_ELECTION_LEASE = "metal-kube-ignition";

export type IgnitionAdapterConfig = ConfigValues<typeof ignitionAdapterConfigSpec>;

export interface IgnitionAdapterOptions {
  config: IgnitionAdapterConfig;
  kit: AdapterKitConfig;
  registry: Registry;
  logger: Logger;
}

export interface IgnitionAdapter {
  readonly kube: KubeClient;
  readonly controller: OscController;
  stop(): Promise<void>;
}

/** Starts the OSC adapter: watches OSCs, renders them through the service, writes Secrets and status. */
export async function startIgnitionAdapter(o: IgnitionAdapterOptions): Promise<IgnitionAdapter> {
  const { config, kit, logger } = o;
  const metrics = createKubeMetrics({ registry: o.registry });
  const kube = createKubeClient({ kubeconfigPath: kit.kubeconfig, logger, metrics });
  const ignition = createIgnitionClient({ address: kit.serviceAddress, timeoutMs: kit.serviceTimeoutMs });
  const actuator = createOscActuator({
    renderer: {
      render: (request, signal) =>
        ignition.render(request, { signal }).catch((err: unknown) => {
          throw new Error(`render: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
        }),
    },
    secrets: secretApiFrom(kube.resource<SecretObject>(SECRET_RESOURCE)),
    specVersion: config.specVersion ? SPEC_VERSIONS[config.specVersion] : undefined,
  });
  const leaderElector = config.leaderElect
    ? createLeaderElector({
        transport: kube.transport,
        namespace: config.leaderElectionNamespace,
        name: LEADER_ELECTION_LEASE,
        releaseOnStop: true,
        logger,
        metrics,
      })
    : undefined;
  const controller = createOscController({
    kube,
    actuator,
    types: config.types,
    namespace: config.namespace,
    concurrency: config.concurrency,
    resyncPeriodMs: config.resyncPeriodMs,
    leaderElector,
    logger,
  });
  try {
    await controller.start();
  } catch (err) {
    ignition.close();
    await kube.close();
    throw err;
  }
  logger.info({ ignition: kit.serviceAddress }, "ignition adapter running");
  return {
    kube,
    controller,
    async stop() {
      await controller.stop();
      await kube.close();
      ignition.close();
    },
  };
}
