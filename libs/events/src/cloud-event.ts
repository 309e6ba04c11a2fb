import { randomUUID } from "node:crypto";
import { InvalidEventError } from "./errors.js";

/** A CloudEvents 1.0 event in structured JSON mode, as published on NATS. */
export interface CloudEvent<T = unknown> {
  specversion: "1.0";
  id: string;
  source: string;
  type: string;
  subject?: string;
  time: string;
  datacontenttype: "application/json";
  data: T;
}

export const CLOUD_EVENT_SPEC_VERSION = "1.0";
export const CLOUD_EVENT_CONTENT_TYPE = "application/json";

export interface BuildCloudEventInput {
  type: string;
  source: string;
  data: unknown;
  subject?: string;
  id?: string;
  time?: Date | string;
}

/** Builds the event with a fresh UUID id and the current time unless given. */
export function buildCloudEvent(input: BuildCloudEventInput): CloudEvent {
  const id = input.id ?? randomUUID();
  // Printable ASCII only: the id travels as the Nats-Msg-Id header value.
  if (typeof id !== "string" || !/^[\x21-\x7e]{1,128}$/.test(id)) {
    throw new InvalidEventError("id", "must be 1-128 printable ASCII characters without spaces");
  }
  if (input.subject !== undefined && (typeof input.subject !== "string" || input.subject.length === 0)) {
    throw new InvalidEventError("subject", "must be a non-empty string when given");
  }
  let time: string;
  if (input.time === undefined) time = new Date().toISOString();
  else {
    const t = input.time instanceof Date ? input.time : new Date(input.time);
    if (Number.isNaN(t.getTime())) throw new InvalidEventError("time", `${String(input.time)} is not a time`);
    time = t.toISOString();
  }
  if (input.data === undefined) throw new InvalidEventError("data", "is required (use null for no data)");
  const event: CloudEvent = {
    specversion: CLOUD_EVENT_SPEC_VERSION,
    id,
    source: input.source,
    type: input.type,
    time,
    datacontenttype: CLOUD_EVENT_CONTENT_TYPE,
    data: input.data,
  };
  if (input.subject !== undefined) event.subject = input.subject;
  return event;
}

/** Serializes, naming `data` when it cannot be JSON (cycles, BigInt). */
export function encodeCloudEvent(event: CloudEvent): Buffer {
  let json: string;
  try {
    json = JSON.stringify(event);
  } catch (err) {
    throw new InvalidEventError("data", `is not JSON-serializable (${(err as Error).message})`);
  }
  return Buffer.from(json, "utf8");
}

/** Parses and checks the required CloudEvents 1.0 attributes; throws naming the first bad attribute. */
export function decodeCloudEvent(bytes: Uint8Array | string): CloudEvent {
  let value: unknown;
  try {
    value = JSON.parse(typeof bytes === "string" ? bytes : Buffer.from(bytes).toString("utf8"));
  } catch (err) {
    throw new InvalidEventError("body", `is not JSON (${(err as Error).message})`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new InvalidEventError("body", "is not a JSON object");
  }
  const v = value as Record<string, unknown>;
  if (v.specversion !== CLOUD_EVENT_SPEC_VERSION) {
    throw new InvalidEventError("specversion", `${JSON.stringify(v.specversion)} is not "1.0"`);
  }
  for (const attr of ["id", "source", "type"] as const) {
    if (typeof v[attr] !== "string" || (v[attr] as string).length === 0) {
      throw new InvalidEventError(attr, "must be a non-empty string");
    }
  }
  if (v.time !== undefined && (typeof v.time !== "string" || Number.isNaN(Date.parse(v.time)))) {
    throw new InvalidEventError("time", "must be an RFC 3339 timestamp");
  }
  if (v.subject !== undefined && typeof v.subject !== "string") {
    throw new InvalidEventError("subject", "must be a string");
  }
  return v as unknown as CloudEvent;
}
