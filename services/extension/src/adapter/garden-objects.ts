// What the garden webhooks read from the garden cluster: CloudProfiles and NamespacedCloudProfiles from
// informer caches (every Shoot review needs one, so a GET per review would cost the apiserver and us a
// round trip each), referenced Secrets by GET (bindings are rare and must see the Secret as it is now).
import {
  createInformer,
  type Informer,
  isNotFound,
  type KubeClient,
  type KubeObject,
  type ResourceRef,
} from "@metal-kube/kube";
import type { Logger } from "@metal-kube/logging";

export const CLOUD_PROFILES: ResourceRef = {
  group: "core.gardener.cloud",
  version: "v1beta1",
  plural: "cloudprofiles",
  kind: "CloudProfile",
  namespaced: false,
};
export const NAMESPACED_CLOUD_PROFILES: ResourceRef = {
  group: "core.gardener.cloud",
  version: "v1beta1",
  plural: "namespacedcloudprofiles",
  kind: "NamespacedCloudProfile",
};
export const SECRETS: ResourceRef = { group: "", version: "v1", plural: "secrets", kind: "Secret" };

export interface GardenObjects {
  cloudProfile(name: string): Promise<KubeObject | undefined>;
  namespacedCloudProfile(namespace: string, name: string): Promise<KubeObject | undefined>;
  secret(namespace: string, name: string): Promise<KubeObject | undefined>;
  start(): void;
  /** Resolves when both caches have listed once. */
  waitForSync(timeoutMs: number): Promise<void>;
  synced(): boolean;
  stop(): Promise<void>;
}

export function createGardenObjects(kube: KubeClient, logger: Logger): GardenObjects {
  const profiles: Informer = createInformer({
    transport: kube.transport,
    resource: CLOUD_PROFILES,
    logger,
    metrics: kube.metrics,
  });
  const namespaced: Informer = createInformer({
    transport: kube.transport,
    resource: NAMESPACED_CLOUD_PROFILES,
    logger,
    metrics: kube.metrics,
  });
  const secrets = kube.resource(SECRETS);
  const getOrUndefined = async (p: Promise<KubeObject>) => {
    try {
      return await p;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };
  return {
    // Until a cache has listed, the object is read from the apiserver: a review never waits for a sync.
    async cloudProfile(name) {
      if (profiles.hasSynced()) return profiles.store.get(name);
      return getOrUndefined(profiles.client.get({ name }));
    },
    async namespacedCloudProfile(namespace, name) {
      if (namespaced.hasSynced()) return namespaced.store.get(`${namespace}/${name}`);
      return getOrUndefined(namespaced.client.get({ namespace, name }));
    },
    secret: (namespace, name) => getOrUndefined(secrets.get({ namespace, name })),
    start() {
      profiles.start();
      namespaced.start();
    },
    async waitForSync(timeoutMs) {
      await Promise.all([profiles.waitForSync(timeoutMs), namespaced.waitForSync(timeoutMs)]);
    },
    synced: () => profiles.hasSynced() && namespaced.hasSynced(),
    async stop() {
      await Promise.all([profiles.stop(), namespaced.stop()]);
    },
  };
}
