import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createLogger } from "@metal-kube/logging";
import { ApiError } from "./domain/api-error.js";
import type { Ctx } from "./domain/context.js";
import { createProvisioner } from "./domain/provisioning.js";
import { createAuthenticator, hasRole, missingRoleMessage } from "./http/auth.js";
import type { Faults } from "./http/faults.js";
import { buildRoutes, type Route } from "./http/routes.js";
import { parseInventory, readInventoryFile, stateFromInventory } from "./inventory/load-inventory.js";
import { type EmulatorOptions, parseOptions } from "./options.js";
import { KeyedMutex } from "./state/mutex.js";
import { createPersistence, loadSnapshot } from "./state/persistence.js";
import { Store } from "./state/store.js";
import type { MachineRecord, StateData } from "./state/types.js";

export interface Emulator {
  /** `http://host:port` as clients reach it (127.0.0.1 when listening on all interfaces). */
  readonly url: string;
  readonly port: number;
  readonly store: Store;
  /**
   * Changes a machine record the way a test injects trouble (crash loop, lock): the only way to mutate the
   * store from outside, since responses are cached until the next committed change.
   */
  updateMachine(id: string, change: (m: MachineRecord) => void): Promise<void>;
  /** Live fault settings (also changed through POST /emulator/faults). */
  readonly faults: Faults;
  /** Stops timers, closes connections and waits for pending state writes. */
  close(): Promise<void>;
}

const MAX_BODY = 4 * 1024 * 1024;

interface Compiled {
  route: Route;
  segs: string[];
}

function match(routes: Compiled[], method: string, path: string) {
  const segs = path.split("/").filter((s) => s !== "");
  let pathMatched = false;
  for (const c of routes) {
    if (c.segs.length !== segs.length) continue;
    const params: Record<string, string> = {};
    let okay = true;
    for (let i = 0; i < segs.length && okay; i++) {
      const want = c.segs[i]!;
      if (want.startsWith(":")) {
        try {
          params[want.slice(1)] = decodeURIComponent(segs[i]!);
        } catch {
          okay = false;
        }
      } else okay = want === segs[i];
    }
    if (!okay) continue;
    pathMatched = true;
    if (c.route.method === method) return { route: c.route, params };
  }
  return { pathMatched };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new ApiError(400, `request body larger than ${MAX_BODY} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown) {
  sendJson(res, status, JSON.stringify(body));
}

function sendJson(res: ServerResponse, status: number, json: string | Buffer) {
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(json) });
  res.end(json);
}

/** Starts the emulator: loads state (or the inventory), arms the provisioning clock and listens. */
export async function createEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const o = parseOptions(options);
  const log = o.logger ?? createLogger({ name: "metal-api-emulator" });
  let data: StateData | undefined = o.stateFile ? await loadSnapshot(o.stateFile) : undefined;
  if (data) log.info({ stateFile: o.stateFile, machines: data.machines.length }, "state restored");
  else {
    const inv =
      typeof o.inventory === "string" ? await readInventoryFile(o.inventory) : parseInventory(o.inventory);
    data = stateFromInventory(inv, o.now());
    log.info(
      {
        inventory: typeof o.inventory === "string" ? o.inventory : "(object)",
        machines: data.machines.length,
      },
      "inventory loaded",
    );
  }
  const store = new Store(data);
  const written = createPersistence(o.stateFile, () => store.snapshot());
  // Every mutation commits: the commit is where derived data (cached response JSON) goes stale.
  const persist: typeof written = {
    commit: () => {
      store.touch();
      return written.commit();
    },
    flush: () => written.flush(),
  };
  const provisioner = createProvisioner(() => ctx, o.provisioning);
  const ctx: Ctx = {
    store,
    persist,
    locks: new KeyedMutex(),
    log,
    now: o.now,
    schedule: (m, delay) => provisioner.schedule(m, delay),
  };
  if (o.stateFile) await persist.commit();
  provisioner.resume();
  const faults = o.faults;
  const routes: Compiled[] = buildRoutes({ ctx, faults }).map((route) => ({
    route,
    segs: route.path.split("/").filter((s) => s !== ""),
  }));
  const authenticate = createAuthenticator(o.auth);

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const started = performance.now();
    const method = req.method ?? "GET";
    const path = new URL(req.url ?? "/", "http://emulator").pathname;
    const api = path.startsWith("/v1/");
    if (api && faults.down) {
      req.socket.destroy();
      return;
    }
    let status = 500;
    try {
      const m = match(routes, method, path);
      if (!("route" in m) || !m.route) {
        throw m.pathMatched
          ? new ApiError(405, `method ${method} not allowed on ${path}`)
          : new ApiError(404, `no route for ${path}`);
      }
      const text = await readBody(req);
      let body: unknown;
      if (text.trim() !== "") {
        try {
          body = JSON.parse(text);
        } catch {
          throw new ApiError(400, "request body is not valid JSON");
        }
      }
      if (api && faults.latencyMs > 0) await new Promise((r) => setTimeout(r, faults.latencyMs));
      if (api && faults.errorRate > 0 && Math.random() < faults.errorRate)
        throw new ApiError(500, "injected fault");
      let user = "";
      if (m.route.role) {
        const a = authenticate(req.headers, method, o.now());
        if (!a.ok) throw new ApiError(403, a.message);
        if (!hasRole(a.role, m.route.role)) throw new ApiError(403, missingRoleMessage(m.route.role));
        user = a.user;
      }
      const reply = await m.route.handler({ params: m.params, body, user });
      if (reply.drop) {
        log.warn({ method, path }, "fault injection: answer dropped after commit");
        req.socket.destroy();
        return;
      }
      status = reply.status;
      if (reply.html !== undefined) {
        res.writeHead(status, { "content-type": "text/html; charset=utf-8" });
        res.end(reply.html);
      } else if (reply.json !== undefined) sendJson(res, status, reply.json);
      else send(res, status, reply.body);
    } catch (err) {
      if (err instanceof ApiError) status = err.status;
      else log.error({ err, method, path }, "request failed");
      send(res, status, {
        statuscode: status,
        message: err instanceof ApiError ? err.message : "internal error",
      });
    } finally {
      log.debug({ method, path, status, ms: Math.round(performance.now() - started) }, "request");
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      log.error({ err }, "request handler crashed");
      if (!res.headersSent) send(res, 500, { statuscode: 500, message: "internal error" });
    });
  });
  // longer than clients' idle timeout, so a kept-alive connection is closed by the client, not mid-request
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host =
    o.host === "0.0.0.0" || o.host === "::" ? "127.0.0.1" : o.host.includes(":") ? `[${o.host}]` : o.host;
  log.info({ port, host: o.host }, "metal-api emulator listening");
  return {
    url: `http://${host}:${port}`,
    port,
    store,
    faults,
    async updateMachine(id, change) {
      const m = store.machines.get(id);
      if (!m) throw new Error(`no machine ${id} in the emulator`);
      change(m);
      await persist.commit();
    },
    async close() {
      provisioner.stop();
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      await persist.flush();
    },
  };
}
