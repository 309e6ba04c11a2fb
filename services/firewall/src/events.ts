import type { Logger } from "@metal-kube/logging";

/** Subjects are `metal.firewall.ruleset.<action>`. */
export const EVENT_ENTITY = "ruleset";

export type RulesetAction = "applied" | "unchanged" | "rolled-back" | "invalid";

export interface RulesetEvent {
  /** The Firewall's name. */
  firewall: string;
  checksum: string;
  rules: number;
  sets: number;
  elements: number;
  policies: { deployed: number; ignored: number };
  services: { deployed: number; ignored: number };
  dryRun: boolean;
  durationMs: number;
  /** The checksum live after the call. */
  activeChecksum?: string;
  failure?: { stage: string; message: string; line: number; lineText: string; restored: boolean };
  /** invalid: the policies and Services left out and why (or the field that refused the request). */
  invalid?: Array<{
    kind: "policy" | "service" | "request";
    namespace: string;
    name: string;
    message: string;
  }>;
}

export interface EventSink {
  emit(action: RulesetAction, data: RulesetEvent): void;
}

export interface PublisherLike {
  publish(input: { entity: string; action: string; data: unknown; subject?: string }): Promise<unknown>;
}

export const noopEventSink: EventSink = { emit() {} };

/** publish() only writes the durable outbox; its failure never fails an apply that succeeded. */
export function createPublisherEventSink(publisher: PublisherLike, logger: Logger): EventSink {
  return {
    emit(action, data) {
      const subject = data.firewall || "firewall";
      publisher.publish({ entity: EVENT_ENTITY, action, data, subject }).catch((err: unknown) => {
        logger.warn({ err, action }, "could not publish event");
      });
    },
  };
}

export function createRecordingEventSink(): EventSink & {
  events: Array<{ action: RulesetAction; data: RulesetEvent }>;
} {
  const events: Array<{ action: RulesetAction; data: RulesetEvent }> = [];
  return { events, emit: (action, data) => void events.push({ action, data }) };
}
