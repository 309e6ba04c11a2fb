// Starts the real ignition service and adapter processes and talks to the service with the adapter's client.

import { join } from "node:path";
import type { RenderRequest } from "@metal-kube/proto/metalstack/ignition/v1/ignition";
import { makeTempDir, type ServiceProcess, startServiceProcess } from "@metal-kube/testing";
import { createIgnitionClient } from "../src/adapter/ignition-client.js";

export const SERVER_MAIN = join(import.meta.dirname, "../src/main.ts");
export const ADAPTER_MAIN = join(import.meta.dirname, "../src/adapter/main.ts");

export interface IgnitionServer extends ServiceProcess {
  /** `127.0.0.1:<port>` or the `unix:///...` it was given. */
  address: string;
  metricsAddress: string;
}

/** The service on a free loopback port (or GRPC_LISTEN of `env`), once it listens. */
export async function startIgnitionServer(env: Record<string, string> = {}): Promise<IgnitionServer> {
  const outbox = makeTempDir("ignition-outbox-");
  const p = await startServiceProcess({
    name: "ignition",
    entry: SERVER_MAIN,
    env: {
      LOG_LEVEL: "info",
      GRPC_LISTEN: "127.0.0.1:0",
      METRICS_LISTEN: "127.0.0.1:0",
      // Each process needs its own outbox: the publisher locks it.
      EVENTS_OUTBOX_DIR: outbox.path,
      ...env,
    },
    ready: "gRPC server listening",
    keepOutput: 4 * 1024 * 1024,
  });
  void p.proc.exited.then(() => outbox.remove());
  return { ...p, address: String(p.ready.address), metricsAddress: String(p.ready.metricsAddress) };
}

/** The adapter process (its env names IGNITION_ADDRESS and KUBECONFIG), once its controller runs. */
export function startIgnitionAdapter(env: Record<string, string>): Promise<ServiceProcess> {
  return startServiceProcess({
    name: "ignition adapter",
    entry: ADAPTER_MAIN,
    env: { LOG_LEVEL: "info", ADAPTER_METRICS_LISTEN: "127.0.0.1:0", ...env },
    ready: "ignition adapter running",
    keepOutput: 4 * 1024 * 1024,
  });
}

/** The adapter's client (the kit's, sized for user data) with a `render` of one argument. */
export function ignitionClient(address: string) {
  const client = createIgnitionClient({ address });
  return { client, render: (req: RenderRequest) => client.render(req) };
}
