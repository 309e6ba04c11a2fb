// The webhooks' HTTPS server on its own: a rotated certificate is served without a restart, bad bodies
// are refused before any handler runs, and handler failures are refusals.
import { copyFileSync } from "node:fs";
import { connect } from "node:tls";
import { createLogger } from "@metal-kube/logging";
import { waitFor } from "@metal-kube/testing";
import test from "ava";
import { Registry } from "prom-client";
import { startWebhookServer } from "../src/adapter/webhook-server.js";
import { makeWebhookTls, postReview, review } from "./harness.js";

const logger = createLogger({ name: "webhook-server-test", level: "silent" });

function servedCertificate(address: string): Promise<string> {
  const [host, port] = address.split(":") as [string, string];
  return new Promise((resolve, reject) => {
    const s = connect({ host, port: Number(port), rejectUnauthorized: false }, () => {
      resolve(s.getPeerX509Certificate()?.fingerprint256 ?? "");
      s.end();
    });
    s.on("error", reject);
  });
}

test("a rotated certificate is served without a restart", async (t) => {
  const first = await makeWebhookTls();
  const second = await makeWebhookTls();
  const served = await makeWebhookTls();
  copyFileSync(first.certFile, served.certFile);
  copyFileSync(first.keyFile, served.keyFile);
  const server = await startWebhookServer({
    host: "127.0.0.1",
    port: 0,
    certFile: served.certFile,
    keyFile: served.keyFile,
    handlers: {},
    logger,
    registry: new Registry(),
    tlsReloadIntervalMs: 50,
  });
  try {
    const before = await servedCertificate(server.address);
    copyFileSync(second.keyFile, served.keyFile);
    copyFileSync(second.certFile, served.certFile);
    const { X509Certificate } = await import("node:crypto");
    const want = new X509Certificate(second.caPem).fingerprint256;
    t.not(before, want);
    await waitFor("the new certificate", async () => (await servedCertificate(server.address)) === want, {
      timeoutMs: 10_000,
    });
    t.pass();
  } finally {
    await server.stop();
  }
});

test("bad bodies get 400, unknown paths 404, a throwing handler a refusal", async (t) => {
  const tls = await makeWebhookTls();
  const server = await startWebhookServer({
    host: "127.0.0.1",
    port: 0,
    certFile: tls.certFile,
    keyFile: tls.keyFile,
    handlers: {
      "/boom": async () => {
        throw new Error("kaputt");
      },
    },
    logger,
    registry: new Registry(),
  });
  try {
    const post = (path: string, body: unknown) => postReview(server.address, tls.caPem, path, body);
    t.is((await post("/boom", { kind: "AdmissionReview", apiVersion: "admission.k8s.io/v1" })).status, 400);
    t.is(
      (await post("/boom", { kind: "AdmissionReview", apiVersion: "admission.k8s.io/v2", request: {} }))
        .status,
      400,
    );
    t.is((await post("/nope", {})).status, 404);
    const r = await post(
      "/boom",
      review({
        kind: { group: "", version: "v1", kind: "Secret" },
        resource: "secrets",
        operation: "CREATE",
        object: {},
      }),
    );
    t.is(r.status, 200);
    t.false(r.response?.allowed);
    t.is(r.response?.status?.message, "webhook failed: kaputt");
  } finally {
    await server.stop();
  }
});
