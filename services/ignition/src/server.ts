// The ignition gRPC service: OperatingSystemConfig -> Ignition user data.

import { enumOf, field, integer } from "@metal-kube/config";
import { runService } from "@metal-kube/service-kit";
import { type EventSink, noopEventSink } from "./events.js";
import { DEFAULT_GZIP_MIN_BYTES, DEFAULT_SPEC_VERSION } from "./options.js";
import { createRenderer } from "./renderer.js";
import { createIgnitionService } from "./service.js";
import { IGNITION_VERSIONS } from "./spec-version.js";

export const DEFAULT_LISTEN = "0.0.0.0:50054";
export const DEFAULT_METRICS_LISTEN = "0.0.0.0:9054";

export const ignitionConfigSpec = {
  defaultSpecVersion: field("IGNITION_SPEC_VERSION", enumOf(IGNITION_VERSIONS), {
    default: DEFAULT_SPEC_VERSION,
    description: "Ignition spec written when a request does not ask for one",
  }),
  gzipMinBytes: field("IGNITION_GZIP_MIN_BYTES", integer(0, 1 << 30), {
    default: String(DEFAULT_GZIP_MIN_BYTES),
    description: "files at least this large are gzip-compressed in 3.x user data when that saves space",
  }),
};

export interface StartIgnitionServerOptions {
  env?: NodeJS.ProcessEnv;
  /** Where events go; the default drops them (the publisher is wired in by the caller). */
  events?: EventSink;
}

export function startIgnitionServer(options: StartIgnitionServerOptions = {}) {
  return runService({
    name: "ignition",
    defaults: { listen: DEFAULT_LISTEN, metricsListen: DEFAULT_METRICS_LISTEN },
    config: ignitionConfigSpec,
    env: options.env,
    async setup({ config }) {
      const renderer = createRenderer({
        defaultSpecVersion: config.defaultSpecVersion,
        gzipMinBytes: config.gzipMinBytes,
      });
      return {
        services: [createIgnitionService({ renderer, events: options.events ?? noopEventSink })],
        // File contents (inline or resolved from Secrets) may hold keys and tokens: never logged.
        secretFields: ["data"],
      };
    },
  });
}
