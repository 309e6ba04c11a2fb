import { ConfigError, type ConfigSpec, type ConfigValues, loadConfig } from "@metal-kube/config";
import { createEventPublisher, type EventPublisher } from "@metal-kube/events";
import { createLogger, exitAfterFlush, type Logger } from "@metal-kube/logging";
import type { Interceptor } from "./call-context.js";
import type { ServiceRegistration } from "./define-service.js";
import { registerEventMetrics } from "./event-metrics.js";
import { createGracefulStop, stopOnSignals } from "./graceful-stop.js";
import { createGrpcServer, type GrpcServer } from "./grpc-server.js";
import { checkWorkers, kitConfigSpec, tlsFromConfig } from "./kit-config.js";
import type { ErrorMapper } from "./service-error.js";
import { joinPrimary, runPrimary, workerIndex, workerOutboxDir } from "./workers.js";

export type KitConfig = ConfigValues<ReturnType<typeof kitConfigSpec>>;

export interface ServiceSetup {
  services: ServiceRegistration[];
  errorMappers?: ErrorMapper[];
  interceptors?: Interceptor[];
  secretFields?: string[];
  /** Resolves when the service's dependencies are ready; health stays NOT_SERVING until then. */
  ready?: () => Promise<void>;
  /** Runs after calls have drained on shutdown: flush events, close clients. */
  close?: () => Promise<void>;
}

export interface RunServiceOptions<S extends ConfigSpec> {
  name: string;
  defaults: { listen: string; metricsListen: string };
  /** The service's own variables, parsed together with the kit's. */
  config: S;
  setup: (ctx: {
    config: ConfigValues<S>;
    kit: KitConfig;
    logger: Logger;
    /** CloudEvents publisher of this service (subjects metal.<name>.<entity>.<action>), through its outbox. */
    events: EventPublisher;
  }) => Promise<ServiceSetup>;
  env?: NodeJS.ProcessEnv;
}

/**
 * The whole life of a service process: config (exit 2 naming the variable on a bad value), setup,
 * listen, SERVING once ready, and on SIGTERM/SIGINT a graceful stop that exits 0.
 */
export async function runService<S extends ConfigSpec>(o: RunServiceOptions<S>): Promise<GrpcServer> {
  const env = o.env ?? process.env;
  const kitSpec = kitConfigSpec(o.name, o.defaults);
  const preLogger = createLogger({
    name: o.name,
    level:
      env.LOG_LEVEL && /^(trace|debug|info|warn|error|fatal)$/.test(env.LOG_LEVEL) ? env.LOG_LEVEL : "info",
  });
  const all = loadConfig({ ...kitSpec, ...o.config }, { env, logger: preLogger });
  const kit = all as unknown as KitConfig;
  let tls: ReturnType<typeof tlsFromConfig>;
  try {
    tls = tlsFromConfig(kit);
    checkWorkers(kit);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  const worker = workerIndex(env);
  const rootLogger = createLogger({ name: o.name, level: kit.logLevel });
  const logger = worker === undefined ? rootLogger : rootLogger.child({ worker });
  if (kit.workers > 1 && worker === undefined) {
    return runPrimary({
      workers: kit.workers,
      metricsListen: kit.metricsListen,
      shutdownTimeoutMs: kit.shutdownTimeoutMs,
      logger,
    });
  }
  // Opened before setup so a service can publish from its first call; a locked or unwritable outbox stops
  // the service here, because events published into it would be lost.
  const events = createEventPublisher({
    service: o.name,
    natsUrl: kit.natsUrl,
    outboxDir: worker === undefined ? kit.outboxDir : workerOutboxDir(kit.outboxDir, worker),
    logger,
  });
  const eventsReady = events.ready().catch((err: unknown) => {
    logger.fatal({ err, outboxDir: kit.outboxDir }, "cannot open the event outbox");
    exitAfterFlush(logger, 1);
    return new Promise<never>(() => {});
  });
  const setup = await o.setup({ config: all as unknown as ConfigValues<S>, kit, logger, events });
  const server = createGrpcServer({
    name: o.name,
    listen: kit.listen,
    // A worker's metrics reach /metrics through its primary.
    metricsListen: worker === undefined ? kit.metricsListen : undefined,
    tls,
    logger,
    services: setup.services,
    errorMappers: setup.errorMappers ?? [],
    interceptors: setup.interceptors ?? [],
    secretFields: setup.secretFields ?? [],
    shutdownTimeoutMs: kit.shutdownTimeoutMs,
  });
  registerEventMetrics(server.metrics.registry, events);

  const shutdown = createGracefulStop(logger, async () => {
    await server.stop();
    await setup.close?.();
    // Last: calls and the service's own shutdown may still publish.
    await events.close();
    logger.info({ events: events.stats() }, "stopped cleanly");
  });
  const primary =
    worker === undefined ? undefined : joinPrimary(server.metrics.registry, (r) => void shutdown.stop(r));
  if (!primary) stopOnSignals(shutdown);

  await server.start();
  await Promise.all([setup.ready?.() ?? Promise.resolve(), eventsReady]);
  if (!shutdown.stopping) {
    server.setServing(true);
    logger.info("serving");
    primary?.serving();
  }
  return server;
}
