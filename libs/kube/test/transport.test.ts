import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import test from "ava";
import { isGone, KubeError } from "../src/kube-error.js";
import { createTransport, type Transport } from "../src/transport.js";
import type { WatchEvent } from "../src/types.js";

// The transport against a local HTTP server that speaks the apiserver's wire format, so that framing,
// status mapping and every way a watch can end are exercised on real sockets.
type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function serve(
  handler: Handler,
): Promise<{ server: Server; transport: Transport; close: () => Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "c", server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: "tester", token: "secret-token" }],
    contexts: [{ name: "ctx", cluster: "c", user: "tester" }],
    currentContext: "ctx",
  });
  const transport = createTransport({ kubeConfig: kc, requestTimeoutMs: 2000 });
  return {
    server,
    transport,
    close: async () => {
      transport.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

const target = { verb: "watch", group: "demo.io", resource: "demos", namespace: "ns" };
const watchReq = (idleTimeoutMs = 2000) => ({
  method: "GET" as const,
  path: "/apis/demo.io/v1/namespaces/ns/demos",
  query: { watch: 1, resourceVersion: "5" },
  target,
  idleTimeoutMs,
});
const ev = (type: string, name: string, rv: string) =>
  `${JSON.stringify({ type, object: { metadata: { name, resourceVersion: rv } } })}\n`;

test("requests carry the bearer token and JSON; errors become KubeErrors naming verb and resource", async (t) => {
  let auth: string | undefined;
  const s = await serve((req, res) => {
    auth = req.headers.authorization;
    if (req.url?.includes("/forbidden")) {
      res.writeHead(403, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          kind: "Status",
          reason: "Forbidden",
          code: 403,
          message: 'User "system:serviceaccount:a:b" cannot get',
        }),
      );
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ metadata: { name: "x" }, path: req.url }));
  });
  const got = await s.transport.request<{ path: string }>({
    method: "GET",
    path: "/api/v1/namespaces/ns/configmaps/x",
    query: { labelSelector: "a=b,c in (d)", empty: undefined },
    target: { verb: "get", group: "", resource: "configmaps" },
  });
  t.is(got.path, "/api/v1/namespaces/ns/configmaps/x?labelSelector=a%3Db%2Cc%20in%20(d)");
  t.is(auth, "Bearer secret-token");
  const err = await t.throwsAsync(
    s.transport.request({
      method: "GET",
      path: "/forbidden",
      target: { verb: "get", group: "", resource: "secrets", namespace: "ns" },
    }),
  );
  t.true(err instanceof KubeError);
  t.is(
    err!.message,
    'forbidden: cannot get resource "secrets" in the core group in namespace "ns" (check the RBAC of system:serviceaccount:a:b)',
  );
  await s.close();
});

test("a watch delivers events split across chunks and resolves 'closed' when the server ends it", async (t) => {
  const s = await serve((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    const text = ev("ADDED", "a", "6") + ev("MODIFIED", "a", "7") + ev("BOOKMARK", "", "8");
    // Split mid-line to check framing.
    res.write(text.slice(0, 17));
    setTimeout(() => {
      res.write(text.slice(17, 80));
      setTimeout(() => res.end(text.slice(80)), 10);
    }, 10);
  });
  const events: WatchEvent[] = [];
  const end = await s.transport.watch(watchReq(), (e) => events.push(e));
  t.is(end, "closed");
  t.deepEqual(
    events.map((e) => `${e.type} ${e.object.metadata.resourceVersion}`),
    ["ADDED 6", "MODIFIED 7", "BOOKMARK 8"],
  );
  await s.close();
});

test("a silent watch ends 'idle' after the idle timeout", async (t) => {
  const s = await serve((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.write(ev("ADDED", "a", "6"));
    // ...and then nothing, as a dead connection behind a NAT would.
  });
  const started = Date.now();
  const end = await s.transport.watch(watchReq(200), () => {});
  t.is(end, "idle");
  t.true(Date.now() - started >= 190);
  await s.close();
});

test("an ERROR event thrown by the handler and a mid-stream reset reject with KubeErrors", async (t) => {
  let mode = "error";
  const s = await serve((req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    if (mode === "error") {
      res.end(
        `${JSON.stringify({ type: "ERROR", object: { kind: "Status", code: 410, reason: "Expired", message: "too old resource version: 5 (9)" } })}\n`,
      );
    } else {
      res.write(ev("ADDED", "a", "6"));
      setTimeout(() => req.socket.destroy(), 20);
    }
  });
  const gone = await t.throwsAsync(
    s.transport.watch(watchReq(), (e) => {
      if (e.type === "ERROR")
        throw new KubeError(target, (e.object as { code: number }).code, e.object as never);
    }),
  );
  t.true(isGone(gone));
  mode = "reset";
  const reset = await t.throwsAsync(s.transport.watch(watchReq(), () => {}));
  t.true(reset instanceof KubeError);
  t.is((reset as KubeError).status, 0);
  t.regex(reset!.message, /cannot reach the apiserver to watch resource "demos" in group "demo.io"/);
  await s.close();
});

test("an HTTP error on a watch and an aborted watch", async (t) => {
  const s = await serve((req, res) => {
    if (req.url?.includes("resourceVersion=5")) {
      res.writeHead(410, { "content-type": "application/json" });
      res.end(JSON.stringify({ kind: "Status", code: 410, reason: "Expired", message: "gone" }));
      return;
    }
    res.writeHead(200);
    res.write(ev("ADDED", "a", "6"));
  });
  t.true(isGone(await t.throwsAsync(s.transport.watch(watchReq(), () => {}))));
  const ac = new AbortController();
  const p = s.transport.watch({ ...watchReq(), query: { watch: 1 }, signal: ac.signal }, () => ac.abort());
  t.is(await p, "aborted");
  await s.close();
});

test("a server that never answers times the request out with a KubeError", async (t) => {
  const s = await serve(() => {});
  const err = await t.throwsAsync(
    s.transport.request({
      method: "GET",
      path: "/slow",
      target: { verb: "get", group: "", resource: "pods" },
      timeoutMs: 200,
    }),
  );
  t.true(err instanceof KubeError);
  t.is((err as KubeError).status, 0);
  await s.close();
});
