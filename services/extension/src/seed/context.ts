import { ContextKind, type ContextObject } from "@metal-kube/proto/metalstack/extension/v1/admission";
import { ServiceError } from "@metal-kube/service-kit";
import { at, type JsonObject, str } from "../gardener/json.js";
import { CLUSTER, INFRASTRUCTURE, parseObject, SECRET } from "../gardener/objects.js";

/** The Secret holding a shoot's metal-api credentials in its seed namespace (Gardener's name). */
export const CLOUDPROVIDER_SECRET = "cloudprovider";

/**
 * The objects a seed mutation was given besides the mutated one. "Given but absent" (an entry without
 * bytes) differs from "not given": only the second is asked for again.
 */
export class SeedContext {
  private readonly entries: Array<{ kind: ContextKind; name: string; object: JsonObject | undefined }>;

  constructor(objects: readonly ContextObject[]) {
    this.entries = objects.map((o, i) => {
      const field = `context[${i}].object`;
      const kinds =
        o.kind === ContextKind.CONTEXT_KIND_CLUSTER
          ? [CLUSTER]
          : o.kind === ContextKind.CONTEXT_KIND_INFRASTRUCTURE
            ? [INFRASTRUCTURE]
            : o.kind === ContextKind.CONTEXT_KIND_SECRET
              ? [SECRET]
              : undefined;
      if (!kinds)
        throw ServiceError.invalidArgument(`context[${i}].kind`, "must be CLUSTER, INFRASTRUCTURE or SECRET");
      return { kind: o.kind, name: o.name, object: parseObject(o.object, field, kinds, true) };
    });
  }

  private given(kind: ContextKind, name?: string) {
    return this.entries.filter((e) => e.kind === kind && (name === undefined || e.name === name));
  }

  has(kind: ContextKind, name?: string): boolean {
    return this.given(kind, name).length > 0;
  }

  cluster(): JsonObject | undefined {
    return this.given(ContextKind.CONTEXT_KIND_CLUSTER).find((e) => e.object)?.object;
  }

  secret(name: string): JsonObject | undefined {
    return this.given(ContextKind.CONTEXT_KIND_SECRET, name).find((e) => e.object)?.object;
  }

  /** The shoot's Infrastructure: named like the shoot (Gardener's convention), else the only one given. */
  infrastructure(shootName: string | undefined): JsonObject | undefined {
    const all = this.given(ContextKind.CONTEXT_KIND_INFRASTRUCTURE).flatMap((e) =>
      e.object ? [e.object] : [],
    );
    return (
      all.find((o) => str(at(o, "metadata", "name")) === shootName) ?? (all.length === 1 ? all[0] : undefined)
    );
  }
}

export const need = (kind: ContextKind, name = ""): ContextObject => ({
  kind,
  name,
  object: Buffer.alloc(0),
});

/** The Shoot embedded in a Cluster (spec.shoot, a RawExtension). */
export const clusterShoot = (cluster: JsonObject | undefined): JsonObject | undefined => {
  const s = at(cluster, "spec", "shoot");
  return typeof s === "object" && s !== null && !Array.isArray(s) ? (s as JsonObject) : undefined;
};

/** The shoot's node network: spec.networking.nodes, else what the Infrastructure allocated. */
export function nodeCidr(
  shoot: JsonObject | undefined,
  infrastructure: JsonObject | undefined,
): string | undefined {
  return (
    str(at(shoot, "spec", "networking", "nodes")) ||
    str(at(infrastructure, "status", "nodesCIDR")) ||
    undefined
  );
}
