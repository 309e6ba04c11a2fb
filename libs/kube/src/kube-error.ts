import type { KubeStatus } from "./types.js";

/** What a request tried to do, in RBAC terms, so errors can name it. */
export interface RequestTarget {
  /** RBAC verb: get, list, watch, create, update, patch, delete, deletecollection. */
  verb: string;
  /** API group, "" for the core group. */
  group: string;
  /** Plural resource name, with `/subresource` when one is addressed (e.g. `demos/status`). */
  resource: string;
  namespace?: string;
  name?: string;
}

/**
 * Every failure of a call to the apiserver. `status` is the HTTP code (0 when no response came back),
 * `reason` the metav1.Status reason (NotFound, Conflict, Expired, Forbidden, ...). The message names the
 * verb and resource; the raw server message stays in `serverMessage` for logs.
 */
export class KubeError extends Error {
  override readonly name = "KubeError";
  readonly status: number;
  readonly reason: string;
  readonly target: RequestTarget;
  readonly serverMessage: string;
  /** The identity the apiserver saw (from a Forbidden message), when known. */
  readonly user?: string;

  constructor(
    target: RequestTarget,
    status: number,
    body: KubeStatus | undefined,
    options: { cause?: unknown; user?: string } = {},
  ) {
    const reason = body?.reason ?? reasonFromStatus(status);
    const serverMessage = body?.message ?? (options.cause ? String(options.cause) : `HTTP ${status}`);
    const user = userFromMessage(serverMessage) ?? options.user;
    super(describe(target, status, reason, serverMessage, user), { cause: options.cause });
    this.status = status;
    this.reason = reason;
    this.target = target;
    this.serverMessage = serverMessage;
    if (user !== undefined) this.user = user;
  }
}

function reasonFromStatus(status: number): string {
  switch (status) {
    case 0:
      return "Unavailable";
    case 400:
      return "BadRequest";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "NotFound";
    case 409:
      return "Conflict";
    case 410:
      return "Expired";
    case 422:
      return "Invalid";
    case 429:
      return "TooManyRequests";
    default:
      return status >= 500 ? "InternalError" : "Unknown";
  }
}

function where(t: RequestTarget): string {
  const group = t.group === "" ? "the core group" : `group "${t.group}"`;
  return `resource "${t.resource}" in ${group}${t.namespace ? ` in namespace "${t.namespace}"` : ""}`;
}

function describe(t: RequestTarget, status: number, reason: string, msg: string, user?: string): string {
  if (status === 403) {
    return `forbidden: cannot ${t.verb} ${where(t)} (check the RBAC of ${user ?? "the adapter's identity"})`;
  }
  if (status === 401)
    return `unauthorized: the apiserver rejected the credentials used to ${t.verb} ${where(t)}`;
  const obj = t.name ? ` "${t.name}"` : "";
  if (status === 0) return `cannot reach the apiserver to ${t.verb} ${where(t)}${obj}: ${msg}`;
  return `${t.verb} ${where(t)}${obj} failed: ${reason} (${status}): ${msg}`;
}

function userFromMessage(msg: string): string | undefined {
  return /User "([^"]+)"/.exec(msg)?.[1];
}

function hasStatus(err: unknown, status: number): boolean {
  return err instanceof KubeError && err.status === status;
}

export const isNotFound = (err: unknown): boolean => hasStatus(err, 404);
export const isConflict = (err: unknown): boolean => hasStatus(err, 409);
export const isGone = (err: unknown): boolean => hasStatus(err, 410);
export const isForbidden = (err: unknown): boolean => hasStatus(err, 403);
export const isAlreadyExists = (err: unknown): boolean =>
  err instanceof KubeError && err.status === 409 && err.reason === "AlreadyExists";
