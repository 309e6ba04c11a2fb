// `npm start`: NATS with JetStream, the metal-api emulator and every service that exists, on the ports of
// scripts/stack.ts, with a table of endpoints and grpcurl commands. Ctrl-C stops everything cleanly.
// With a cluster, each service's adapter process (src/adapter/main.ts) runs too, calling its service.
//
//   npm start                         services only; Kubernetes adapters off
//   npm start -- --testbed            also a local kube-apiserver + etcd + CRDs; adapters on against it
//   npm start -- --kubeconfig PATH    adapters on against an existing cluster
//   npm start -- --port-offset N      every port + N (a second stack beside the first, or tests)
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync } from "node:fs";
import { get as httpGet } from "node:http";
import { connect } from "node:net";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { serviceAddressVariable } from "@metal-kube/service-kit";
import { checkHealth, commandPath } from "@metal-kube/testing";
import { buildBundles, serviceNodeArgs } from "./build.js";
import {
  adapterEntry,
  EMULATOR_PORT,
  GRPC_SERVICES,
  LOCAL_CLUSTER,
  LOCAL_HMAC_KEY,
  NATS_MONITOR_PORT,
  NATS_PORT,
  ROOT,
  serviceEntry,
} from "./stack.js";

const { values: args } = parseArgs({
  options: {
    testbed: { type: "boolean", default: false },
    kubeconfig: { type: "string" },
    "port-offset": { type: "string", default: "0" },
    "work-dir": { type: "string", default: join(ROOT, ".work") },
  },
});
const offset = Number(args["port-offset"]);
if (!Number.isInteger(offset) || offset < 0 || offset + 50_055 > 65_535) {
  console.error(
    `--port-offset: ${args["port-offset"]} must be an integer from 0 to 15480 (the highest port is 50055 + offset)`,
  );
  process.exit(2);
}
if (args.testbed && args.kubeconfig) {
  console.error("--testbed and --kubeconfig exclude each other: pick one cluster for the adapters");
  process.exit(2);
}
const workDir = args["work-dir"]!;
const logDir = join(workDir, "logs");
mkdirSync(logDir, { recursive: true });

interface Part {
  name: string;
  child: ChildProcess;
  exited: Promise<number | string>;
}
const SETPRIV = "/usr/bin/setpriv";
const parts: Part[] = [];
// Whatever way this process ends, its parts end with it.
process.once("exit", () => {
  for (const p of parts) if (p.child.exitCode === null) p.child.kill("SIGKILL");
});

/** pino levels: 40 warn, 50 error, 60 fatal. Non-JSON output (a crash) is always shown. */
function pinoWarnOrWorse(line: string): boolean {
  const level = /^\{.*"level":(\d+)/.exec(line)?.[1];
  return level === undefined ? !line.startsWith("{") : Number(level) >= 40;
}
let stopping = false;
const cleanups: Array<() => Promise<void>> = [];

/** Starts a child with its output in .work/logs/<name>.log; warnings and errors are echoed here too. */
function startPart(
  name: string,
  cmd: string,
  argv: string[],
  env: NodeJS.ProcessEnv,
  shown: (line: string) => boolean = pinoWarnOrWorse,
): Part {
  const log = createWriteStream(join(logDir, `${name}.log`), { flags: "a" });
  // Own process group: a terminal's Ctrl-C reaches only us, and we stop the parts in order. setpriv's
  // parent-death signal ends a part even when this process is killed with SIGKILL (exit hooks do not run).
  const [file, args] = existsSync(SETPRIV)
    ? [SETPRIV, ["--pdeathsig", "KILL", "--", cmd, ...argv]]
    : [cmd, argv];
  const child = spawn(file, args, {
    cwd: ROOT,
    // A variable given as undefined is removed from the inherited environment.
    env: Object.fromEntries(Object.entries({ ...process.env, ...env }).filter(([, v]) => v !== undefined)),
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const echo = (chunk: Buffer) => {
    log.write(chunk);
    for (const line of chunk.toString().split("\n"))
      if (line && shown(line)) process.stdout.write(`[${name}] ${line}\n`);
  };
  child.stdout?.on("data", echo);
  child.stderr?.on("data", echo);
  const exited = new Promise<number | string>((resolve) =>
    child.once("exit", (code, signal) => {
      log.end();
      if (!stopping)
        console.error(`[${name}] exited (${code ?? signal}); see ${join(logDir, `${name}.log`)}`);
      resolve(code ?? signal ?? -1);
    }),
  );
  const part = { name, child, exited };
  parts.push(part);
  return part;
}

async function until<T>(what: string, part: Part | undefined, probe: () => Promise<T>, timeoutMs = 60_000) {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    if (part && part.child.exitCode !== null) throw new Error(`${what}: process exited, see ${logDir}`);
    try {
      return await probe();
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(
    `${what} not ready after ${timeoutMs} ms: ${String(last)}${last instanceof Error && last.cause ? ` (${String(last.cause)})` : ""}`,
  );
}

const tcpOpen = (port: number) =>
  new Promise<void>((resolve, reject) => {
    const s = connect(port, "127.0.0.1", () => {
      s.end();
      resolve();
    });
    s.once("error", reject);
  });

/** node:http rather than fetch: fetch refuses some ports (10080, 6000, ...) that an offset can land on. */
const httpStatus = (url: string) =>
  new Promise<number>((resolve, reject) =>
    httpGet(url, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).once("error", reject),
  );

async function stopAll(code: number) {
  if (stopping) return;
  stopping = true;
  console.log("\nstopping...");
  // Adapters first (they call the services), then the services (they flush events to NATS and may still
  // call metal-api), then the emulator, NATS last.
  const infra = new Set(["nats", "metal-api-emulator"]);
  const isAdapter = (p: Part) => p.name.endsWith("-adapter");
  const waves = [
    parts.filter(isAdapter),
    parts.filter((p) => !infra.has(p.name) && !isAdapter(p)),
    parts.filter((p) => p.name === "metal-api-emulator"),
    parts.filter((p) => p.name === "nats"),
  ];
  const force = setTimeout(() => {
    for (const p of parts) if (p.child.exitCode === null) p.child.kill("SIGKILL");
  }, 30_000);
  for (const wave of waves) {
    for (const p of wave) p.child.kill("SIGTERM");
    await Promise.all(wave.map((p) => p.exited));
  }
  clearTimeout(force);
  for (const c of cleanups.reverse()) await c().catch((err) => console.error(String(err)));
  console.log("stopped");
  process.exit(code);
}
process.on("SIGINT", () => void stopAll(0));
process.on("SIGTERM", () => void stopAll(0));

try {
  // The services run as deployed: bundles under dist/, plain node (scripts/build.ts).
  await buildBundles();
  const natsPort = NATS_PORT + offset;
  const natsUrl = `nats://127.0.0.1:${natsPort}`;
  await tcpOpen(natsPort).then(
    () => {
      throw new Error(`port ${natsPort} is taken: is another stack running? (try --port-offset)`);
    },
    () => undefined,
  );
  const nats = startPart(
    "nats",
    commandPath("nats-server"),
    [
      "-a",
      "127.0.0.1",
      "-p",
      String(natsPort),
      "-m",
      String(NATS_MONITOR_PORT + offset),
      "-js",
      "-sd",
      join(workDir, "nats"),
    ],
    {},
    (line) => /\[(WRN|ERR|FTL)\]/.test(line),
  );
  await until("nats-server", nats, () => tcpOpen(natsPort));

  let kubeconfig = args.kubeconfig;
  if (args.testbed) {
    const { startTestbed, ALL_CRDS } = await import("@metal-kube/e2e");
    const bed = await startTestbed({ crds: ALL_CRDS, nats: false });
    cleanups.push(() => bed.stop());
    kubeconfig = bed.kubeconfigPath;
  }

  const emulatorPort = EMULATOR_PORT + offset;
  const metalApiUrl = `http://127.0.0.1:${emulatorPort}`;
  const emulatorEntry = serviceEntry("metal-api-emulator");
  if (emulatorEntry) {
    const emu = startPart("metal-api-emulator", process.execPath, serviceNodeArgs("metal-api-emulator"), {
      HOST: "127.0.0.1",
      PORT: String(emulatorPort),
      METAL_API_HMAC_VIEW_KEY: LOCAL_HMAC_KEY,
      METAL_API_HMAC_EDIT_KEY: LOCAL_HMAC_KEY,
      METAL_API_HMAC_ADMIN_KEY: LOCAL_HMAC_KEY,
      EMULATOR_STATE_FILE: join(workDir, "emulator-state.json"),
      LOG_LEVEL: "info",
    });
    await until("metal-api emulator", emu, async () => {
      const status = await httpStatus(`${metalApiUrl}/v1/health`);
      if (status !== 200) throw new Error(`health ${status}`);
    });
  }

  // Started in parallel, checked below: each service's startup is independent.
  const started: Array<(typeof GRPC_SERVICES)[number] & { address: string; part: Part }> = [];
  for (const svc of GRPC_SERVICES) {
    const entry = serviceEntry(svc.name);
    if (!entry) continue;
    const address = `127.0.0.1:${svc.port + offset}`;
    const env: NodeJS.ProcessEnv = {
      GRPC_LISTEN: address,
      METRICS_LISTEN: `127.0.0.1:${svc.metricsPort + offset}`,
      NATS_URL: natsUrl,
      EVENTS_OUTBOX_DIR: join(workDir, "outbox", svc.name),
      METAL_API_URL: metalApiUrl,
      METAL_API_HMAC: LOCAL_HMAC_KEY,
      METAL_API_HMAC_AUTH_TYPE: "Metal-Admin",
      ...LOCAL_CLUSTER,
      LOG_LEVEL: "info",
      // The services never read it; unset so a developer's shell cannot leak a cluster into them.
      KUBECONFIG: undefined,
      ...svc.localEnv,
    };
    const part = startPart(svc.name, process.execPath, serviceNodeArgs(svc.name), env);
    started.push({ ...svc, address, part });
  }
  for (const svc of started) {
    await until(`${svc.name} health`, svc.part, async () => {
      const status = await checkHealth(svc.address);
      if (status !== "SERVING") throw new Error(status);
    });
  }

  // Each service's adapter, only with a cluster: a KUBECONFIG in the developer's shell must not turn them on.
  const adapters: Array<{ name: string; service: string; metricsUrl: string; part: Part }> = [];
  if (kubeconfig) {
    for (const svc of started) {
      if (!adapterEntry(svc.name)) continue;
      const name = `${svc.name}-adapter`;
      const metrics = `127.0.0.1:${svc.adapterMetricsPort + offset}`;
      const part = startPart(name, process.execPath, serviceNodeArgs(name), {
        [serviceAddressVariable(svc.name)]: svc.address,
        ADAPTER_METRICS_LISTEN: metrics,
        KUBECONFIG: kubeconfig,
        LOG_LEVEL: "info",
        ...(await svc.localAdapterEnv?.({ kubeconfig, workDir, offset })),
      });
      adapters.push({ name, service: svc.address, metricsUrl: `http://${metrics}`, part });
    }
    for (const a of adapters) {
      await until(`${a.name} ready`, a.part, async () => {
        const status = await httpStatus(`${a.metricsUrl}/readyz`);
        if (status !== 200) throw new Error(`readyz ${status}`);
      });
    }
  }

  const { goBinaryPath, GRPCURL_VERSION } = await import("@metal-kube/e2e");
  const grpcurl = goBinaryPath("grpcurl", GRPCURL_VERSION);
  const gc = existsSync(grpcurl) ? grpcurl : "grpcurl";
  const lines = [
    "",
    "metal-kube local stack is up",
    "",
    `  NATS (JetStream)      ${natsUrl}        monitor http://127.0.0.1:${NATS_MONITOR_PORT + offset}`,
    emulatorEntry ? `  metal-api emulator    ${metalApiUrl}        HMAC key "${LOCAL_HMAC_KEY}"` : "",
    ...started.map(
      (s) =>
        `  ${s.name.padEnd(20)}  grpc ${s.address}  metrics http://127.0.0.1:${s.metricsPort + offset}/metrics`,
    ),
    ...adapters.map((a) => `  ${a.name.padEnd(20)}  -> ${a.service}  metrics ${a.metricsUrl}/metrics`),
    kubeconfig
      ? `  Kubernetes adapters   on, KUBECONFIG=${kubeconfig}`
      : "  Kubernetes adapters   off (npm start -- --testbed)",
    "",
    "try:",
    ...started.flatMap((s) => [
      `  ${gc} -plaintext ${s.address} list`,
      `  ${gc} -plaintext ${s.address} describe ${s.grpcService}`,
      `  ${gc} -plaintext -d '{"service":"${s.grpcService}"}' ${s.address} grpc.health.v1.Health/Check`,
    ]),
    `  npm run events -- tail --nats ${natsUrl}`,
    "",
    `logs: ${logDir}/<name>.log    Ctrl-C stops everything`,
  ];
  console.log(lines.filter((l, i, a) => l !== "" || a[i - 1] !== "").join("\n"));
} catch (err) {
  console.error(`npm start: ${err instanceof Error ? err.message : String(err)}`);
  await stopAll(1);
}
