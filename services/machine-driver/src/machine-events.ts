// The driver's CloudEvents, behind a small sink so the domain does not depend on NATS:
// metal.machine-driver.machine.{created,adopted,deleted,create-failed}.

export type MachineEventAction = "created" | "adopted" | "deleted" | "create-failed";

export interface MachineEventData {
  /** The Machine's name (allocation name and hostname). */
  machineName: string;
  /** metal-api machine id; empty for a create that failed before one was known. */
  machineId: string;
  cluster: string;
  partition: string;
  size: string;
  /** The gRPC code name and message of a failed create. */
  error?: { code: string; message: string };
}

/** Structurally a subset of @metal-kube/events' EventPublisher, so the publisher plugs in as it is. */
export interface MachineEventSink {
  publish(event: {
    entity: string;
    action: string;
    data: MachineEventData;
    subject?: string;
  }): Promise<unknown>;
}

export const noEvents: MachineEventSink = { publish: async () => undefined };
