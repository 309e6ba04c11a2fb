// Process entry of the firewall service: root on the firewall machine, the only writer of its table.

import { runService } from "@metal-kube/service-kit";
import { createFirewallAgent } from "./agent.js";
import { createApplier } from "./applier.js";
import { DEFAULT_LISTEN, DEFAULT_METRICS_LISTEN, firewallConfigSpec } from "./config.js";
import { createPublisherEventSink } from "./events.js";
import { registerFirewallMetrics } from "./metrics.js";
import { createNftRunner } from "./nft.js";
import { createNftSession } from "./nft-session.js";
import { createRenderer } from "./renderer.js";
import { createFirewallService } from "./service.js";
import { createStateStore } from "./state-store.js";

let agent: ReturnType<typeof createFirewallAgent> | undefined;
const server = await runService({
  name: "firewall",
  defaults: { listen: DEFAULT_LISTEN, metricsListen: DEFAULT_METRICS_LISTEN },
  config: firewallConfigSpec,
  async setup({ config, events, logger }) {
    const renderOnly = config.mode === "render-only";
    const nftOptions = { command: config.nftCommand, netns: config.netns };
    const session = renderOnly ? undefined : createNftSession(nftOptions);
    const applier = renderOnly
      ? undefined
      : createApplier({
          nft: createNftRunner(nftOptions),
          session,
          table: config.table,
          store: createStateStore(config.stateDir),
          logger,
          deepVerifyMaxElements: config.deepVerifyMaxElements,
        });
    agent = createFirewallAgent({
      renderer: createRenderer({ table: config.table }),
      applier,
      events: createPublisherEventSink(events, logger),
      logger,
    });
    const a = agent;
    logger.info({ mode: config.mode, table: config.table, netns: config.netns ?? null }, "firewall agent");
    return {
      services: [createFirewallService(a)],
      // Health turns SERVING only once the last good ruleset is back in place.
      ready: () => a.start(),
      close: async () => session?.close(),
    };
  },
});
if (agent) registerFirewallMetrics(server.metrics.registry, agent);
