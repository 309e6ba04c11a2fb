// metal-api tags the integration reads and writes (`key=value` strings), and Kubernetes' well-known
// labels it puts on machines, in one place.

/** `cluster.metal-stack.io/id=<cluster>` on every machine and IP of a cluster. */
export const TAG_CLUSTER = "cluster.metal-stack.io/id";
/** `<TAG_CLUSTER_NAME>=<shoot name>` on a cluster's machines. */
export const TAG_CLUSTER_NAME = "cluster.metal-stack.io/name";
/** `<TAG_CLUSTER_PROJECT>=<Gardener project>` on a cluster's machines. */
export const TAG_CLUSTER_PROJECT = "cluster.metal-stack.io/project";
/** `<TAG_SERVICE>=<cluster>/<namespace>/<name>` on every IP serving a Service. */
export const TAG_SERVICE = "cluster.metal-stack.io/id/namespace/service";
/** `<TAG_EGRESS>=<cluster>` on the IPs a cluster's firewall uses for egress SNAT. */
export const TAG_EGRESS = "cluster.metal-stack.io/id/egress";
/** Set by metal-api on a machine's own IPs: such an IP is never freed through /v1/ip/free. */
export const TAG_MACHINE = "machine.metal-stack.io/id";
/** System tag metal-api puts on machines: the ASN of the primary network (the BGP peer's ASN). */
export const TAG_PRIMARY_ASN = "machine.metal-stack.io/network.primary.asn";
/** System tag metal-api puts on machines: the rack. */
export const TAG_RACK = "machine.metal-stack.io/rack";

/** Kubernetes' well-known labels the integration writes as machine tags or reads as node labels. */
export const LABEL_INSTANCE_TYPE = "node.kubernetes.io/instance-type";
export const LABEL_REGION = "topology.kubernetes.io/region";
export const LABEL_ZONE = "topology.kubernetes.io/zone";
export const LABEL_HOSTNAME = "kubernetes.io/hostname";

export const tagKey = (tag: string): string => {
  const i = tag.indexOf("=");
  return i < 0 ? tag : tag.slice(0, i);
};
export const tagValue = (tag: string): string => {
  const i = tag.indexOf("=");
  return i < 0 ? "" : tag.slice(i + 1);
};

/** `key=value`. */
export const tag = (key: string, value: string): string => `${key}=${value}`;

export const clusterTag = (cluster: string): string => tag(TAG_CLUSTER, cluster);
export const egressTag = (cluster: string): string => tag(TAG_EGRESS, cluster);
export const machineTag = (machineId: string): string => tag(TAG_MACHINE, machineId);
export const serviceTag = (cluster: string, namespace: string, name: string): string =>
  tag(TAG_SERVICE, `${cluster}/${namespace}/${name}`);

/** The values of every `key=` tag, in order. */
export const tagValues = (tags: readonly string[], key: string): string[] =>
  tags.filter((t) => tagKey(t) === key && t.length > key.length).map(tagValue);

/** `namespace/name` of a service tag of this cluster, else undefined. */
export function serviceOfTag(cluster: string, t: string): string | undefined {
  const prefix = `${TAG_SERVICE}=${cluster}/`;
  return t.startsWith(prefix) ? t.slice(prefix.length) : undefined;
}

/** True for tags that make an IP unusable for a Service: it serves a machine or a cluster's egress. */
export function isReservedTag(t: string): boolean {
  const k = tagKey(t);
  return k === TAG_MACHINE || k === TAG_EGRESS;
}
