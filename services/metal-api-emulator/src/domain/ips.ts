import { randomUUID } from "node:crypto";
import type { z } from "zod";
import { formatAddress, nextFreeAddress, parseAddress, parsePrefix, prefixContains } from "../state/ipam.js";
import type { IpRecord, NetworkRecord } from "../state/types.js";
import { ApiError, badRequest, conflict, notFound, unprocessable } from "./api-error.js";
import { type Ctx, iso } from "./context.js";
import type { ipAllocateRequest, ipFindRequest, ipUpdateRequest } from "./requests.js";
import { ipMachineIds, machineTag } from "./tags.js";

export interface NewIp {
  projectid: string;
  name: string;
  description: string;
  type: "ephemeral" | "static";
  tags: string[];
}

const familyOf = (af: "IPv4" | "IPv6" | undefined): 4 | 6 | undefined =>
  af === "IPv6" ? 6 : af === "IPv4" ? 4 : undefined;

/** Takes an address of `network` (the given one, or the first free one) and stores the IP. */
export function allocateAddressIn(
  ctx: Ctx,
  network: NetworkRecord,
  ip: NewIp,
  specific?: string,
  family?: 4 | 6,
): IpRecord {
  const prefixes = network.prefixes.map((p) => parsePrefix(p)!);
  let address: string | undefined;
  let parent: string | undefined;
  if (specific !== undefined) {
    const a = parseAddress(specific);
    if (!a) throw unprocessable(`unable to parse specific ip: ${specific}`);
    const p = prefixes.find((x) => prefixContains(x, a.family, a.value));
    if (!p) throw unprocessable("specific ip not contained in any of the defined prefixes");
    address = formatAddress(a.family, a.value);
    if (ctx.store.ips.has(address)) throw conflict("ip already allocated");
    parent = p.text;
  } else {
    const fam = family ?? (prefixes.some((p) => p.family === 4) ? 4 : 6);
    for (const p of prefixes.filter((x) => x.family === fam)) {
      address = nextFreeAddress(p, (a) => ctx.store.ips.has(a));
      if (address) {
        parent = p.text;
        break;
      }
    }
    if (!address) throw new ApiError(500, "cannot allocate free ip in ipam, no ips left");
  }
  const now = iso(ctx);
  const rec: IpRecord = {
    ipaddress: address,
    allocationuuid: randomUUID(),
    networkid: network.id,
    projectid: ip.projectid,
    type: ip.type,
    name: ip.name,
    description: ip.description,
    tags: [...new Set(ip.tags)],
    parentprefix: parent!,
    created: now,
    changed: now,
  };
  ctx.store.ips.set(address, rec);
  return rec;
}

export function getIp(ctx: Ctx, id: string): IpRecord {
  const a = parseAddress(id);
  const ip = ctx.store.ips.get(a ? formatAddress(a.family, a.value) : id);
  if (!ip) throw notFound(`no ip with id "${id}" found`);
  return ip;
}

/** POST /v1/ip/allocate and /v1/ip/allocate/{ip} (201). */
export async function allocateIp(
  ctx: Ctx,
  req: z.output<typeof ipAllocateRequest>,
  specific?: string,
): Promise<IpRecord> {
  if (req.networkid === "") throw badRequest("networkid should not be empty");
  if (req.projectid === "") throw badRequest("projectid should not be empty");
  const nw = ctx.store.networks.get(req.networkid);
  if (!nw) throw notFound(`no network with id "${req.networkid}" found`);
  const fam = familyOf(req.addressfamily);
  if (fam !== undefined) {
    if (!nw.prefixes.some((p) => parsePrefix(p)!.family === fam)) {
      throw badRequest(
        `there is no prefix for the given addressfamily:${req.addressfamily} present in network:${req.networkid}`,
      );
    }
    if (specific !== undefined)
      throw badRequest("it is not possible to specify specificIP and addressfamily");
  }
  if (!nw.shared && nw.parentnetworkid !== "" && nw.projectid !== req.projectid) {
    throw unprocessable(
      `can not allocate ip for project "${req.projectid}" because network belongs to "${nw.projectid}" and the network is not shared`,
    );
  }
  const tags = [...(req.tags ?? []), ...(req.machineid ? [machineTag(req.machineid)] : [])];
  const ip = allocateAddressIn(
    ctx,
    nw,
    {
      projectid: req.projectid,
      name: req.name ?? "",
      description: req.description ?? "",
      type: req.type,
      tags,
    },
    specific,
    fam,
  );
  await ctx.persist.commit();
  return ip;
}

/** POST /v1/ip: type, name, description, tags; static -> ephemeral is refused. */
export async function updateIp(ctx: Ctx, req: z.output<typeof ipUpdateRequest>): Promise<IpRecord> {
  const ip = getIp(ctx, req.ipaddress);
  if (ip.type === "static" && req.type === "ephemeral") {
    throw badRequest("cannot change type of ip address from static to ephemeral");
  }
  if (req.name !== undefined) ip.name = req.name;
  if (req.description !== undefined) ip.description = req.description;
  if (req.tags !== undefined) ip.tags = [...new Set(req.tags)];
  ip.type = req.type;
  ip.changed = iso(ctx);
  await ctx.persist.commit();
  return ip;
}

/** DELETE /v1/ip/free/{ip}: 400 while a machine uses the IP. */
export async function freeIp(ctx: Ctx, id: string): Promise<IpRecord> {
  const ip = getIp(ctx, id);
  if (ipMachineIds(ip).length > 0) throw badRequest("ip with machine scope can not be deleted");
  ctx.store.ips.delete(ip.ipaddress);
  await ctx.persist.commit();
  return ip;
}

export function findIps(ctx: Ctx, q: z.output<typeof ipFindRequest>): IpRecord[] {
  const address =
    q.ipaddress !== undefined
      ? parseAddress(q.ipaddress)
        ? getCanonical(q.ipaddress)
        : q.ipaddress
      : undefined;
  const prefix =
    q.networkprefix !== undefined ? (parsePrefix(q.networkprefix)?.text ?? q.networkprefix) : undefined;
  const fam = familyOf(q.addressfamily);
  return [...ctx.store.ips.values()].filter(
    (ip) =>
      (address === undefined || ip.ipaddress === address) &&
      (q.allocationuuid === undefined || ip.allocationuuid === q.allocationuuid) &&
      (q.networkid === undefined || ip.networkid === q.networkid) &&
      (prefix === undefined || ip.parentprefix === prefix) &&
      (q.projectid === undefined || ip.projectid === q.projectid) &&
      (q.machineid === undefined || ip.tags.includes(machineTag(q.machineid))) &&
      (q.name === undefined || ip.name === q.name) &&
      (q.type === undefined || ip.type === q.type) &&
      (!q.tags || q.tags.every((t) => ip.tags.includes(t))) &&
      (fam === undefined || ip.ipaddress.includes(":") === (fam === 6)),
  );
}

const getCanonical = (s: string) => {
  const a = parseAddress(s)!;
  return formatAddress(a.family, a.value);
};
