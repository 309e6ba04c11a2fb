// Field errors collected over a whole request, so one round trip tells the caller all that is wrong.

import { ServiceError } from "./service-error.js";

export interface Violation {
  /** The request field at fault, e.g. `files[3] (/etc/foo)`. */
  field: string;
  message: string;
}

/**
 * Collects every problem of a request, so one round trip tells the caller all that is wrong.
 * The error names the first field (ServiceError.field) and lists the others in its message.
 */
export class Violations {
  readonly list: Violation[] = [];

  add(field: string, message: string): void {
    this.list.push({ field, message });
  }

  get empty(): boolean {
    return this.list.length === 0;
  }

  /** Throws INVALID_ARGUMENT when anything was collected. */
  throwIfAny(maxReported: number): void {
    const [first, ...rest] = this.list;
    if (!first) return;
    let message = first.message;
    if (rest.length > 0) {
      const shown = rest.slice(0, maxReported - 1).map((v) => `${v.field}: ${v.message}`);
      const hidden = rest.length - shown.length;
      message += `; also ${shown.join("; ")}${hidden > 0 ? `; and ${hidden} more` : ""}`;
    }
    throw ServiceError.invalidArgument(first.field, message);
  }
}
