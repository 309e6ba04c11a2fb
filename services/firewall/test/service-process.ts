// Starts the firewall service (or its adapter) as a process of its own process group, so a test can
// kill -9 it with every child it runs (nft included). (A stand-in for the shared test harness.)
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { jsonLogs, type ManagedProcess, makeTempDir, waitFor } from "@metal-kube/testing";
import { createFirewallClient, type FirewallServiceClient } from "../src/adapter/firewall-client.js";

export const SERVICE_MAIN = join(import.meta.dirname, "../src/main.ts");
export const ADAPTER_MAIN = join(import.meta.dirname, "../src/adapter/main.ts");

export interface RunningProcess {
  child: ChildProcess;
  logs(): Array<Record<string, unknown>>;
  output(): string;
  exited: Promise<number | string>;
  /** SIGTERM, SIGKILL after 5 s. */
  stop(): Promise<number | string>;
  /** SIGKILL to the whole process group. */
  killGroup(): Promise<number | string>;
}

export function startProcess(entry: string, env: Record<string, string>): RunningProcess {
  const child = spawn(process.execPath, ["--import", "tsx", entry], {
    env: { ...process.env, LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let out = "";
  const onData = (d: Buffer) => {
    out += d.toString();
    if (out.length > 8 << 20) out = out.slice(-(4 << 20));
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const exited = new Promise<number | string>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? signal ?? -1)),
  );
  const alive = () => child.exitCode === null && child.signalCode === null;
  process.once("exit", () => {
    if (alive()) process.kill(-child.pid!, "SIGKILL");
  });
  return {
    child,
    output: () => out,
    logs: jsonLogs({ output: () => out } as ManagedProcess),
    exited,
    async stop() {
      if (!alive()) return exited;
      child.kill("SIGTERM");
      const t = setTimeout(() => alive() && process.kill(-child.pid!, "SIGKILL"), 5000);
      const r = await exited;
      clearTimeout(t);
      return r;
    },
    async killGroup() {
      if (alive()) process.kill(-child.pid!, "SIGKILL");
      return exited;
    },
  };
}

export interface FirewallProcess extends RunningProcess {
  address: string;
  metricsAddress: string;
  client: FirewallServiceClient;
  outbox: string;
}

const outboxes: Array<() => void> = [];
process.once("exit", () => {
  for (const remove of outboxes) remove();
});

/** The service, on free loopback ports, with its own outbox; resolves once it is SERVING. */
export async function startFirewallService(env: Record<string, string>): Promise<FirewallProcess> {
  let outbox = env.EVENTS_OUTBOX_DIR;
  if (!outbox) {
    const made = makeTempDir("fw-outbox-");
    outboxes.push(made.remove);
    outbox = made.path;
  }
  const p = startProcess(SERVICE_MAIN, {
    GRPC_LISTEN: "127.0.0.1:0",
    METRICS_LISTEN: "127.0.0.1:0",
    EVENTS_OUTBOX_DIR: outbox,
    NATS_URL: "nats://127.0.0.1:1",
    ...env,
  });
  const failed = p.exited.then((code) => {
    throw new Error(`firewall service exited with ${code}: ${p.output().slice(-4000)}`);
  });
  failed.catch(() => {});
  const listening = await Promise.race([
    failed,
    waitFor("gRPC server listening", () => p.logs().find((l) => l.msg === "gRPC server listening"), {
      timeoutMs: 60_000,
    }),
  ]);
  await Promise.race([
    failed,
    waitFor("serving", () => p.logs().find((l) => l.msg === "serving"), { timeoutMs: 60_000 }),
  ]);
  const address = String(listening.address);
  return {
    ...p,
    address,
    metricsAddress: String(listening.metricsAddress),
    client: createFirewallClient(address),
    outbox,
  };
}
