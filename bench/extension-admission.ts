// Admission benchmarks of the extension for a realistic metal Shoot with 10 worker pools.
// Targets: ValidateShoot p50 <= 0.2 ms in-process; AdmissionReviews over HTTPS on loopback (the webhook
// adapter calling the service over its unix socket, as deployed) >= 2,000 reviews/s with p99 <= 5 ms.
// Prints figures; exits non-zero when a target is missed.
import { execFile, execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { get } from "node:http";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Client, credentials } from "@grpc/grpc-js";
import { createKubeClient } from "@metal-kube/kube";
import { freePort, waitFor } from "@metal-kube/testing";
import { startGardenTestbed } from "../e2e/src/garden-testbed.js";
import { buildRepoGoBinary } from "../e2e/src/go-builder.js";
import { serviceNodeArgs } from "../scripts/build.js";
import { createAdmission } from "../services/extension/src/admission.js";
import { bytes, cloudProfile, shoot } from "../services/extension/test/fixtures/objects.js";
import { cpuMicros, rssKiB } from "./fixtures/server-process.js";

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
const ms = (n: number) => `${n.toFixed(3)} ms`;
const misses: string[] = [];

const theShoot = shoot(10);
const theProfile = cloudProfile();
const shootBytes = bytes(theShoot);
console.log(
  `Shoot: 10 worker pools, ${(shootBytes.length / 1024).toFixed(1)} KiB JSON; CloudProfile ${(bytes(theProfile).length / 1024).toFixed(1)} KiB; ` +
    `host: ${cpus().length} cores, load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}`,
);

// 1. In-process: the service's domain as its handler calls it (bytes in, verdict out).
{
  const admission = createAdmission();
  const req = {
    shoot: shootBytes,
    oldShoot: Buffer.alloc(0),
    cloudProfile: bytes(theProfile),
    parentCloudProfile: Buffer.alloc(0),
  };
  if (!admission.validateShoot(req).allowed) throw new Error("the benchmark Shoot must be valid");
  for (let i = 0; i < 5000; i++) admission.validateShoot(req);
  const lat: number[] = [];
  for (let i = 0; i < 20_000; i++) {
    const t = performance.now();
    admission.validateShoot(req);
    lat.push(performance.now() - t);
  }
  lat.sort((a, b) => a - b);
  const p50 = pct(lat, 0.5);
  console.log(`in-process ValidateShoot: p50 ${ms(p50)}  p99 ${ms(pct(lat, 0.99))}  (target p50 <= 0.2 ms)`);
  if (p50 > 0.2) misses.push("in-process ValidateShoot p50");
  const dreq = { shoot: shootBytes, cloudProfile: req.cloudProfile, parentCloudProfile: Buffer.alloc(0) };
  const dlat: number[] = [];
  for (let i = 0; i < 10_000; i++) {
    const t = performance.now();
    admission.defaultShoot(dreq);
    dlat.push(performance.now() - t);
  }
  dlat.sort((a, b) => a - b);
  console.log(`in-process DefaultShoot:  p50 ${ms(pct(dlat, 0.5))}  p99 ${ms(pct(dlat, 0.99))}`);
}

// 2. Over HTTPS: a garden (the test bed with gardener-apiserver) holding the CloudProfile, the service and
// the adapter as their bundles on a shared unix socket, and a Go load generator in the apiserver's place.
const loadgen = await buildRepoGoBinary({
  name: "bench-https-loadgen",
  dir: join(import.meta.dirname, "https-loadgen"),
  onProgress: (l) => console.log(l),
});
const work = mkdtempSync(join(tmpdir(), "extension-bench-"));
const garden = await startGardenTestbed({ nats: false, onProgress: (l) => console.log(l) });
const stops: Array<() => Promise<void>> = [];
try {
  const kube = createKubeClient({ kubeconfigPath: garden.bed.kubeconfigPath });
  await kube
    .resource({
      group: "core.gardener.cloud",
      version: "v1beta1",
      plural: "cloudprofiles",
      namespaced: false,
    })
    .create(theProfile as never);
  await kube.close();
  const cert = join(work, "tls.crt");
  const key = join(work, "tls.key");
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
      key,
      "-out",
      cert,
      "-days",
      "2",
      "-subj",
      "/CN=extension-bench",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
    ],
    { stdio: "pipe" },
  );

  const socket = `unix://${join(work, "extension.sock")}`;
  const spawnBundle = (name: string, env: Record<string, string>) => {
    // BENCH_CPU_PROF=<dir>: V8 CPU profiles of both processes, written when they stop.
    const prof = process.env.BENCH_CPU_PROF
      ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
      : [];
    const child = spawn(process.execPath, [...prof, ...serviceNodeArgs(name)], {
      env: { ...process.env, LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "info", ...env },
      stdio: "ignore",
    });
    stops.push(
      () =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once("exit", () => resolve());
          child.kill("SIGTERM");
        }),
    );
    return child;
  };
  const service = spawnBundle("extension", {
    GRPC_LISTEN: socket,
    METRICS_LISTEN: "127.0.0.1:0",
    EVENTS_OUTBOX_DIR: join(work, "outbox"),
    NATS_URL: "nats://127.0.0.1:1",
  });
  const probe = new Client(socket, credentials.createInsecure());
  await new Promise<void>((resolve, reject) =>
    probe.waitForReady(Date.now() + 30_000, (err) => (err ? reject(err) : resolve())),
  );
  probe.close();
  const webhookPort = await freePort();
  const metricsPort = await freePort();
  const adapter = spawnBundle("extension-adapter", {
    EXTENSION_ADDRESS: socket,
    WEBHOOKS: "garden",
    KUBECONFIG: garden.bed.kubeconfigPath,
    WEBHOOK_LISTEN: `127.0.0.1:${webhookPort}`,
    ADAPTER_METRICS_LISTEN: `127.0.0.1:${metricsPort}`,
    TLS_CERT_FILE: cert,
    TLS_KEY_FILE: key,
  });
  await waitFor(
    "adapter /readyz",
    () =>
      new Promise<boolean>((resolve, reject) =>
        get(`http://127.0.0.1:${metricsPort}/readyz`, (res) => {
          res.resume();
          if (res.statusCode === 200) resolve(true);
          else reject(new Error(`readyz ${res.statusCode}`));
        }).on("error", reject),
      ),
    { timeoutMs: 60_000, intervalMs: 200 },
  );

  const reviewFile = (path: string, object: unknown) => {
    const file = join(work, `${path.replaceAll("/", "_")}.json`);
    const kind = { group: "core.gardener.cloud", version: "v1beta1", kind: "Shoot" };
    writeFileSync(
      file,
      JSON.stringify({
        apiVersion: "admission.k8s.io/v1",
        kind: "AdmissionReview",
        request: {
          uid: randomUUID(),
          kind,
          resource: { group: kind.group, version: kind.version, resource: "shoots" },
          requestKind: kind,
          name: "dev",
          namespace: "garden-proj",
          operation: "CREATE",
          userInfo: { username: "admin", groups: ["system:masters"] },
          object,
          oldObject: null,
          dryRun: false,
        },
      }),
    );
    return file;
  };
  const run = async (label: string, path: string, expect: string, target: boolean) => {
    const args = [
      "-url",
      `https://127.0.0.1:${webhookPort}${path}?timeout=10s`,
      "-ca",
      cert,
      "-data",
      reviewFile(path, theShoot),
      "-expect",
      expect,
      "-c",
      String(CONCURRENCY),
      "-warmup",
      "1ms",
    ];
    // Both processes warmed up first, so their CPU per review counts only the measured reviews.
    await promisify(execFile)(loadgen, [...args, "-d", "2s"]);
    const pids = [service.pid as number, adapter.pid as number];
    const cpu0 = pids.map(cpuMicros);
    const { stdout } = await promisify(execFile)(loadgen, [...args, "-d", `${DURATION_MS}ms`]);
    const r = JSON.parse(stdout) as {
      calls: number;
      seconds: number;
      p50Ms: number;
      p99Ms: number;
      unexpected: number;
    };
    const cpu = pids.map((p, i) => (cpuMicros(p) - (cpu0[i] as number)) / r.calls);
    const rps = r.calls / r.seconds;
    console.log(
      `HTTPS ${label} (${path}), concurrency ${CONCURRENCY}: ${rps.toFixed(0)} reviews/s  p50 ${ms(r.p50Ms)}  p99 ${ms(r.p99Ms)}  ` +
        `CPU per review: adapter ${cpu[1]?.toFixed(0)} us, service ${cpu[0]?.toFixed(0)} us  RSS adapter ${(rssKiB(adapter.pid as number) / 1024).toFixed(0)} MiB, service ${(rssKiB(service.pid as number) / 1024).toFixed(0)} MiB` +
        (target ? "  (target >= 2,000/s, p99 <= 5 ms)" : ""),
    );
    if (r.unexpected > 0) misses.push(`${label}: ${r.unexpected} answers without ${expect}`);
    if (target && (rps < 2000 || r.p99Ms > 5)) misses.push(`HTTPS ${label}`);
  };
  await run("validating webhook, Shoot allowed", "/webhooks/validate", '"allowed":true', true);
  await run("mutating webhook, Shoot defaulted", "/webhooks/mutate", '"patchType":"JSONPatch"', false);
} finally {
  for (const s of stops.reverse()) await s();
  await garden.stop();
  rmSync(work, { recursive: true, force: true });
}

if (misses.length > 0) {
  console.log(`MISSED: ${misses.join("; ")}`);
  process.exit(1);
}
console.log("all targets met");
