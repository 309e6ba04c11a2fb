// Real parts for the extension's tests: the service and the webhook adapter as processes, a TLS
// certificate for the adapter, and an HTTPS client that posts AdmissionReviews.
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { credentials } from "@grpc/grpc-js";
import { AdmissionClient, SeedMutationClient } from "@metal-kube/proto/metalstack/extension/v1/admission";
import { makeTempDir } from "@metal-kube/testing";
import { type RunningProcess, spawnUntilLog } from "./process-harness.js";

export const SERVICE_MAIN = join(import.meta.dirname, "../src/main.ts");
export const ADAPTER_MAIN = join(import.meta.dirname, "../src/adapter/main.ts");

export interface ExtensionService extends RunningProcess {
  address: string;
  metricsAddress: string;
}

export async function startExtensionService(env: Record<string, string> = {}): Promise<ExtensionService> {
  const p = await spawnUntilLog(
    SERVICE_MAIN,
    {
      GRPC_LISTEN: "127.0.0.1:0",
      METRICS_LISTEN: "127.0.0.1:0",
      EVENTS_OUTBOX_DIR: makeTempDir("extension-outbox-").path,
      NATS_URL: "nats://127.0.0.1:1",
      ...env,
    },
    "gRPC server listening",
  );
  return { ...p, address: String(p.line.address), metricsAddress: String(p.line.metricsAddress) };
}

export interface WebhookTls {
  certFile: string;
  keyFile: string;
  /** The certificate is its own CA: this is the caBundle of the webhook configurations. */
  caPem: string;
}

/** A self-signed serving certificate for 127.0.0.1 and localhost. */
export async function makeWebhookTls(): Promise<WebhookTls> {
  const dir = makeTempDir("extension-tls-").path;
  const certFile = join(dir, "tls.crt");
  const keyFile = join(dir, "tls.key");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      keyFile,
      "-out",
      certFile,
      "-days",
      "30",
      "-subj",
      "/CN=extension-webhooks",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
    ],
    { stdio: "pipe" },
  );
  return { certFile, keyFile, caPem: readFileSync(certFile, "utf8") };
}

export interface Adapter extends RunningProcess {
  webhookAddress: string;
  metricsAddress: string;
}

export async function startAdapter(tls: WebhookTls, env: Record<string, string>): Promise<Adapter> {
  const p = await spawnUntilLog(
    ADAPTER_MAIN,
    {
      WEBHOOK_LISTEN: "127.0.0.1:0",
      ADAPTER_METRICS_LISTEN: "127.0.0.1:0",
      TLS_CERT_FILE: tls.certFile,
      TLS_KEY_FILE: tls.keyFile,
      ...env,
    },
    "extension adapter running",
    60_000,
  );
  return {
    ...p,
    webhookAddress: String(p.line.webhookAddress),
    metricsAddress: String(p.line.metricsAddress),
  };
}

export interface ReviewResponse {
  uid: string;
  allowed: boolean;
  status?: {
    code: number;
    reason?: string;
    message: string;
    details?: { causes: Array<{ type: string; field: string; message: string }> };
  };
  patchType?: string;
  patch?: string;
}

/** An AdmissionReview v1 as kube-apiserver sends it. */
export function review(o: {
  kind: { group: string; version: string; kind: string };
  resource: string;
  operation: "CREATE" | "UPDATE" | "DELETE";
  object: unknown;
  oldObject?: unknown;
  namespace?: string;
  name?: string;
}): Record<string, unknown> {
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: randomUUID(),
      kind: o.kind,
      resource: { group: o.kind.group, version: o.kind.version, resource: o.resource },
      requestKind: o.kind,
      requestResource: { group: o.kind.group, version: o.kind.version, resource: o.resource },
      name: o.name,
      namespace: o.namespace,
      operation: o.operation,
      userInfo: { username: "admin", groups: ["system:masters", "system:authenticated"] },
      object: o.object,
      oldObject: o.oldObject ?? null,
      dryRun: false,
      options:
        o.operation === "CREATE"
          ? { apiVersion: "meta.k8s.io/v1", kind: "CreateOptions" }
          : { apiVersion: "meta.k8s.io/v1", kind: "UpdateOptions" },
    },
  };
}

/** POSTs a body to the adapter over HTTPS, verifying its certificate against `caPem`. */
export function postReview(
  address: string,
  caPem: string,
  path: string,
  body: unknown,
): Promise<{ status: number; text: string; response?: ReviewResponse }> {
  const data = typeof body === "string" ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      `https://${address}${path}?timeout=10s`,
      { method: "POST", ca: caPem, headers: { "content-type": "application/json" }, timeout: 15_000 },
      (res) => {
        let text = "";
        res.on("data", (d: Buffer) => {
          text += d.toString();
        });
        res.on("end", () => {
          let response: ReviewResponse | undefined;
          try {
            response = (JSON.parse(text) as { response?: ReviewResponse }).response;
          } catch {
            response = undefined;
          }
          resolve({ status: res.statusCode ?? 0, text, response });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end(data);
  });
}

export function grpcClients(address: string) {
  return {
    admission: new AdmissionClient(address, credentials.createInsecure()),
    seed: new SeedMutationClient(address, credentials.createInsecure()),
  };
}
