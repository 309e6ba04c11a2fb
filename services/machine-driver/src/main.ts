// The machine-driver process: gRPC on 50051 (or GRPC_LISTEN=unix:///path.sock), metrics on 9051.

import { metalErrorMapper } from "@metal-kube/metal-stack";
import { runService } from "@metal-kube/service-kit";
import { createCallTiming } from "./call-timing.js";
import { DEFAULT_LISTEN, DEFAULT_METRICS_LISTEN, driverConfigSpec } from "./config.js";
import { createMachineDriver } from "./machine-driver.js";
import { noEvents } from "./machine-events.js";
import { createMetalClientPool } from "./metal-clients.js";
import { machineDriverService } from "./service.js";

const timing = createCallTiming();

const server = await runService({
  name: "machine-driver",
  defaults: { listen: DEFAULT_LISTEN, metricsListen: DEFAULT_METRICS_LISTEN },
  config: driverConfigSpec,
  async setup({ config, logger, events }) {
    const clients = timing.wrap(
      createMetalClientPool({
        maxClients: config.maxClients,
        hmacAuthType: config.hmacAuthType,
        timeoutMs: config.metalApiTimeoutMs,
      }),
    );
    const driver = createMachineDriver({
      clients,
      events: config.eventsEnabled ? events : noEvents,
      logger,
      initializeWaitMs: config.initializeWaitMs,
      initializePollMs: config.initializePollMs,
    });
    return {
      services: [machineDriverService(driver)],
      errorMappers: [metalErrorMapper],
      interceptors: [timing.interceptor],
      secretFields: ["secret", "userData", "metalApiKey", "metalApiHmac"],
      // The kit flushes the events outbox on shutdown; the metal-api connections are ours.
      close: () => clients.close(),
    };
  },
});
timing.register(server.metrics.registry);
