import type { Logger } from "@metal-kube/logging";

/** The entity of this service's admission events: subjects are `metal.extension.admission.<action>`. */
export const ADMISSION_ENTITY = "admission";

export interface DeniedEvent {
  /** Kind of the refused object: Shoot, CloudProfile, NamespacedCloudProfile, Secret, SecretBinding, ... */
  kind: string;
  namespace: string;
  name: string;
  operation: "create" | "update";
  /** The field errors, as the response lists them. */
  fields: Array<{ field: string; type: string; message: string }>;
}

export interface DefaultedEvent {
  kind: string;
  namespace: string;
  name: string;
  /** Paths given a default. */
  fields: string[];
}

export interface AdmissionEvents {
  denied: DeniedEvent;
  defaulted: DefaultedEvent;
}

/** Where the service's events go: the shared publisher, or a recorder in tests. */
export interface EventSink {
  emit<A extends keyof AdmissionEvents>(action: A, data: AdmissionEvents[A]): void;
}

export interface PublisherLike {
  publish(input: { entity: string; action: string; data: unknown; subject?: string }): Promise<unknown>;
}

export const noopEventSink: EventSink = { emit() {} };

/** Publishes through the outbox without holding up the call; a failed write is logged, never fails a verdict. */
export function createPublisherEventSink(publisher: PublisherLike, logger: Logger): EventSink {
  return {
    emit(action, data) {
      const subject = data.namespace
        ? `${data.kind}/${data.namespace}/${data.name}`
        : `${data.kind}/${data.name}`;
      publisher.publish({ entity: ADMISSION_ENTITY, action, data, subject }).catch((err: unknown) => {
        logger.warn({ err, action, subject }, "could not publish event");
      });
    },
  };
}

export function createRecordingEventSink(): EventSink & {
  events: Array<{ action: keyof AdmissionEvents; data: AdmissionEvents[keyof AdmissionEvents] }>;
} {
  const events: Array<{ action: keyof AdmissionEvents; data: AdmissionEvents[keyof AdmissionEvents] }> = [];
  return {
    events,
    emit(action, data) {
      events.push({ action, data });
    },
  };
}
