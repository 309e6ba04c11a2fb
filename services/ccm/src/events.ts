// The ccm's CloudEvents behind a small sink, so the domain does not depend on NATS:
// metal.ccm.ip.{allocated,released}, metal.ccm.node.{initialized,deleted}.

export type CcmEvent =
  | {
      entity: "ip";
      action: "allocated" | "released";
      subject: string;
      data: { ip: string; network: string; type: string; service: string; freed?: boolean };
    }
  | {
      entity: "node";
      action: "initialized" | "deleted";
      subject: string;
      data: { node: string; providerId: string; reason?: string };
    };

/** Structurally a subset of @metal-kube/events' EventPublisher, so the publisher plugs in as it is. */
export interface CcmEventSink {
  publish(event: { entity: string; action: string; subject?: string; data: unknown }): Promise<unknown>;
}

/** Publishes a typed ccm event; a failed publish is logged by the caller, never fatal. */
export const publishEvent = (sink: CcmEventSink, event: CcmEvent) => sink.publish(event);

export const noEvents: CcmEventSink = { publish: async () => undefined };
