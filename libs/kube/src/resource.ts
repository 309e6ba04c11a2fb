/** Addresses any API resource, built-in or custom, by group/version/plural. */
export interface ResourceRef {
  /** API group; "" for the core group (ConfigMaps, Events, ...). */
  group: string;
  version: string;
  /** Plural resource name as in the URL (e.g. `configmaps`, `operatingsystemconfigs`). */
  plural: string;
  /** Kind, used for Events' involvedObject and for objects the kit creates. */
  kind?: string;
  /** Namespaced (default) or cluster-scoped. */
  namespaced?: boolean;
}

export function apiVersionOf(ref: ResourceRef): string {
  return ref.group ? `${ref.group}/${ref.version}` : ref.version;
}

function prefix(ref: ResourceRef): string {
  return ref.group ? `/apis/${ref.group}/${ref.version}` : `/api/${ref.version}`;
}

export function collectionPath(ref: ResourceRef, namespace?: string): string {
  if (ref.namespaced !== false && namespace) {
    return `${prefix(ref)}/namespaces/${encodeURIComponent(namespace)}/${ref.plural}`;
  }
  return `${prefix(ref)}/${ref.plural}`;
}

export function objectPath(ref: ResourceRef, name: string, namespace?: string, subresource?: string): string {
  if (ref.namespaced !== false && !namespace) {
    throw new TypeError(`${ref.plural}: namespace is required for a namespaced resource (object "${name}")`);
  }
  if (!name) throw new TypeError(`${ref.plural}: metadata.name is required`);
  return `${collectionPath(ref, namespace)}/${encodeURIComponent(name)}${subresource ? `/${subresource}` : ""}`;
}

/** Stable text form used to share informers and label metrics, e.g. `demo.metal-kube.io/v1/demos`. */
export function resourceId(ref: ResourceRef): string {
  return `${ref.group || "core"}/${ref.version}/${ref.plural}`;
}
