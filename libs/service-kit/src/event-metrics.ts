import type { EventPublisher } from "@metal-kube/events";
import { Gauge, type Registry } from "prom-client";

/** The publisher's outbox and delivery figures on /metrics, read at scrape time. */
export function registerEventMetrics(registry: Registry, events: EventPublisher): void {
  const figures = [
    ["events_outbox_pending", "events in the outbox not yet stored by JetStream", "pending"],
    ["events_outbox_pending_bytes", "bytes of those events", "pendingBytes"],
    ["events_published_total", "events JetStream stored since start", "published"],
    ["events_duplicates_total", "re-sent events JetStream dropped as duplicates", "duplicates"],
    ["events_dropped_total", "events lost: outbox full, rejected or damaged", "dropped"],
    ["events_nats_connected", "1 while connected to NATS with the stream ensured", "connected"],
  ] as const;
  for (const [name, help, key] of figures) {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(events.stats()[key]);
      },
    });
  }
}
