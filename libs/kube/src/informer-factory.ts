import type { Logger } from "@metal-kube/logging";
import { createInformer, type Informer, type InformerOptions } from "./informer.js";
import type { KubeMetrics } from "./metrics.js";
import { type ResourceRef, resourceId } from "./resource.js";
import type { IndexFunc } from "./store.js";
import type { Transport } from "./transport.js";
import type { KubeObject } from "./types.js";

export interface InformerFactoryOptions {
  transport: Transport;
  logger?: Logger;
  metrics?: KubeMetrics;
  /** Defaults applied to every informer the factory makes (timeouts, retry, page size). */
  defaults?: Partial<Omit<InformerOptions<KubeObject>, "transport" | "resource">>;
}

export interface InformerSelection<T extends KubeObject> {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  indexers?: Record<string, IndexFunc<T>>;
}

/**
 * Hands out one informer (one list+watch, one cache) per resource and selection, so that every controller
 * in a process that watches the same thing shares it. Informers requested after `start()` start at once.
 */
export interface InformerFactory {
  informerFor<T extends KubeObject = KubeObject>(
    resource: ResourceRef,
    selection?: InformerSelection<T>,
  ): Informer<T>;
  start(): void;
  stop(): Promise<void>;
  waitForSync(timeoutMs?: number): Promise<void>;
}

export function createInformerFactory(options: InformerFactoryOptions): InformerFactory {
  const informers = new Map<string, Informer<KubeObject>>();
  let started = false;
  return {
    informerFor<T extends KubeObject>(resource: ResourceRef, sel: InformerSelection<T> = {}) {
      const key = [
        resourceId(resource),
        sel.namespace ?? "",
        sel.labelSelector ?? "",
        sel.fieldSelector ?? "",
      ].join("|");
      let inf = informers.get(key) as Informer<T> | undefined;
      if (!inf) {
        inf = createInformer<T>({
          ...(options.defaults as Partial<InformerOptions<T>>),
          transport: options.transport,
          resource,
          namespace: sel.namespace,
          labelSelector: sel.labelSelector,
          fieldSelector: sel.fieldSelector,
          logger: options.logger,
          metrics: options.metrics,
        });
        informers.set(key, inf as unknown as Informer<KubeObject>);
        if (started) inf.start();
      }
      for (const [name, fn] of Object.entries(sel.indexers ?? {})) inf.store.addIndexer(name, fn);
      return inf;
    },
    start() {
      started = true;
      for (const inf of informers.values()) inf.start();
    },
    async stop() {
      started = false;
      await Promise.all([...informers.values()].map((i) => i.stop()));
    },
    async waitForSync(timeoutMs) {
      await Promise.all([...informers.values()].map((i) => i.waitForSync(timeoutMs)));
    },
  };
}
