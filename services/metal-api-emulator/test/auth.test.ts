import { hmacHeaders, isForbidden, type MetalApiError } from "@metal-kube/metal-api";
import test from "ava";
import { allocation, inventory, KEYS, projectNetwork, startEmulator } from "./harness.js";

// Tokens for the bearer cases: one plain, one JWT already expired.
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
const EXPIRED_JWT = `${b64({ alg: "none" })}.${b64({ sub: "x", exp: 1_000_000 })}.sig`;

async function raw(
  url: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { statuscode: number; message: string } };
}

test("a wrong key, a stale date, a bad signature and no auth all give 403 with metal-api's body", async (t) => {
  const h = await startEmulator({ inventory: inventory() });
  t.teardown(() => h.close());
  const wrong = h.client("Metal-View", { hmac: "guessed" });
  t.true(isForbidden(await t.throwsAsync(wrong.size.list())));
  const stale = h.client("Metal-Edit", { now: () => new Date(Date.now() - 31_000) });
  const e = (await t.throwsAsync(stale.size.list())) as MetalApiError;
  t.is(e.status, 403);
  t.regex(e.metalMessage!, /too old/);
  // admin keys live 90 s, like metal-api's default
  const staleAdmin = h.client("Metal-Admin", { now: () => new Date(Date.now() - 60_000) });
  t.is((await staleAdmin.size.list()).length, 2);

  const none = await raw(h.url, "GET", "/v1/size", {});
  t.deepEqual(none, { status: 403, body: { statuscode: 403, message: "no auth found" } });
  const signed = hmacHeaders({ key: KEYS["Metal-View"], authType: "Metal-View", method: "GET" });
  const tamperedSalt = await raw(h.url, "GET", "/v1/size", { ...signed, "x-data-salt": "x".repeat(24) });
  t.deepEqual(tamperedSalt.body, { statuscode: 403, message: "Wrong HMAC found" });
  // the method is signed: a GET signature does not authorise a POST
  const wrongMethod = await raw(h.url, "POST", "/v1/machine/find", signed, {});
  t.is(wrongMethod.status, 403);
  t.is((await raw(h.url, "GET", "/v1/size", signed)).status, 200);
  // health needs no auth
  t.is((await raw(h.url, "GET", "/v1/health", {})).status, 200);
});

test("roles per endpoint: view reads, edit allocates and frees, admin updates machines", async (t) => {
  const h = await startEmulator({ inventory: inventory() });
  t.teardown(() => h.close());
  const view = h.client("Metal-View");
  const edit = h.client("Metal-Edit");
  t.true((await view.machine.find({})).length > 0);
  const e = (await t.throwsAsync(
    view.network.allocate({ partitionid: "p1", projectid: "a" }),
  )) as MetalApiError;
  t.is(e.status, 403);
  t.regex(e.metalMessage!, /not member in one of/);
  t.true(
    isForbidden(
      await t.throwsAsync(view.ip.allocate({ networkid: "internet", projectid: "a", type: "static" })),
    ),
  );
  const net = await projectNetwork(edit);
  const m = await edit.machine.allocate(allocation(net.id));
  t.true(isForbidden(await t.throwsAsync(view.machine.free(m.id))));
  t.true(isForbidden(await t.throwsAsync(edit.machine.update({ id: m.id, description: "d" }))));
  t.is(
    (await h.client("Metal-Admin").machine.update({ id: m.id, description: "d" })).allocation?.description,
    "d",
  );
  // the control endpoints need admin too
  const f = await raw(
    h.url,
    "POST",
    "/emulator/faults",
    hmacHeaders({ key: KEYS["Metal-Edit"], authType: "Metal-Edit", method: "POST" }),
    {
      down: true,
    },
  );
  t.is(f.status, 403);
  t.false(h.emulator.faults.down);
});

test("bearer tokens: a configured token has its role, an unknown or expired one gives 403", async (t) => {
  const h = await startEmulator({
    inventory: inventory(),
    tokens: { view: "view-token", edit: EXPIRED_JWT },
  });
  t.teardown(() => h.close());
  const viewer = h.client(undefined, { hmac: undefined, hmacAuthType: undefined, token: "view-token" });
  t.is((await viewer.size.list()).length, 2);
  t.true(isForbidden(await t.throwsAsync(viewer.network.allocate({ partitionid: "p1", projectid: "a" }))));
  const stranger = h.client(undefined, { hmac: undefined, hmacAuthType: undefined, token: "stolen" });
  t.true(isForbidden(await t.throwsAsync(stranger.size.list())));
  const expired = h.client(undefined, { hmac: undefined, hmacAuthType: undefined, token: EXPIRED_JWT });
  const e = (await t.throwsAsync(expired.size.list())) as MetalApiError;
  t.is(e.metalMessage, "token is expired");
});
