import type { ReceivedEvent } from "./subscriber.js";

/** Longest data excerpt on a pretty line; operators want one line per event, not a dump. */
export const SHORT_DATA_CHARS = 100;

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** `time  type  subject  id  data` for people, one line per event. */
export function formatPretty(r: ReceivedEvent): string {
  const e = r.event;
  const data = e.data === undefined ? "" : shorten(JSON.stringify(e.data) ?? "", SHORT_DATA_CHARS);
  return [e.time ?? "-", e.type, e.subject ?? "-", e.id, data].join("  ");
}

/** The CloudEvent as one JSON line, for jq and scripts. */
export function formatJson(r: ReceivedEvent): string {
  return JSON.stringify(r.event);
}

/** A bare service name means all of its events; anything else is a NATS subject filter as given. */
export function expandSubject(subject: string | undefined): string {
  if (!subject) return "metal.>";
  return /^[a-z0-9][a-z0-9_-]*$/.test(subject) && subject !== "metal" ? `metal.${subject}.>` : subject;
}
