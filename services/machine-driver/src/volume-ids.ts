// GetVolumeIDs: the CSI volume handles of a node's persistent volumes, which MCM waits on while draining.

import type { PersistentVolumeSpec } from "@metal-kube/proto/metalstack/machinedriver/v1/machine_driver";
import { ServiceError } from "@metal-kube/service-kit";

export const LIGHTBITS_DRIVER = "csi.lightbitslabs.com";

/** Lightbits handles are `key:value|key:value`; the volume id is the `nguid` field. */
function lightbitsNguid(handle: string): string | undefined {
  for (const part of handle.split("|")) {
    const i = part.indexOf(":");
    if (i > 0 && part.slice(0, i).trim() === "nguid") {
      const v = part.slice(i + 1).trim();
      return v === "" ? undefined : v;
    }
  }
  return undefined;
}

export function volumeIdsOf(specs: readonly PersistentVolumeSpec[]): string[] {
  const ids: string[] = [];
  for (const [i, spec] of specs.entries()) {
    const csi = spec.csi;
    if (!csi) continue;
    const handle = csi.volumeHandle.trim();
    if (handle === "") throw ServiceError.invalidArgument(`pvSpecs[${i}].csi.volumeHandle`, "is empty");
    if (csi.driver === LIGHTBITS_DRIVER) {
      const nguid = lightbitsNguid(handle);
      if (!nguid)
        throw ServiceError.invalidArgument(
          `pvSpecs[${i}].csi.volumeHandle`,
          `has no nguid field (want key:value|key:value with nguid), got ${JSON.stringify(handle)}`,
        );
      ids.push(nguid);
    } else {
      ids.push(handle);
    }
  }
  return ids;
}
