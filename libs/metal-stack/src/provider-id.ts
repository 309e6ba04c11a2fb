// providerID `metal://<partition>/<machine-id>`, the key MCM's orphan collector and the node controller
// compare as strings. One codec for every service: it encodes only well-formed keys (an empty partition
// once produced `metal:////<id>` and a collector deleted live machines) and decodes the older forms
// (`metal:///<id>`) by taking the last path segment.

import { ServiceError } from "@metal-kube/service-kit";

export const PROVIDER_ID_SCHEME = "metal://";

export interface ProviderId {
  /** The partition; undefined for the older forms that carry none. */
  partition: string | undefined;
  machineId: string;
}

const UNUSABLE = /[\s/]/;

/** True when `s` is a providerID of this provider (by its scheme; it may still be malformed). */
export const isMetalProviderId = (s: string): boolean => s.startsWith(PROVIDER_ID_SCHEME);

/**
 * Encodes; a missing or unusable partition or machine id is INTERNAL (it is metal-api's data, not the
 * caller's), never turned into a key nobody else produces.
 */
export function formatProviderId(partition: string | undefined, machineId: string): string {
  if (!partition || UNUSABLE.test(partition))
    throw ServiceError.internalWithMessage(
      `machine ${machineId} has no usable partition (${JSON.stringify(partition ?? null)})`,
    );
  if (!machineId || UNUSABLE.test(machineId))
    throw ServiceError.internalWithMessage(`machine id ${JSON.stringify(machineId)} is not usable`);
  return `${PROVIDER_ID_SCHEME}${partition}/${machineId}`;
}

/**
 * Decodes a providerID the caller sent; INVALID_ARGUMENT naming `field` unless it has the scheme and a
 * non-empty last segment without whitespace (a trailing slash names no machine).
 */
export function parseProviderId(providerId: string, field: string): ProviderId {
  if (!isMetalProviderId(providerId))
    throw ServiceError.invalidArgument(
      field,
      `must start with ${PROVIDER_ID_SCHEME}, got ${JSON.stringify(providerId)}`,
    );
  const segments = providerId.slice(PROVIDER_ID_SCHEME.length).split("/");
  const machineId = segments.at(-1) ?? "";
  if (machineId === "" || /\s/.test(machineId))
    throw ServiceError.invalidArgument(field, `names no machine id: ${JSON.stringify(providerId)}`);
  const partition = segments.length === 2 && segments[0] !== "" ? segments[0] : undefined;
  return { partition, machineId };
}

/** The machine id of a providerID (see parseProviderId). */
export const machineIdOf = (providerId: string, field: string): string =>
  parseProviderId(providerId, field).machineId;
