/**
 * Errors of the events library. `code` is stable for programs; `message` is for people and names the bad
 * field. The service kit maps `InvalidEventError` to INVALID_ARGUMENT-like handling and the rest to INTERNAL.
 */
export type EventsErrorCode = "INVALID_EVENT" | "INVALID_OPTION" | "OUTBOX_FULL" | "OUTBOX_IO" | "CLOSED";

export class EventsError extends Error {
  override readonly name: string = "EventsError";
  readonly code: EventsErrorCode;
  constructor(code: EventsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** A subject part, the data or another field of an event is invalid; `field` names it. */
export class InvalidEventError extends EventsError {
  override readonly name = "InvalidEventError";
  constructor(
    readonly field: string,
    message: string,
  ) {
    super("INVALID_EVENT", `invalid event ${field}: ${message}`);
  }
}

/** A publisher or subscriber option is invalid; `option` names it. */
export class InvalidOptionError extends EventsError {
  override readonly name = "InvalidOptionError";
  constructor(
    readonly option: string,
    message: string,
  ) {
    super("INVALID_OPTION", `invalid events option ${option}: ${message}`);
  }
}

/**
 * The outbox reached its bound (NATS has been unreachable for long). The event was NOT stored and is counted
 * in `stats().dropped`. `publish()` does not throw it: it is returned in the receipt so a request handler is
 * never failed because NATS is down.
 */
export class OutboxFullError extends EventsError {
  override readonly name = "OutboxFullError";
  constructor(
    readonly limit: "maxEvents" | "maxBytes",
    readonly value: number,
  ) {
    super("OUTBOX_FULL", `event outbox full (${limit} ${value} reached); event dropped`);
  }
}
