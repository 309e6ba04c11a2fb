// providerID `metal://<partition>/<machine-id>`; older forms (`metal:///<id>`, `metal:////<id>`) exist,
// so the machine id is always the last path segment.

import { ServiceError } from "@metal-kube/service-kit";

export const PROVIDER_PREFIX = "metal://";

export function formatProviderId(partition: string, machineId: string): string {
  return `${PROVIDER_PREFIX}${partition}/${machineId}`;
}

/** The machine id of a providerID; INVALID_ARGUMENT naming `field` when it is not a metal providerID. */
export function machineIdOf(providerId: string, field = "node.provider_id"): string {
  if (!providerId.startsWith(PROVIDER_PREFIX))
    throw ServiceError.invalidArgument(
      field,
      `must start with ${PROVIDER_PREFIX}, got ${JSON.stringify(providerId)}`,
    );
  const id = providerId.slice(PROVIDER_PREFIX.length).split("/").filter(Boolean).at(-1) ?? "";
  if (id === "")
    throw ServiceError.invalidArgument(field, `names no machine id: ${JSON.stringify(providerId)}`);
  return id;
}
