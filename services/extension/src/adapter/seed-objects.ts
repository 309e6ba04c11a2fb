// What the seed webhook reads from the seed when the service asks for it: the shoot's Cluster, its
// Infrastructure and Secrets of its namespace, each by a plain GET (control plane objects change seldom,
// and a mutation must see them as they are now).

import { isNotFound, type KubeClient, type KubeObject, type ResourceRef } from "@metal-kube/kube";
import { ContextKind, type ContextObject } from "@metal-kube/proto/metalstack/extension/v1/admission";

export const CLUSTERS: ResourceRef = {
  group: "extensions.gardener.cloud",
  version: "v1alpha1",
  plural: "clusters",
  kind: "Cluster",
  namespaced: false,
};
export const INFRASTRUCTURES: ResourceRef = {
  group: "extensions.gardener.cloud",
  version: "v1alpha1",
  plural: "infrastructures",
  kind: "Infrastructure",
};
const SECRETS: ResourceRef = { group: "", version: "v1", plural: "secrets", kind: "Secret" };

export interface SeedObjects {
  /** The objects asked for, each as a ContextObject (without bytes when it does not exist). */
  fetch(namespace: string, needs: readonly ContextObject[]): Promise<ContextObject[]>;
}

const bytes = (o: KubeObject | undefined) => (o ? Buffer.from(JSON.stringify(o)) : Buffer.alloc(0));

export function createSeedObjects(kube: KubeClient): SeedObjects {
  const clusters = kube.resource(CLUSTERS);
  const infrastructures = kube.resource(INFRASTRUCTURES);
  const secrets = kube.resource(SECRETS);
  const get = async (p: Promise<KubeObject>) => {
    try {
      return await p;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };
  return {
    async fetch(namespace, needs) {
      const out = await Promise.all(
        needs.map(async (n): Promise<ContextObject[]> => {
          switch (n.kind) {
            case ContextKind.CONTEXT_KIND_CLUSTER: {
              const name = n.name || namespace;
              return [{ kind: n.kind, name, object: bytes(await get(clusters.get({ name }))) }];
            }
            case ContextKind.CONTEXT_KIND_INFRASTRUCTURE: {
              if (n.name)
                return [
                  {
                    kind: n.kind,
                    name: n.name,
                    object: bytes(await get(infrastructures.get({ namespace, name: n.name }))),
                  },
                ];
              const list = await infrastructures.list({ namespace });
              if (list.items.length === 0) return [{ kind: n.kind, name: "", object: Buffer.alloc(0) }];
              return list.items.map((i) => ({
                kind: n.kind,
                name: i.metadata?.name ?? "",
                object: bytes({
                  ...i,
                  apiVersion: "extensions.gardener.cloud/v1alpha1",
                  kind: "Infrastructure",
                }),
              }));
            }
            case ContextKind.CONTEXT_KIND_SECRET:
              return [
                {
                  kind: n.kind,
                  name: n.name,
                  object: bytes(await get(secrets.get({ namespace, name: n.name }))),
                },
              ];
            default:
              throw new Error(`the extension service asked for an unknown kind of object (${n.kind})`);
          }
        }),
      );
      return out.flat();
    },
  };
}
