// Starts the real ignition service process and talks to it with a grpc-js client.

import { join } from "node:path";
import { credentials, type ServiceError as GrpcError, Metadata } from "@grpc/grpc-js";
import {
  IgnitionRendererClient,
  type RenderRequest,
  type RenderResponse,
} from "@metal-kube/proto/metalstack/ignition/v1/ignition";
import { jsonLogs, type ManagedProcess, makeTempDir, spawnProcess, waitFor } from "@metal-kube/testing";

export const SERVER_MAIN = join(import.meta.dirname, "../src/main.ts");
export const ADAPTER_MAIN = join(import.meta.dirname, "../src/adapter/main.ts");

export interface RunningProcess {
  proc: ManagedProcess;
  logs(): Array<Record<string, unknown>>;
}

/** Spawns a TypeScript entry and waits until a log line with `msg` appears (or the process exits). */
export async function spawnUntilLog(
  entry: string,
  env: Record<string, string>,
  msg: string,
  timeoutMs = 30_000,
): Promise<RunningProcess & { line: Record<string, unknown> }> {
  const proc = spawnProcess(process.execPath, ["--import", "tsx", entry], {
    env: { ...process.env, LOG_LEVEL: "info", ...env },
    keepOutput: 4 * 1024 * 1024,
  });
  const logs = jsonLogs(proc);
  const exited = proc.exited.then((code) => {
    throw new Error(`${entry} exited with ${code}: ${proc.output()}`);
  });
  const line = await Promise.race([
    exited,
    waitFor(msg, () => logs().find((l) => l.msg === msg), { timeoutMs }),
  ]);
  exited.catch(() => {});
  return { proc, logs, line };
}

export interface IgnitionServer extends RunningProcess {
  address: string;
  metricsAddress: string;
}

export async function startIgnitionServer(env: Record<string, string> = {}): Promise<IgnitionServer> {
  const { proc, logs, line } = await spawnUntilLog(
    SERVER_MAIN,
    {
      GRPC_LISTEN: "127.0.0.1:0",
      METRICS_LISTEN: "127.0.0.1:0",
      // Each process needs its own outbox: the publisher locks it.
      EVENTS_OUTBOX_DIR: makeTempDir("ignition-outbox-").path,
      ...env,
    },
    "gRPC server listening",
  );
  return { proc, logs, address: String(line.address), metricsAddress: String(line.metricsAddress) };
}

export function ignitionClient(address: string) {
  const client = new IgnitionRendererClient(address, credentials.createInsecure(), {
    "grpc.max_receive_message_length": 64 * 1024 * 1024,
  });
  const render = (req: RenderRequest): Promise<RenderResponse> =>
    new Promise((resolve, reject) =>
      client.render(
        req,
        new Metadata(),
        { deadline: Date.now() + 10_000 },
        (err: GrpcError | null, res?: RenderResponse) => (err ? reject(err) : resolve(res as RenderResponse)),
      ),
    );
  return { client, render };
}
