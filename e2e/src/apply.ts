import { existsSync, readFileSync } from "node:fs";
import {
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  loadAllYaml,
  PatchStrategy,
} from "@kubernetes/client-node";
import { waitEstablished } from "./crds.js";

/** What apply() takes: YAML text (one or more documents), a path to a YAML file, or objects. */
export type ManifestInput = string | KubernetesObject | readonly (string | KubernetesObject)[];

export const FIELD_MANAGER = "metal-kube-testbed";

/**
 * Kinds that others depend on go first, so one call can carry a namespace, a CRD and objects in them,
 * or a ServiceAccount with its Role and RoleBinding, in any order.
 */
const KIND_ORDER = [
  "Namespace",
  "CustomResourceDefinition",
  "ServiceAccount",
  "ClusterRole",
  "Role",
  "ClusterRoleBinding",
  "RoleBinding",
];
const rank = (kind: string | undefined) => {
  const i = KIND_ORDER.indexOf(kind ?? "");
  return i === -1 ? KIND_ORDER.length : i;
};

/** Parses manifests: a string with a newline or a "kind:" is YAML text, otherwise a file path. */
export function parseManifests(input: ManifestInput): KubernetesObject[] {
  const items = Array.isArray(input) ? input : [input];
  const out: KubernetesObject[] = [];
  for (const item of items as (string | KubernetesObject)[]) {
    if (typeof item !== "string") {
      out.push(item);
      continue;
    }
    const isText = item.includes("\n") || /^\s*kind:/m.test(item);
    if (!isText && !existsSync(item)) throw new Error(`manifest file not found: ${item}`);
    const text = isText ? item : readFileSync(item, "utf8");
    const docs = (loadAllYaml(text) as (KubernetesObject | null)[]).filter(
      (d): d is KubernetesObject => d !== null && typeof d === "object",
    );
    for (const d of docs) {
      // A List (as `kubectl get -o yaml` writes) is its items.
      if (d.kind?.endsWith("List") && Array.isArray((d as { items?: unknown }).items))
        out.push(...((d as { items: KubernetesObject[] }).items ?? []));
      else out.push(d);
    }
  }
  for (const [i, d] of out.entries()) {
    if (!d.apiVersion || !d.kind || !d.metadata?.name)
      throw new Error(`manifest document ${i + 1} lacks apiVersion, kind or metadata.name`);
  }
  return out;
}

const describe = (o: KubernetesObject) =>
  `${o.kind} ${o.metadata?.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata?.name}`;

/**
 * Server-side applies manifests as the admin (field manager "metal-kube-testbed", conflicts forced),
 * creating any namespace a namespaced object names that does not exist yet. Returns the objects as
 * the apiserver stored them.
 */
export async function applyManifests(kc: KubeConfig, input: ManifestInput): Promise<KubernetesObject[]> {
  const docs = parseManifests(input).sort((a, b) => rank(a.kind) - rank(b.kind));
  const api = KubernetesObjectApi.makeApiClient(kc);
  const namespaces = new Set(docs.filter((d) => d.kind === "Namespace").map((d) => d.metadata?.name));
  const missing = [
    ...new Set(docs.map((d) => d.metadata?.namespace).filter((n): n is string => !!n && !namespaces.has(n))),
  ];
  const applied: KubernetesObject[] = [];
  const apply = async (obj: KubernetesObject) => {
    try {
      return await api.patch(obj, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
    } catch (err) {
      const body = (err as { body?: unknown }).body;
      const detail = typeof body === "string" ? body : body ? JSON.stringify(body) : String(err);
      throw new Error(`apply ${describe(obj)}: ${detail}`, { cause: err });
    }
  };
  for (const ns of missing) {
    // Only a namespace that does not exist: applying an existing one under this field manager would
    // drop the labels an earlier apply gave it.
    const exists = await api.read({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } }).then(
      () => true,
      (err: unknown) => {
        if ((err as { code?: number }).code === 404) return false;
        throw err;
      },
    );
    if (!exists) await apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
  }
  for (const d of docs) {
    applied.push(await apply(d));
    // Objects of a CRD applied in the same call need it served first.
    if (d.kind === "CustomResourceDefinition") await waitEstablished(kc, d.metadata?.name as string);
  }
  return applied;
}
