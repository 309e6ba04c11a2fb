// The driver's own environment variables (the kit adds GRPC_LISTEN, METRICS_LISTEN, TLS_*, NATS_URL, ...).

import { bool, duration, enumOf, field, integer } from "@metal-kube/config";

export const DEFAULT_LISTEN = "0.0.0.0:50051";
export const DEFAULT_METRICS_LISTEN = "0.0.0.0:9051";

export const driverConfigSpec = {
  initializeWaitMs: field("INITIALIZE_WAIT", duration(), {
    default: "5m",
    description:
      "how long InitializeMachine follows a new machine's provisioning to report a crash loop or failed reclaim (0s: check once)",
  }),
  initializePollMs: field("INITIALIZE_POLL_INTERVAL", duration(), {
    default: "5s",
    description: "how often InitializeMachine reads the machine while following its provisioning",
  }),
  metalApiTimeoutMs: field("METAL_API_TIMEOUT", duration(), {
    default: "30s",
    description: "deadline of one metal-api call, retries of reads included",
  }),
  hmacAuthType: field("METAL_API_HMAC_AUTH_TYPE", enumOf(["Metal-View", "Metal-Edit", "Metal-Admin"]), {
    default: "Metal-Edit",
    description: "which metal-api key a secret's metalAPIHMac is",
  }),
  maxClients: field("METAL_API_MAX_CLIENTS", integer(1, 10_000), {
    default: "32",
    description: "metal-api clients (endpoint + credential) kept with open connections",
  }),
  eventsEnabled: field("EVENTS_ENABLED", bool(), {
    default: "true",
    description: "publish machine CloudEvents (through the kit's durable outbox to NATS)",
  }),
};
