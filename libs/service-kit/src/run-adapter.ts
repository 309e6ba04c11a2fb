// The whole life of an adapter process, the Kubernetes side of a service: config (exit 2 naming the
// variable), its own /metrics, /healthz and /readyz, start, and on SIGTERM/SIGINT a clean stop (exit 0).
// What the adapter does in between is its own; it reaches its service only through createServiceClient.

import { type ConfigSpec, type ConfigValues, loadConfig } from "@metal-kube/config";
import { createLogger, exitAfterFlush, type Logger } from "@metal-kube/logging";
import { collectDefaultMetrics, Registry } from "prom-client";
import { type AdapterDefaults, adapterKitConfigSpec } from "./adapter-config.js";
import { createGracefulStop, stopOnSignals } from "./graceful-stop.js";
import { createMetricsServer } from "./metrics-server.js";

export type AdapterKitConfig = ConfigValues<ReturnType<typeof adapterKitConfigSpec>>;

export interface RunningAdapter {
  /** Ready for /readyz (default: once started). */
  ready?: () => boolean;
  stop(): Promise<void>;
}

export interface RunAdapterOptions<S extends ConfigSpec> {
  /** The adapter's name in logs and metrics, e.g. `ccm-adapter`. */
  name: string;
  /** Its service's name: `<SERVICE>_ADDRESS` and `<SERVICE>_TIMEOUT` are read. */
  service: string;
  defaults: AdapterDefaults;
  /** The adapter's own variables, parsed together with the kit's. */
  config: S;
  start(ctx: {
    config: ConfigValues<S>;
    kit: AdapterKitConfig;
    logger: Logger;
    /** Served at /metrics; process metrics are in it already. */
    registry: Registry;
  }): Promise<RunningAdapter>;
  env?: NodeJS.ProcessEnv;
}

export async function runAdapter<S extends ConfigSpec>(o: RunAdapterOptions<S>): Promise<void> {
  const env = o.env ?? process.env;
  const kitSpec = adapterKitConfigSpec(o.service, o.defaults);
  const preLogger = createLogger({ name: o.name });
  const all = loadConfig({ ...kitSpec, ...o.config }, { env, logger: preLogger });
  const kit = all as unknown as AdapterKitConfig;
  const logger = createLogger({ name: o.name, level: kit.logLevel });
  const registry = new Registry();
  registry.setDefaultLabels({ service: o.name });
  collectDefaultMetrics({ register: registry });

  let adapter: RunningAdapter | undefined;
  const shutdown = createGracefulStop(logger, async () => {
    await adapter?.stop();
    await metrics.stop();
    logger.info("stopped cleanly");
  });
  const metrics = createMetricsServer({
    listen: kit.metricsListen,
    registry,
    ready: () => adapter !== undefined && !shutdown.stopping && (adapter.ready?.() ?? true),
  });
  const metricsAddress = await metrics.start().catch((err: unknown) => {
    logger.fatal({ err: err instanceof Error ? err.message : String(err) }, "adapter cannot start");
    exitAfterFlush(logger, 1);
    return new Promise<never>(() => {});
  });
  logger.info({ metricsAddress, service: kit.serviceAddress }, "adapter metrics listening");

  stopOnSignals(shutdown);

  try {
    const started = await o.start({ config: all as unknown as ConfigValues<S>, kit, logger, registry });
    if (shutdown.stopping) await started.stop();
    else adapter = started;
  } catch (err) {
    // E.g. missing RBAC: the message lists every missing permission.
    logger.fatal({ err: err instanceof Error ? err.message : String(err) }, "adapter cannot start");
    exitAfterFlush(logger, 1);
  }
}
