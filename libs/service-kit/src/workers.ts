import cluster, { type Worker } from "node:cluster";
import { join } from "node:path";
import { exitAfterFlush, type Logger } from "@metal-kube/logging";
import { AggregatorRegistry, type Registry } from "prom-client";
import { createMetricsServer } from "./metrics-server.js";

/**
 * A Node process serves gRPC on one core. With GRPC_WORKERS > 1 the kit's process becomes a primary
 * that forks that many workers (node:cluster): they share the gRPC address (the primary hands each new
 * connection to the next worker), each runs the whole service, and the primary keeps the operator's
 * side: one /metrics summed over the workers, /readyz while every worker serves, and signals.
 */
export const WORKER_INDEX_ENV = "KIT_WORKER_INDEX";

/** Messages between the primary and its workers (over the cluster's IPC channel). */
type KitMessage = { kit: "serving" } | { kit: "shutdown" };
const isKitMessage = (m: unknown): m is KitMessage =>
  typeof m === "object" && m !== null && typeof (m as { kit?: unknown }).kit === "string";

/** This process's worker index, or undefined when it is not a kit worker. */
export function workerIndex(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const v = env[WORKER_INDEX_ENV];
  return cluster.isWorker && v !== undefined ? Number(v) : undefined;
}

/**
 * A worker's outbox: each process needs its own (the outbox is locked by one writer). Worker 0 keeps the
 * configured directory, so what a single process left pending is sent when workers are turned on.
 */
export const workerOutboxDir = (dir: string, index: number): string =>
  index > 0 ? join(dir, `worker-${index}`) : dir;

/** In a worker: report metrics to the primary, tell it when serving, and stop when it says so. */
export function joinPrimary(
  registry: Registry,
  shutdown: (reason: string) => void,
): {
  serving(): void;
} {
  // Constructing one is what makes prom-client answer the primary's requests in this process.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
  // Ctrl-C reaches the whole process group; only the primary decides when workers stop.
  process.on("SIGINT", () => {});
  process.on("SIGTERM", () => {});
  process.on("message", (m: unknown) => {
    if (isKitMessage(m) && m.kit === "shutdown") shutdown("primary");
  });
  // Orphaned (the primary was killed): nothing hands out connections any more.
  process.on("disconnect", () => shutdown("primary gone"));
  return { serving: () => process.send?.({ kit: "serving" } satisfies KitMessage) };
}

export interface RunPrimaryOptions {
  workers: number;
  metricsListen: string;
  shutdownTimeoutMs: number;
  logger: Logger;
}

/**
 * The primary's whole life: fork the workers, serve the operator endpoints, and on SIGTERM/SIGINT ask
 * every worker to drain, exiting 0 when all did. A worker that dies on its own takes the others down and
 * the primary exits 1, so that the pod restarts whole rather than serving on fewer cores unnoticed.
 */
export async function runPrimary(o: RunPrimaryOptions): Promise<never> {
  const { logger } = o;
  const workers = new Map<number, Worker>();
  const serving = new Set<number>();
  let stopping: string | undefined;
  let exitCode = 0;
  const aggregate = new AggregatorRegistry();
  const metrics = createMetricsServer({
    listen: o.metricsListen,
    registry: { metrics: () => aggregate.clusterMetrics(), contentType: aggregate.contentType },
    ready: () => stopping === undefined && serving.size === o.workers,
  });

  const finished = new Promise<void>((resolve) => {
    const fork = (index: number) => {
      const w = cluster.fork({ [WORKER_INDEX_ENV]: String(index) });
      workers.set(index, w);
      w.on("message", (m: unknown) => {
        if (!isKitMessage(m) || m.kit !== "serving") return;
        serving.add(index);
        if (serving.size === o.workers) logger.info({ workers: o.workers }, "every worker serving");
      });
      w.on("exit", (code, signal) => {
        workers.delete(index);
        serving.delete(index);
        if (code !== 0) exitCode = 1;
        if (stopping === undefined) {
          logger.fatal(
            { worker: index, pid: w.process.pid, code, signal },
            "a worker exited; stopping the others",
          );
          exitCode = 1;
          stop("worker exited");
        } else {
          logger.info({ worker: index, code, signal }, "worker stopped");
        }
        if (workers.size === 0) resolve();
      });
    };
    for (let i = 0; i < o.workers; i++) fork(i);
  });

  let killTimer: NodeJS.Timeout | undefined;
  const stop = (reason: string) => {
    if (stopping !== undefined) return;
    stopping = reason;
    logger.info({ reason, workers: workers.size }, "stopping the workers");
    for (const w of workers.values()) if (w.isConnected()) w.send({ kit: "shutdown" } satisfies KitMessage);
    // Workers wait up to SHUTDOWN_TIMEOUT for calls in flight; past that (and a margin) they are killed.
    killTimer = setTimeout(() => {
      logger.error({ workers: workers.size }, "workers did not stop in time: killing them");
      exitCode = 1;
      for (const w of workers.values()) w.process.kill("SIGKILL");
    }, o.shutdownTimeoutMs + 5000);
    killTimer.unref();
  };
  const onSignal = (signal: string) => {
    if (stopping !== undefined) {
      logger.warn({ signal }, "second signal: killing the workers");
      for (const w of workers.values()) w.process.kill("SIGKILL");
      process.exit(1);
    }
    logger.info({ signal }, "shutdown requested");
    stop(signal);
  };
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("SIGINT", () => onSignal("SIGINT"));

  const metricsAddress = await metrics.start();
  logger.info({ workers: o.workers, metricsAddress }, `starting ${o.workers} workers`);
  await finished;
  clearTimeout(killTimer);
  await metrics.stop();
  logger.info({ exitCode }, "all workers stopped");
  exitAfterFlush(logger, exitCode);
  return new Promise<never>(() => {});
}
