import { InvalidEventError } from "./errors.js";

/** Every event subject starts with this token; the stream listens on `metal.>`. */
export const SUBJECT_PREFIX = "metal";

/** Lowercase letters, digits, `-` and `_`; starts with a letter or digit. No dots or wildcards. */
export const SUBJECT_PART_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export interface SubjectParts {
  service: string;
  entity: string;
  action: string;
}

/** Throws an InvalidEventError naming the part (`service`, `entity` or `action`) that is not a valid token. */
export function validateSubjectParts(parts: SubjectParts): void {
  for (const key of ["service", "entity", "action"] as const) {
    const value = parts[key];
    if (typeof value !== "string" || !SUBJECT_PART_PATTERN.test(value)) {
      throw new InvalidEventError(
        key,
        `${JSON.stringify(value)} is not a subject token (allowed: 1-63 of a-z 0-9 - _, starting with a-z or 0-9)`,
      );
    }
  }
}

/** `metal.<service>.<entity>.<action>`, validated. Also the CloudEvent `type`, so both always agree. */
export function eventSubject(parts: SubjectParts): string {
  validateSubjectParts(parts);
  return `${SUBJECT_PREFIX}.${parts.service}.${parts.entity}.${parts.action}`;
}

/** Splits a concrete event subject back into its parts; throws naming the part when malformed. */
export function parseEventSubject(subject: string): SubjectParts {
  const tokens = subject.split(".");
  if (tokens.length !== 4 || tokens[0] !== SUBJECT_PREFIX) {
    throw new InvalidEventError(
      "subject",
      `${JSON.stringify(subject)} is not metal.<service>.<entity>.<action>`,
    );
  }
  const parts = { service: tokens[1]!, entity: tokens[2]!, action: tokens[3]! };
  validateSubjectParts(parts);
  return parts;
}
