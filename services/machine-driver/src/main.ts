// The machine-driver process: gRPC on 50051 (or GRPC_LISTEN=unix:///path.sock), metrics on 9051.

import { createEventPublisher, type EventPublisher } from "@metal-kube/events";
import { runService } from "@metal-kube/service-kit";
import { DEFAULT_LISTEN, DEFAULT_METRICS_LISTEN, driverConfigSpec } from "./config.js";
import { createMachineDriver } from "./machine-driver.js";
import { noEvents } from "./machine-events.js";
import { createMetalClientPool } from "./metal-clients.js";
import { metalErrorMapper } from "./metal-errors.js";
import { machineDriverService } from "./service.js";

await runService({
  name: "machine-driver",
  defaults: { listen: DEFAULT_LISTEN, metricsListen: DEFAULT_METRICS_LISTEN },
  config: driverConfigSpec,
  async setup({ config, kit, logger }) {
    const clients = createMetalClientPool({
      maxClients: config.maxClients,
      hmacAuthType: config.hmacAuthType,
      timeoutMs: config.metalApiTimeoutMs,
    });
    let publisher: EventPublisher | undefined;
    if (config.eventsEnabled) {
      publisher = createEventPublisher({
        service: "machine-driver",
        natsUrl: kit.natsUrl,
        outboxDir: kit.outboxDir,
        logger: logger.child({ component: "events" }),
      });
    }
    const driver = createMachineDriver({
      clients,
      events: publisher ?? noEvents,
      logger,
      initializeWaitMs: config.initializeWaitMs,
      initializePollMs: config.initializePollMs,
    });
    return {
      services: [machineDriverService(driver)],
      errorMappers: [metalErrorMapper],
      secretFields: ["secret", "userData", "metalApiKey", "metalApiHmac"],
      // NATS being down never holds the driver back: events wait in the outbox.
      ready: async () => {
        await publisher?.ready();
      },
      close: async () => {
        await publisher?.close();
        await clients.close();
      },
    };
  },
});
