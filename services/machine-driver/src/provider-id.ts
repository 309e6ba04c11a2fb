// providerID `metal://<partition>/<machine-id>`: the one encoder every method uses, so ListMachines keys
// are exactly what CreateMachine returned (MCM's orphan collector compares them as strings).

import { ServiceError } from "@metal-kube/service-kit";

export const PROVIDER_ID_SCHEME = "metal://";

/** Encodes; an empty partition or id is refused, never turned into `metal:////<id>`. */
export function encodeProviderId(partition: string | undefined, id: string): string {
  if (!partition || /[\s/]/.test(partition))
    throw ServiceError.internal(
      `machine ${id} has no usable partition (${JSON.stringify(partition ?? null)})`,
    );
  if (!id || /[\s/]/.test(id)) throw ServiceError.internal(`machine id ${JSON.stringify(id)} is not usable`);
  return `${PROVIDER_ID_SCHEME}${partition}/${id}`;
}

/** The machine id: the last path segment, so older `metal:///<id>` forms decode too. */
export function decodeProviderId(providerId: string): string {
  if (!providerId.startsWith(PROVIDER_ID_SCHEME))
    throw ServiceError.invalidArgument("machine.providerID", `must start with ${PROVIDER_ID_SCHEME}`);
  const id = providerId.slice(PROVIDER_ID_SCHEME.length).split("/").at(-1) ?? "";
  if (id === "") throw ServiceError.invalidArgument("machine.providerID", "has no machine id");
  return id;
}
