import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import test from "ava";
import {
  createMetalApiClient,
  isNoMachineAvailable,
  isNotFound,
  MetalApiError,
  verifyHmac,
} from "../src/index.js";

// A scripted HTTP server on loopback: each test decides per request what happens, and sees what arrived.
interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}
type Handler = (req: Seen, res: ServerResponse, n: number) => void;

async function serve(t: { teardown(fn: () => unknown): void }, handler: Handler) {
  const seen: Seen[] = [];
  let connections = 0;
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      const s = { method: req.method!, url: req.url!, headers: req.headers, body };
      seen.push(s);
      handler(s, res, seen.length);
    });
  });
  server.on("connection", () => connections++);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, seen, connections: () => connections };
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
};

const fast = { retryBaseDelayMs: 1, retryMaxDelayMs: 5 };

test("HMAC headers verify on the server side; body and path as on the wire", async (t) => {
  const srv = await serve(t, (_req, res) => json(res, 200, { id: "m1" }));
  const c = createMetalApiClient({ url: srv.url, hmac: "edit-key", hmacAuthType: "Metal-Edit" });
  t.teardown(() => c.close());
  await c.machine.find({ partition_id: "p1", tags: ["a=b"] });
  const s = srv.seen[0]!;
  t.is(s.method, "POST");
  t.is(s.url, "/v1/machine/find");
  t.deepEqual(JSON.parse(s.body), { partition_id: "p1", tags: ["a=b"] });
  t.is(s.headers["content-type"], "application/json");
  const v = verifyHmac(
    {
      authorization: s.headers.authorization,
      date: s.headers["x-date"] as string,
      salt: s.headers["x-data-salt"] as string,
    },
    "POST",
    { "Metal-Edit": { key: "edit-key", lifetimeMs: 30_000 } },
  );
  t.deepEqual(v, { ok: true, authType: "Metal-Edit" });
});

test("bearer token, base path and path escaping", async (t) => {
  const srv = await serve(t, (_req, res) => json(res, 200, { ipaddress: "10.0.0.1" }));
  const c = createMetalApiClient({ url: `${srv.url}/metal/`, token: "jwt.token.here" });
  t.teardown(() => c.close());
  await c.ip.get("2001:db8::1");
  t.is(srv.seen[0]!.url, "/metal/v1/ip/2001%3Adb8%3A%3A1");
  t.is(srv.seen[0]!.headers.authorization, "Bearer jwt.token.here");
  t.is(srv.seen[0]!.headers["x-date"], undefined);
});

test("metal-api errors become MetalApiError with status, message and operation", async (t) => {
  const srv = await serve(t, (req, res) => {
    if (req.url.startsWith("/v1/machine/allocate"))
      json(res, 422, { statuscode: 422, message: "no machine available" });
    else if (req.url.startsWith("/v1/size")) {
      res.writeHead(502);
      res.end("<html>bad gateway</html>");
    } else json(res, 404, { statuscode: 404, message: "machine not found" });
  });
  const c = createMetalApiClient({ url: srv.url, hmac: "k", retries: 0 });
  t.teardown(() => c.close());
  const nf = await t.throwsAsync(c.machine.get("nope"), { instanceOf: MetalApiError });
  t.true(isNotFound(nf));
  t.is(nf!.status, 404);
  t.is(nf!.metalMessage, "machine not found");
  t.is(nf!.operation, "machine.get");
  t.false(nf!.isNoMachineAvailable());
  const na = await t.throwsAsync(
    c.machine.allocate({ projectid: "p", partitionid: "x", sizeid: "s", imageid: "i", ssh_pub_keys: [] }),
  );
  t.true(isNoMachineAvailable(na));
  t.false(isNotFound(na));
  const bg = await t.throwsAsync(c.size.list(), { instanceOf: MetalApiError });
  t.is(bg!.status, 502);
  t.is(bg!.metalMessage, "<html>bad gateway</html>");
  t.true(bg!.isUnavailable());
});

test("reads are retried on 5xx and on connection errors, then succeed", async (t) => {
  const srv = await serve(t, (_req, res, n) => {
    if (n === 1) json(res, 503, { statuscode: 503, message: "busy" });
    else if (n === 2) res.socket?.destroy();
    else json(res, 200, [{ id: "p1" }]);
  });
  const c = createMetalApiClient({ url: srv.url, hmac: "k", ...fast });
  t.teardown(() => c.close());
  t.deepEqual(await c.partition.list(), [{ id: "p1" }] as never);
  t.is(srv.seen.length, 3);
  // Each attempt is signed afresh: a new salt every time.
  t.is(new Set(srv.seen.map((s) => s.headers["x-data-salt"])).size, 3);
});

test("an allocate is never retried, neither on 5xx nor on a lost connection", async (t) => {
  const srv = await serve(t, (req, res) => {
    if (req.url === "/v1/machine/allocate") res.socket?.destroy();
    else json(res, 500, { statuscode: 500, message: "boom" });
  });
  const c = createMetalApiClient({ url: srv.url, hmac: "k", retries: 5, ...fast });
  t.teardown(() => c.close());
  const req = { projectid: "p", partitionid: "x", sizeid: "s", imageid: "i", ssh_pub_keys: [] };
  const lost = await t.throwsAsync(c.machine.allocate(req), { instanceOf: MetalApiError });
  t.is(lost!.kind, "connection");
  t.is(lost!.attempts, 1);
  t.true(lost!.isUnavailable());
  await t.throwsAsync(c.firewall.allocate(req), { instanceOf: MetalApiError });
  await t.throwsAsync(c.ip.allocate({ networkid: "n", projectid: "p", type: "ephemeral" }));
  await t.throwsAsync(c.network.allocate({ partitionid: "x", projectid: "p" }));
  t.deepEqual(
    srv.seen.map((s) => s.url),
    ["/v1/machine/allocate", "/v1/firewall/allocate", "/v1/ip/allocate", "/v1/network/allocate"],
  );
});

test("idempotent writes (free, update) are retried on a lost connection", async (t) => {
  const srv = await serve(t, (_req, res, n) => {
    if (n === 1) res.socket?.destroy();
    else json(res, 200, { id: "m1" });
  });
  const c = createMetalApiClient({ url: srv.url, hmac: "k", ...fast });
  t.teardown(() => c.close());
  await c.machine.free("m1");
  t.is(srv.seen.length, 2);
  t.true(srv.seen.every((s) => s.method === "DELETE" && s.url === "/v1/machine/m1/free"));
});

test("retries stop after the configured number of attempts", async (t) => {
  const srv = await serve(t, (_req, res) => json(res, 500, { statuscode: 500, message: "down" }));
  const c = createMetalApiClient({ url: srv.url, hmac: "k", retries: 2, ...fast });
  t.teardown(() => c.close());
  const e = await t.throwsAsync(c.image.list(), { instanceOf: MetalApiError });
  t.is(e!.attempts, 3);
  t.is(srv.seen.length, 3);
});

test("per-call timeout and AbortSignal end a hanging call", async (t) => {
  const srv = await serve(t, () => {
    /* never answers */
  });
  const c = createMetalApiClient({ url: srv.url, hmac: "k", timeoutMs: 60_000 });
  t.teardown(() => c.close());
  const started = Date.now();
  const to = await t.throwsAsync(c.machine.get("m1", { timeoutMs: 150 }), { instanceOf: MetalApiError });
  t.is(to!.kind, "timeout");
  t.true(Date.now() - started < 2000);
  const ac = new AbortController();
  setTimeout(() => ac.abort(new Error("user gave up")), 50);
  const ab = await t.throwsAsync(c.machine.get("m1", { signal: ac.signal }), { instanceOf: MetalApiError });
  t.is(ab!.kind, "aborted");
  const pre = await t.throwsAsync(c.machine.get("m1", { signal: AbortSignal.abort() }), {
    instanceOf: MetalApiError,
  });
  t.is(pre!.kind, "aborted");
});

test("the deadline also bounds the retries", async (t) => {
  const srv = await serve(t, (_req, res) => json(res, 503, { statuscode: 503, message: "busy" }));
  const c = createMetalApiClient({
    url: srv.url,
    hmac: "k",
    retries: 100,
    retryBaseDelayMs: 50,
    retryMaxDelayMs: 50,
  });
  t.teardown(() => c.close());
  const e = await t.throwsAsync(c.size.list({ timeoutMs: 300 }), { instanceOf: MetalApiError });
  t.is(e!.kind, "timeout");
  t.true(srv.seen.length < 100);
});

test("keep-alive: many sequential calls reuse their connections", async (t) => {
  const srv = await serve(t, (_req, res) => json(res, 200, { status: "healthy", message: "" }));
  const c = createMetalApiClient({ url: srv.url, hmac: "k" });
  t.teardown(() => c.close());
  for (let i = 0; i < 25; i++) await c.health();
  t.is(srv.seen.length, 25);
  // undici's pool may open a second socket when the next call starts before the first socket's drain
  // event; what matters is that the count stays flat instead of one connection per call.
  t.true(srv.connections() <= 2, `${srv.connections()} connections for 25 calls`);
});

test("health returns an unhealthy (500) answer instead of throwing", async (t) => {
  const srv = await serve(t, (_req, res) =>
    json(res, 500, { status: "unhealthy", message: "rethinkdb down" }),
  );
  const c = createMetalApiClient({ url: srv.url, hmac: "k" });
  t.teardown(() => c.close());
  t.deepEqual(await c.health(), { status: "unhealthy", message: "rethinkdb down" });
  t.is(srv.seen.length, 1);
});

test("https with a private CA given as caCert; without it the certificate is refused", async (t) => {
  const { execFileSync } = await import("node:child_process");
  const { readFileSync, mkdtempSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { createServer: createHttpsServer } = await import("node:https");
  const dir = mkdtempSync(`${tmpdir()}/metal-api-tls-`);
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-keyout",
      `${dir}/key.pem`,
      "-out",
      `${dir}/cert.pem`,
    ],
    { stdio: "ignore" },
  );
  const cert = readFileSync(`${dir}/cert.pem`, "utf8");
  const server = createHttpsServer({ key: readFileSync(`${dir}/key.pem`), cert }, (_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify([{ id: "p1" }]));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const trusted = createMetalApiClient({ url, hmac: "k", caCert: cert });
  const untrusted = createMetalApiClient({ url, hmac: "k", retries: 0 });
  t.teardown(() => Promise.all([trusted.close(), untrusted.close()]));
  t.deepEqual(await trusted.partition.list(), [{ id: "p1" }] as never);
  const e = await t.throwsAsync(untrusted.partition.list(), { instanceOf: MetalApiError });
  t.is(e!.kind, "connection");
  t.throws(() => createMetalApiClient({ url, hmac: "k", caCert: "not pem" }), { message: /caCert/ });
});

test("findSummaries decodes a body arriving in pieces; a cut-off body is retried, a malformed one is a decode error", async (t) => {
  const machine = (id: string) => ({
    id,
    partition: { id: "p1", name: "big partition object" },
    allocation: {
      name: `n-${id}`,
      hostname: `h-${id}`,
      project: "p",
      role: "machine",
      user_data: "x".repeat(5000),
    },
    tags: ["a=b"],
    hardware: { nics: [{ mac: "aa", neighbors: [] }] },
  });
  const body = Buffer.from(JSON.stringify(Array.from({ length: 50 }, (_, i) => machine(`m${i}`))));
  const { url, seen } = await serve(t, (req, res, n) => {
    if (req.body.includes("malformed")) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end('[{"id":"a"} {"id":"b"}]');
      return;
    }
    res.writeHead(200, { "content-type": "application/json", "content-length": body.length });
    // The first answer dies halfway (connection reset): a read, so it is retried.
    if (n === 1) {
      res.write(body.subarray(0, body.length >> 1), () => res.socket?.destroy());
      return;
    }
    let at = 0;
    const next = () => {
      if (at >= body.length) return void res.end();
      res.write(body.subarray(at, at + 777));
      at += 777;
      setImmediate(next);
    };
    next();
  });
  const c = createMetalApiClient({ url, token: "t", ...fast });
  t.teardown(() => c.close());
  const got = await c.machine.findSummaries({ allocation_project: "p" });
  t.is(seen.length, 2, "retried after the cut-off body");
  t.is(got.length, 50);
  t.deepEqual(got[7], {
    id: "m7",
    partition: { id: "p1" },
    allocation: { name: "n-m7", hostname: "h-m7", project: "p", role: "machine" },
    tags: ["a=b"],
  });
  const err = await t.throwsAsync(c.machine.findSummaries({ name: "malformed" }), {
    instanceOf: MetalApiError,
  });
  t.is(err?.kind, "decode");
  t.regex(String((err?.cause as Error)?.message), /expected ',' or '\]' at byte 12/);
});

test("large bodies share one kept receive buffer: calls in a row and at once decode their own bytes", async (t) => {
  // Over the 1 MiB threshold: received into the kept buffer.
  const bodyFor = (tag: string) =>
    Buffer.from(
      JSON.stringify(
        Array.from({ length: 300 }, (_, i) => ({ id: `${tag}-${i}`, tags: [tag], other: "x".repeat(5000) })),
      ),
    );
  const { url } = await serve(t, (req, res) => {
    const tag = (JSON.parse(req.body) as { name: string }).name;
    const body = bodyFor(tag);
    res.writeHead(200, { "content-type": "application/json", "content-length": body.length });
    // Slowly, so concurrent calls are received at the same time.
    let at = 0;
    const next = () => {
      if (at >= body.length) return void res.end();
      res.write(body.subarray(at, at + 100_000));
      at += 100_000;
      setTimeout(next, 2);
    };
    next();
  });
  const c = createMetalApiClient({ url, token: "t", ...fast });
  t.teardown(() => c.close());
  const check = (got: Awaited<ReturnType<typeof c.machine.findSummaries>>, tag: string) => {
    t.is(got.length, 300);
    t.true(
      got.every((m, i) => m.id === `${tag}-${i}` && m.tags?.[0] === tag),
      tag,
    );
  };
  check(await c.machine.findSummaries({ name: "first" }), "first");
  check(await c.machine.findSummaries({ name: "second" }), "second");
  const [a, b, d] = await Promise.all(["a", "b", "d"].map((name) => c.machine.findSummaries({ name })));
  check(a!, "a");
  check(b!, "b");
  check(d!, "d");
});
