import type { Ctx } from "../domain/context.js";
import { ipResponse, networkType } from "../domain/responses.js";
import type { Faults } from "./faults.js";

/** GET /emulator/state: a compact, read-only view for people (and the page at /). */
export function stateView(ctx: Ctx, faults: Faults) {
  const machines = [...ctx.store.machines.values()];
  return {
    generatedAt: ctx.now().toISOString(),
    faults,
    partitions: ctx.store.catalog.partitions.map((p) => {
      const ms = machines.filter((m) => m.partitionid === p.id);
      return {
        id: p.id,
        name: p.name,
        machines: ms.length,
        allocated: ms.filter((m) => m.allocation).length,
        waiting: ms.filter((m) => !m.allocation && m.events[0]?.event === "Waiting").length,
      };
    }),
    sizes: ctx.store.catalog.sizes.map((s) => s.id),
    images: ctx.store.catalog.images.map((i) => ({ id: i.id, features: i.features })),
    machines: machines.map((m) => ({
      id: m.id,
      partition: m.partitionid,
      rack: m.rackid,
      size: m.sizeid,
      state: m.state.value,
      liveliness: m.liveliness,
      lastEvent: m.events[0]?.event ?? "",
      lastEventTime: m.last_event_time,
      freeing: m.freeing,
      allocation: m.allocation && {
        name: m.allocation.name,
        hostname: m.allocation.hostname,
        project: m.allocation.project,
        role: m.allocation.role,
        image: m.allocation.imageid,
        succeeded: m.allocation.succeeded,
        ips: m.allocation.networks.flatMap((n) => n.ips),
      },
      tags: m.tags,
    })),
    ips: [...ctx.store.ips.values()].map(ipResponse),
    networks: [...ctx.store.networks.values()].map((n) => ({
      id: n.id,
      name: n.name,
      partition: n.partitionid,
      project: n.projectid,
      type: networkType(n),
      prefixes: n.prefixes,
      parent: n.parentnetworkid,
      vrf: n.vrf,
      ips: ctx.store.ipsOfNetwork(n.id).length,
    })),
  };
}
