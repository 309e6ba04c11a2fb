import { randomUUID } from "node:crypto";
import type { z } from "zod";
import { nextFreeChild, type Prefix, parsePrefix } from "../state/ipam.js";
import type { NetworkRecord } from "../state/types.js";
import { badRequest, notFound, unprocessable } from "./api-error.js";
import { type Ctx, iso } from "./context.js";
import type { networkAllocateRequest, networkFindRequest } from "./requests.js";

/** First VRF handed to allocated tenant networks. */
export const VRF_BASE = 30;

export function getNetwork(ctx: Ctx, id: string): NetworkRecord {
  const n = ctx.store.networks.get(id);
  if (!n) throw notFound(`no network with id "${id}" found`);
  return n;
}

/** POST /v1/network/allocate (201): a child of the partition's private super network. */
export async function allocateNetwork(
  ctx: Ctx,
  req: z.output<typeof networkAllocateRequest>,
): Promise<NetworkRecord> {
  if (!req.partitionid) throw badRequest("partition id should not be empty");
  if (!req.projectid) throw badRequest("project id should not be empty");
  if (!ctx.store.catalog.partitions.some((p) => p.id === req.partitionid)) {
    throw notFound(`no partition with id "${req.partitionid}" found`);
  }
  const partition = req.partitionid;
  return ctx.locks.run(`network/${partition}`, async () => {
    const all = [...ctx.store.networks.values()];
    const superNet = all.find((n) => n.privatesuper && n.partitionid === partition);
    if (!superNet) throw unprocessable(`no supernetwork found for partition:${partition}`);
    const superPrefixes = superNet.prefixes.map((p) => parsePrefix(p)!);
    const af = req.addressfamily ?? (superPrefixes.some((p) => p.family === 4) ? "IPv4" : "IPv6");
    const family = af === "IPv4" ? 4 : 6;
    const bits = req.length?.[af] ?? superNet.defaultchildprefixlength?.[af];
    if (bits === undefined)
      throw unprocessable(`no default child prefix length for ${af} in supernetwork ${superNet.id}`);
    const taken: Prefix[] = all
      .filter((n) => n.id !== superNet.id)
      .flatMap((n) => n.prefixes.map((p) => parsePrefix(p)!));
    let child: Prefix | undefined;
    for (const sp of superPrefixes.filter((p) => p.family === family)) {
      child = nextFreeChild(sp, bits, taken);
      if (child) break;
    }
    if (!child) throw unprocessable(`no free prefix of length /${bits} left in supernetwork ${superNet.id}`);
    const vrfs = new Set(all.map((n) => n.vrf));
    let vrf = VRF_BASE;
    while (vrfs.has(vrf)) vrf++;
    const now = iso(ctx);
    const n: NetworkRecord = {
      id: randomUUID(),
      name: req.name ?? "",
      description: req.description ?? "",
      partitionid: partition,
      projectid: req.projectid!,
      parentnetworkid: superNet.id,
      prefixes: [child.text],
      destinationprefixes: req.destinationprefixes ?? [],
      additionalAnnouncableCIDRs: [],
      labels: req.labels ?? {},
      nat: req.nat ?? false,
      privatesuper: false,
      underlay: false,
      shared: req.shared ?? false,
      vrf,
      vrfshared: false,
      created: now,
      changed: now,
    };
    ctx.store.networks.set(n.id, n);
    await ctx.persist.commit();
    ctx.log.info({ network: n.id, prefix: child.text, project: n.projectid }, "network allocated");
    return n;
  });
}

/** DELETE /v1/network/free/{id}: only allocated (child) networks without IPs. */
export async function freeNetwork(ctx: Ctx, id: string): Promise<NetworkRecord> {
  const n = getNetwork(ctx, id);
  if (!n.parentnetworkid) throw badRequest(`network ${id} is not a child network and cannot be freed`);
  const ips = ctx.store.ipsOfNetwork(id);
  if (ips.length > 0)
    throw unprocessable(
      `there are still ${ips.length} ips present in one of the prefixes: ${n.prefixes.join(", ")}`,
    );
  ctx.store.networks.delete(id);
  await ctx.persist.commit();
  return n;
}

export function findNetworks(ctx: Ctx, q: z.output<typeof networkFindRequest>): NetworkRecord[] {
  const want = (xs: string[] | undefined) => xs?.map((p) => parsePrefix(p)?.text ?? p);
  const prefixes = want(q.prefixes);
  const dest = want(q.destinationprefixes);
  const fam = q.addressfamily === "IPv6" ? 6 : q.addressfamily === "IPv4" ? 4 : undefined;
  return [...ctx.store.networks.values()].filter(
    (n) =>
      (q.id === undefined || n.id === q.id) &&
      (q.name === undefined || n.name === q.name) &&
      (q.partitionid === undefined || n.partitionid === q.partitionid) &&
      (q.projectid === undefined || n.projectid === q.projectid) &&
      (q.parentnetworkid === undefined || n.parentnetworkid === q.parentnetworkid) &&
      (!prefixes || prefixes.every((p) => n.prefixes.includes(p))) &&
      (!dest || dest.every((p) => n.destinationprefixes.includes(p))) &&
      (!q.labels || Object.entries(q.labels).every(([k, v]) => n.labels[k] === v)) &&
      (q.nat === undefined || n.nat === q.nat) &&
      (q.privatesuper === undefined || n.privatesuper === q.privatesuper) &&
      (q.underlay === undefined || n.underlay === q.underlay) &&
      (q.vrf === undefined || n.vrf === q.vrf) &&
      (fam === undefined || n.prefixes.some((p) => parsePrefix(p)?.family === fam)),
  );
}
