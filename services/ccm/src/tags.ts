// metal-api tags the ccm reads and writes (anchors §3): `key=value` strings.

export const TAG_CLUSTER = "cluster.metal-stack.io/id";
/** `<TAG_SERVICE>=<cluster>/<namespace>/<name>` on every IP serving a Service. */
export const TAG_SERVICE = "cluster.metal-stack.io/id/namespace/service";
export const TAG_EGRESS = "cluster.metal-stack.io/id/egress";
export const TAG_MACHINE = "machine.metal-stack.io/id";
export const TAG_PRIMARY_ASN = "machine.metal-stack.io/network.primary.asn";

export const tagKey = (tag: string) => {
  const i = tag.indexOf("=");
  return i < 0 ? tag : tag.slice(0, i);
};
export const tagValue = (tag: string) => {
  const i = tag.indexOf("=");
  return i < 0 ? "" : tag.slice(i + 1);
};

export function serviceTag(cluster: string, namespace: string, name: string): string {
  return `${TAG_SERVICE}=${cluster}/${namespace}/${name}`;
}

/** `namespace/name` of a service tag of this cluster, else undefined. */
export function serviceOfTag(cluster: string, tag: string): string | undefined {
  const prefix = `${TAG_SERVICE}=${cluster}/`;
  return tag.startsWith(prefix) ? tag.slice(prefix.length) : undefined;
}

/** True for tags that make an IP unusable for a Service: it serves a machine or the cluster's egress. */
export function isReservedTag(tag: string): boolean {
  const k = tagKey(tag);
  return k === TAG_MACHINE || k === TAG_EGRESS;
}

const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function isLabelKey(k: string): boolean {
  const slash = k.lastIndexOf("/");
  const name = slash < 0 ? k : k.slice(slash + 1);
  const prefix = slash < 0 ? undefined : k.slice(0, slash);
  if (!LABEL_NAME.test(name)) return false;
  return prefix === undefined || (prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix));
}

export function isLabelValue(v: string): boolean {
  return v === "" || LABEL_NAME.test(v);
}

/** Machine tags as node labels: `k=v` tags whose key and value are valid label keys and values. */
export function tagsToLabels(tags: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags) {
    const i = t.indexOf("=");
    if (i <= 0) continue;
    const k = t.slice(0, i);
    const v = t.slice(i + 1);
    if (isLabelKey(k) && isLabelValue(v)) out[k] = v;
  }
  return out;
}
