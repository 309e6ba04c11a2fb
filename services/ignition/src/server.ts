// The ignition gRPC service: OperatingSystemConfig -> Ignition user data.

import { enumOf, field, integer } from "@metal-kube/config";
import { runService } from "@metal-kube/service-kit";
import { createPublisherEventSink, type EventSink } from "./events.js";
import { DEFAULT_GZIP_MIN_BYTES, DEFAULT_SPEC_VERSION } from "./options.js";
import { createRenderMemo, DEFAULT_MEMO_ENTRIES, DEFAULT_MEMO_MAX_BYTES } from "./render-memo.js";
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
  memoEntries: field("IGNITION_MEMO_ENTRIES", integer(0, 1_000_000), {
    default: String(DEFAULT_MEMO_ENTRIES),
    description: "identical repeated requests answered from memory (0 turns this off)",
  }),
  memoMaxBytes: field("IGNITION_MEMO_MAX_BYTES", integer(0, 2 ** 40), {
    default: String(DEFAULT_MEMO_MAX_BYTES),
    description: "bytes of encoded responses kept for repeated requests",
  }),
};

export interface StartIgnitionServerOptions {
  env?: NodeJS.ProcessEnv;
  /** Where events go; the default is the kit's publisher (outbox, then NATS JetStream). */
  events?: EventSink;
}

export function startIgnitionServer(options: StartIgnitionServerOptions = {}) {
  return runService({
    name: "ignition",
    defaults: { listen: DEFAULT_LISTEN, metricsListen: DEFAULT_METRICS_LISTEN },
    config: ignitionConfigSpec,
    env: options.env,
    async setup({ config, events, logger }) {
      const renderer = createRenderer({
        defaultSpecVersion: config.defaultSpecVersion,
        gzipMinBytes: config.gzipMinBytes,
      });
      return {
        services: [
          createIgnitionService({
            renderer,
            // metal.ignition.osc.{rendered,render-failed} through the kit's outbox publisher.
            events: options.events ?? createPublisherEventSink(events, logger),
            memo:
              config.memoEntries > 0
                ? createRenderMemo({ maxEntries: config.memoEntries, maxBytes: config.memoMaxBytes })
                : undefined,
          }),
        ],
        // File contents (inline or resolved from Secrets) may hold keys and tokens: never logged.
        secretFields: ["data"],
      };
    },
  });
}
