import { KubeConfig } from "@kubernetes/client-node";
import { createLogger, type Logger } from "@metal-kube/logging";
import type { InformerOptions } from "./informer.js";
import { createInformerFactory, type InformerFactory } from "./informer-factory.js";
import type { KubeMetrics } from "./metrics.js";
import type { ResourceRef } from "./resource.js";
import { createResourceClient, type ResourceClient } from "./resource-client.js";
import { createTransport, type Transport, type TransportOptions } from "./transport.js";
import type { KubeObject } from "./types.js";

export interface KubeClientOptions extends Omit<TransportOptions, "kubeConfig"> {
  /** A loaded KubeConfig; when absent `kubeconfigPath` is read, else the client-node default chain. */
  kubeConfig?: KubeConfig;
  /** Path of a kubeconfig file. */
  kubeconfigPath?: string;
  logger?: Logger;
  metrics?: KubeMetrics;
  /** Defaults for every informer made through `informers`. */
  informerDefaults?: Partial<Omit<InformerOptions<KubeObject>, "transport" | "resource">>;
}

/** One apiserver connection: resource clients and the process' shared informers. */
export interface KubeClient {
  readonly transport: Transport;
  readonly kubeConfig: KubeConfig;
  readonly informers: InformerFactory;
  readonly logger: Logger;
  readonly metrics: KubeMetrics | undefined;
  resource<T extends KubeObject = KubeObject>(ref: ResourceRef): ResourceClient<T>;
  /** Stops the informers and closes idle connections. */
  close(): Promise<void>;
}

/**
 * Loads a kubeconfig: the file at `path` when given, otherwise client-node's default chain
 * ($KUBECONFIG, ~/.kube/config, then the in-cluster ServiceAccount).
 */
export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}

export function createKubeClient(options: KubeClientOptions = {}): KubeClient {
  const { kubeConfig, kubeconfigPath, logger, metrics, informerDefaults, ...transportOptions } = options;
  const kc = kubeConfig ?? loadKubeConfig(kubeconfigPath);
  const log = logger ?? createLogger({ name: "kube" });
  const transport = createTransport({ ...transportOptions, kubeConfig: kc });
  const informers = createInformerFactory({ transport, logger: log, metrics, defaults: informerDefaults });
  return {
    transport,
    kubeConfig: kc,
    informers,
    logger: log,
    metrics,
    resource: <T extends KubeObject>(ref: ResourceRef) => createResourceClient<T>(transport, ref),
    async close() {
      await informers.stop();
      transport.close();
    },
  };
}
