import { z } from "zod";
import { badRequest, notFound } from "../domain/api-error.js";
import type { Ctx } from "../domain/context.js";
import { allocateIp, findIps, freeIp, getIp, updateIp } from "../domain/ips.js";
import {
  addEvent,
  allocateMachine,
  findMachines,
  freeMachine,
  getMachine,
  setMachineState,
  updateMachine,
} from "../domain/machines.js";
import { allocateNetwork, findNetworks, freeNetwork, getNetwork } from "../domain/networks.js";
import {
  firewallCreateRequest,
  ipAllocateRequest,
  ipFindRequest,
  ipUpdateRequest,
  machineAllocateRequest,
  machineFindRequest,
  machineStateRequest,
  machineUpdateRequest,
  networkAllocateRequest,
  networkFindRequest,
  parseBody,
} from "../domain/requests.js";
import { ipResponse, machineResponse, networkResponse } from "../domain/responses.js";
import type { Role } from "./auth.js";
import { type Faults, faultsPatch } from "./faults.js";
import { createMachineJsonCache } from "./machine-json-cache.js";
import { stateView } from "./state-view.js";
import { UI_PAGE } from "./ui-page.js";

export interface Call {
  params: Record<string, string>;
  body: unknown;
  user: string;
}

export interface Reply {
  status: number;
  body?: unknown;
  /** The body already serialized as JSON (cached machine lists). */
  json?: Buffer;
  html?: string;
  /** Commit happened, but the answer is dropped (fault injection). */
  drop?: boolean;
}

export interface Route {
  method: "GET" | "POST" | "DELETE";
  path: string;
  /** Role metal-api requires; null: no authentication (health, emulator pages). */
  role: Role | null;
  handler: (c: Call) => Promise<Reply> | Reply;
}

export interface RouteEnv {
  ctx: Ctx;
  faults: Faults;
}

const ok = (body: unknown, status = 200): Reply => ({ status, body });
const okJson = (json: Buffer): Reply => ({ status: 200, json });

function getMachineOfRole(env: RouteEnv, id: string, role: "firewall") {
  const m = getMachine(env.ctx, id);
  if (m.allocation?.role !== role) throw notFound(`no firewall with id "${id}" found`);
  return m;
}

const emulatorMachinePatch = z
  .object({
    liveliness: z.enum(["Alive", "Dead", "Unknown"]).optional(),
    event: z
      .object({ event: z.string().min(1), message: z.string().default("") })
      .strict()
      .optional(),
    crash_loop: z.boolean().optional(),
    failed_machine_reclaim: z.boolean().optional(),
  })
  .strict();

export function buildRoutes(env: RouteEnv): Route[] {
  const { ctx } = env;
  const mr = (m: Parameters<typeof machineResponse>[1]) => machineResponse(ctx.store, m);
  const machineLists = createMachineJsonCache(ctx.store, mr);
  const allocate = (role: "machine" | "firewall") => async (c: Call) => {
    const req =
      role === "firewall"
        ? parseBody(firewallCreateRequest, c.body, "v1.FirewallCreateRequest")
        : parseBody(machineAllocateRequest, c.body, "v1.MachineAllocateRequest");
    const m = await allocateMachine(ctx, req, role, c.user);
    if (env.faults.dropAllocateResponses > 0) {
      env.faults.dropAllocateResponses--;
      return { status: 0, drop: true };
    }
    return ok(mr(m));
  };
  return [
    {
      method: "GET",
      path: "/v1/health",
      role: null,
      handler: () => ok({ status: "healthy", message: "", services: {} }),
    },

    {
      method: "GET",
      path: "/v1/machine",
      role: "view",
      handler: () => okJson(machineLists.list("all", () => [...ctx.store.machines.values()])),
    },
    {
      method: "POST",
      path: "/v1/machine/find",
      role: "view",
      handler: (c) => {
        const q = parseBody(machineFindRequest, c.body, "v1.MachineFindRequest");
        return okJson(machineLists.list(`find ${JSON.stringify(q)}`, () => findMachines(ctx, q)));
      },
    },
    {
      method: "GET",
      path: "/v1/machine/:id",
      role: "view",
      handler: (c) => ok(mr(getMachine(ctx, c.params.id!))),
    },
    {
      method: "POST",
      path: "/v1/machine",
      role: "admin",
      handler: async (c) =>
        ok(mr(await updateMachine(ctx, parseBody(machineUpdateRequest, c.body, "v1.MachineUpdateRequest")))),
    },
    { method: "POST", path: "/v1/machine/allocate", role: "edit", handler: allocate("machine") },
    {
      method: "DELETE",
      path: "/v1/machine/:id/free",
      role: "edit",
      handler: async (c) => ok(mr(await freeMachine(ctx, c.params.id!))),
    },
    {
      method: "POST",
      path: "/v1/machine/:id/state",
      role: "edit",
      handler: async (c) =>
        ok(
          mr(
            await setMachineState(
              ctx,
              c.params.id!,
              parseBody(machineStateRequest, c.body, "v1.MachineState"),
              c.user,
            ),
          ),
        ),
    },

    {
      method: "GET",
      path: "/v1/firewall",
      role: "view",
      handler: () => ok(findMachines(ctx, {}, "firewall").map(mr)),
    },
    {
      method: "POST",
      path: "/v1/firewall/find",
      role: "view",
      handler: (c) =>
        ok(
          findMachines(ctx, parseBody(machineFindRequest, c.body, "v1.FirewallFindRequest"), "firewall").map(
            mr,
          ),
        ),
    },
    {
      method: "GET",
      path: "/v1/firewall/:id",
      role: "view",
      handler: (c) => ok(mr(getMachineOfRole(env, c.params.id!, "firewall"))),
    },
    { method: "POST", path: "/v1/firewall/allocate", role: "edit", handler: allocate("firewall") },

    {
      method: "GET",
      path: "/v1/ip",
      role: "view",
      handler: () => ok([...ctx.store.ips.values()].map(ipResponse)),
    },
    {
      method: "POST",
      path: "/v1/ip/find",
      role: "view",
      handler: (c) => ok(findIps(ctx, parseBody(ipFindRequest, c.body, "v1.IPFindRequest")).map(ipResponse)),
    },
    {
      method: "GET",
      path: "/v1/ip/:id",
      role: "view",
      handler: (c) => ok(ipResponse(getIp(ctx, c.params.id!))),
    },
    {
      method: "POST",
      path: "/v1/ip",
      role: "edit",
      handler: async (c) =>
        ok(ipResponse(await updateIp(ctx, parseBody(ipUpdateRequest, c.body, "v1.IPUpdateRequest")))),
    },
    {
      method: "POST",
      path: "/v1/ip/allocate",
      role: "edit",
      handler: async (c) =>
        ok(
          ipResponse(await allocateIp(ctx, parseBody(ipAllocateRequest, c.body, "v1.IPAllocateRequest"))),
          201,
        ),
    },
    {
      method: "POST",
      path: "/v1/ip/allocate/:ip",
      role: "edit",
      handler: async (c) =>
        ok(
          ipResponse(
            await allocateIp(ctx, parseBody(ipAllocateRequest, c.body, "v1.IPAllocateRequest"), c.params.ip!),
          ),
          201,
        ),
    },
    {
      method: "DELETE",
      path: "/v1/ip/free/:id",
      role: "edit",
      handler: async (c) => ok(ipResponse(await freeIp(ctx, c.params.id!))),
    },

    {
      method: "GET",
      path: "/v1/network",
      role: "view",
      handler: () => ok([...ctx.store.networks.values()].map((n) => networkResponse(ctx.store, n))),
    },
    {
      method: "POST",
      path: "/v1/network/find",
      role: "view",
      handler: (c) =>
        ok(
          findNetworks(ctx, parseBody(networkFindRequest, c.body, "v1.NetworkFindRequest")).map((n) =>
            networkResponse(ctx.store, n),
          ),
        ),
    },
    {
      method: "GET",
      path: "/v1/network/:id",
      role: "view",
      handler: (c) => ok(networkResponse(ctx.store, getNetwork(ctx, c.params.id!))),
    },
    {
      method: "POST",
      path: "/v1/network/allocate",
      role: "edit",
      handler: async (c) =>
        ok(
          networkResponse(
            ctx.store,
            await allocateNetwork(
              ctx,
              parseBody(networkAllocateRequest, c.body, "v1.NetworkAllocateRequest"),
            ),
          ),
          201,
        ),
    },
    ...(["DELETE", "POST"] as const).map(
      (method): Route => ({
        method,
        path: "/v1/network/free/:id",
        role: "edit",
        handler: async (c) => {
          const n = getNetwork(ctx, c.params.id!);
          const body = networkResponse(ctx.store, n);
          await freeNetwork(ctx, c.params.id!);
          return ok(body);
        },
      }),
    ),

    ...catalogRoutes(env),

    { method: "GET", path: "/", role: null, handler: () => ({ status: 200, html: UI_PAGE }) },
    { method: "GET", path: "/emulator/state", role: null, handler: () => ok(stateView(ctx, env.faults)) },
    { method: "GET", path: "/emulator/faults", role: null, handler: () => ok(env.faults) },
    {
      method: "POST",
      path: "/emulator/faults",
      role: "admin",
      handler: (c) => {
        const r = faultsPatch.safeParse(c.body ?? {});
        if (!r.success)
          throw badRequest(
            `invalid faults: ${r.error.issues.map((i) => `${i.path.join(".") || i.message}: ${i.message}`).join("; ")}`,
          );
        Object.assign(
          env.faults,
          Object.fromEntries(Object.entries(r.data).filter(([, v]) => v !== undefined)),
        );
        ctx.log.warn({ faults: env.faults }, "fault injection changed");
        return ok(env.faults);
      },
    },
    {
      method: "POST",
      path: "/emulator/machines/:id",
      role: "admin",
      handler: async (c) => {
        const r = emulatorMachinePatch.safeParse(c.body ?? {});
        if (!r.success)
          throw badRequest(
            `invalid machine patch: ${r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
          );
        const m = getMachine(ctx, c.params.id!);
        if (r.data.liveliness) m.liveliness = r.data.liveliness;
        if (r.data.event) {
          addEvent(ctx, m, r.data.event.event, r.data.event.message);
          // the clock carries on from the injected event (or stops, e.g. after Crashed)
          ctx.schedule(m);
        }
        if (r.data.crash_loop !== undefined) m.crash_loop = r.data.crash_loop;
        if (r.data.failed_machine_reclaim !== undefined)
          m.failed_machine_reclaim = r.data.failed_machine_reclaim;
        m.changed = ctx.now().toISOString();
        await ctx.persist.commit();
        return ok(mr(m));
      },
    },
  ];
}

function catalogRoutes(env: RouteEnv): Route[] {
  const { catalog } = env.ctx.store;
  const kinds = [
    ["partition", catalog.partitions],
    ["size", catalog.sizes],
    ["image", catalog.images],
  ] as const;
  return kinds.flatMap(([kind, list]): Route[] => [
    { method: "GET", path: `/v1/${kind}`, role: "view", handler: () => ok(list) },
    {
      method: "GET",
      path: `/v1/${kind}/:id`,
      role: "view",
      handler: (c) => {
        const item = (list as readonly { id: string }[]).find((x) => x.id === c.params.id);
        if (!item) throw notFound(`no ${kind} with id "${c.params.id}" found`);
        return ok(item);
      },
    },
  ]);
}
