import test from "ava";
import fc from "fast-check";
import { isConflict } from "../src/kube-error.js";
import { createMergePatch, jsonEqual, mutateWithRetry } from "../src/patch.js";
import { createResourceClient } from "../src/resource-client.js";
import { createFakeApi } from "./helpers/fake-api.js";

const cms = { group: "", version: "v1", plural: "configmaps", kind: "ConfigMap" };
const BASE = "/api/v1/configmaps";

test("createMergePatch: changed, added and removed keys; nested objects; arrays whole", (t) => {
  t.deepEqual(
    createMergePatch(
      { a: 1, b: { c: 2, d: 3 }, e: [1, 2], gone: "x", same: { k: 1 } },
      { a: 2, b: { c: 2, d: 4, n: 5 }, e: [1, 2, 3], same: { k: 1 } },
    ),
    { a: 2, b: { d: 4, n: 5 }, e: [1, 2, 3], gone: null },
  );
  t.is(createMergePatch({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }), undefined);
  t.is(createMergePatch({ a: undefined, b: 1 }, { b: 1 }), undefined, "undefined is absent on both sides");
  t.throws(() => createMergePatch([], {}), { message: /JSON objects/ });
});

/** RFC 7386 applied, to check that a computed patch turns one object into the other. */
function applyMerge(target: unknown, patch: unknown): unknown {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    typeof target === "object" && target !== null && !Array.isArray(target) ? { ...(target as object) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMerge(out[k], v);
  }
  return out;
}

test("createMergePatch round-trips: apply(original, patch) == modified", (t) => {
  // null never occurs as a value: in a merge patch it means "remove".
  const json = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: "small" },
      fc.integer(),
      fc.string(),
      fc.boolean(),
      fc.array(tie("value"), { maxLength: 3 }),
      tie("object"),
    ),
    object: fc.dictionary(fc.constantFrom("a", "b", "c", "d"), tie("value"), { maxKeys: 4 }),
  }));
  fc.assert(
    fc.property(json.object, json.object, (a, b) => {
      const p = createMergePatch(a, b);
      const result = p ? applyMerge(a, p) : a;
      return jsonEqual(result, b);
    }),
  );
  t.pass();
});

test("mutateWithRetry: retries a 409 with a fresh read and applies the mutation to it", async (t) => {
  const api = createFakeApi();
  const client = createResourceClient(api.transport, cms);
  const v1 = api.put(BASE, { metadata: { name: "c", namespace: "ns" }, data: { a: "1" } });
  api.put(BASE, { metadata: { name: "c", namespace: "ns" }, data: { a: "1", other: "writer" } });
  const out = await mutateWithRetry(
    client,
    { name: "c", namespace: "ns" },
    (o) => {
      o.data.mine = "yes";
    },
    { current: v1 },
  );
  t.deepEqual(out.data, { a: "1", other: "writer", mine: "yes" });
  t.deepEqual(
    api.log.map((l) => l.split(" ")[0]),
    ["PATCH", "GET", "PATCH"],
  );
});

test("mutateWithRetry: no difference, no request", async (t) => {
  const api = createFakeApi();
  const client = createResourceClient(api.transport, cms);
  const cur = api.put(BASE, { metadata: { name: "c", namespace: "ns" }, data: { a: "1" } });
  const out = await mutateWithRetry(client, { name: "c", namespace: "ns" }, () => {}, { current: cur });
  t.is(out, cur);
  t.deepEqual(api.log, []);
});

test("mutateWithRetry: gives up after the configured attempts with the Conflict error", async (t) => {
  const api = createFakeApi();
  const client = createResourceClient(api.transport, cms);
  api.put(BASE, { metadata: { name: "c", namespace: "ns" }, data: {} });
  api.failNext((r) => r.method === "PATCH", 409, 10);
  const err = await t.throwsAsync(
    mutateWithRetry(
      client,
      { name: "c", namespace: "ns" },
      (o) => {
        o.data.x = "y";
      },
      { attempts: 3 },
    ),
  );
  t.true(isConflict(err));
  t.is(api.log.filter((l) => l.startsWith("PATCH")).length, 3);
});

test("mutateWithRetry on the status subresource sends the status patch there", async (t) => {
  const api = createFakeApi();
  const client = createResourceClient(api.transport, {
    group: "demo.io",
    version: "v1",
    plural: "demos",
    kind: "Demo",
  });
  api.put("/apis/demo.io/v1/demos", { metadata: { name: "d", namespace: "ns" }, spec: { a: 1 } });
  await mutateWithRetry(
    client,
    { name: "d", namespace: "ns" },
    (o) => {
      o.status = { ok: true };
    },
    { subresource: "status" },
  );
  t.true(api.log.includes("PATCH /apis/demo.io/v1/namespaces/ns/demos/d/status"));
  t.deepEqual(api.get("/apis/demo.io/v1/demos", "ns/d")?.status, { ok: true });
});

test("resource client: JSON patch content type, paths for core, custom and cluster-scoped resources", async (t) => {
  const seen: { path: string; contentType?: string; body?: unknown }[] = [];
  const transport = {
    identity: "x",
    server: "https://x",
    close() {},
    watch: async () => "closed" as const,
    request: async <T>(req: { path: string; contentType?: string; body?: unknown }) => {
      seen.push({ path: req.path, contentType: req.contentType, body: req.body });
      return {} as T;
    },
  };
  const core = createResourceClient(transport, cms);
  const nodes = createResourceClient(transport, {
    group: "",
    version: "v1",
    plural: "nodes",
    namespaced: false,
  });
  await core.jsonPatch({ name: "c", namespace: "ns" }, [{ op: "add", path: "/data/x", value: "1" }]);
  await nodes.mergePatch({ name: "n1" }, { metadata: { labels: { a: "b" } } });
  await core.patchStatus({ name: "c", namespace: "ns" }, { x: 1 });
  t.deepEqual(seen[0], {
    path: "/api/v1/namespaces/ns/configmaps/c",
    contentType: "application/json-patch+json",
    body: [{ op: "add", path: "/data/x", value: "1" }],
  });
  t.is(seen[1]!.path, "/api/v1/nodes/n1");
  t.is(seen[1]!.contentType, "application/merge-patch+json");
  t.deepEqual(seen[2], {
    path: "/api/v1/namespaces/ns/configmaps/c/status",
    contentType: "application/merge-patch+json",
    body: { status: { x: 1 } },
  });
  await t.throwsAsync(core.get({ name: "c" }), { message: /namespace is required/ });
});
