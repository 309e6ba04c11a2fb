import type { Logger } from "@metal-kube/logging";

/** The entity of this service's events: subjects are `metal.ignition.osc.<action>`. */
export const EVENT_ENTITY = "osc";

export interface RenderedEvent {
  namespace: string;
  name: string;
  type: string;
  purpose: "provision" | "reconcile";
  specVersion: string;
  /** Hex SHA-256 of the user data (of the extension files for reconcile). */
  checksum: string;
  /** Bytes of user data. */
  size: number;
  files: number;
  units: number;
  warnings: number;
}

export interface RenderFailedEvent {
  namespace: string;
  name: string;
  type: string;
  /** gRPC code name, e.g. INVALID_ARGUMENT. */
  code: string;
  /** The request field at fault, when known. */
  field?: string;
  message: string;
}

export interface IgnitionEvents {
  rendered: RenderedEvent;
  "render-failed": RenderFailedEvent;
}

/**
 * Where the service's events go. Kept this small so that the shared publisher (outbox + NATS) or a
 * test recorder plugs in without the service knowing either.
 */
export interface EventSink {
  emit<A extends keyof IgnitionEvents>(action: A, data: IgnitionEvents[A]): void;
}

/** The part of @metal-kube/events' publisher this service uses. */
export interface PublisherLike {
  publish(input: { entity: string; action: string; data: unknown; subject?: string }): Promise<unknown>;
}

export const noopEventSink: EventSink = { emit() {} };

/**
 * Publishes through the shared publisher without holding up the call: publish() only writes the
 * durable outbox, and a failure there must not fail a render that succeeded.
 */
export function createPublisherEventSink(publisher: PublisherLike, logger: Logger): EventSink {
  return {
    emit(action, data) {
      const subject = `${data.namespace}/${data.name}`;
      publisher.publish({ entity: EVENT_ENTITY, action, data, subject }).catch((err: unknown) => {
        logger.warn({ err, action, subject }, "could not publish event");
      });
    },
  };
}

/** Keeps emitted events in memory, for tests and for callers that batch. */
export function createRecordingEventSink(): EventSink & {
  events: Array<{ action: keyof IgnitionEvents; data: IgnitionEvents[keyof IgnitionEvents] }>;
} {
  const events: Array<{ action: keyof IgnitionEvents; data: IgnitionEvents[keyof IgnitionEvents] }> = [];
  return {
    events,
    emit(action, data) {
      events.push({ action, data });
    },
  };
}
