// The ignition service process: OperatingSystemConfig -> Ignition user data over gRPC (50054, metrics 9054).

import { runService } from "@metal-kube/service-kit";
import { DEFAULT_LISTEN, DEFAULT_METRICS_LISTEN, ignitionConfigSpec } from "./config.js";
import { createPublisherEventSink } from "./events.js";
import { createRenderMemo } from "./render-memo.js";
import { createRenderer } from "./renderer.js";
import { createIgnitionService } from "./service.js";

await runService({
  name: "ignition",
  defaults: { listen: DEFAULT_LISTEN, metricsListen: DEFAULT_METRICS_LISTEN },
  config: ignitionConfigSpec,
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
          events: createPublisherEventSink(events, logger),
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
