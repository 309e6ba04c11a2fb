// The SeedMutation service's domain: a shoot's Deployment or OperatingSystemConfig in, the mutated object
// and its JSON patch out.
import type {
  MutateDeploymentRequest,
  MutateDeploymentResponse,
  MutateOperatingSystemConfigRequest,
  MutateOperatingSystemConfigResponse,
} from "@metal-kube/proto/metalstack/extension/v1/admission";
import { DEPLOYMENT, OPERATING_SYSTEM_CONFIG, parseObject } from "./gardener/objects.js";
import { createPatch } from "./json-patch.js";
import { networkIsolationMessage } from "./provider-config/cloud-profile-config.js";
import { SeedContext } from "./seed/context.js";
import { mutateDeployment } from "./seed/deployments.js";
import { DEFAULT_SIDECAR_OPTIONS, type SidecarOptions } from "./seed/mcm-sidecars.js";
import { mutateOperatingSystemConfig } from "./seed/osc.js";

export interface SeedMutationOptions {
  sidecars?: SidecarOptions;
}

export interface SeedMutation {
  mutateDeployment(req: MutateDeploymentRequest): MutateDeploymentResponse;
  mutateOperatingSystemConfig(req: MutateOperatingSystemConfigRequest): MutateOperatingSystemConfigResponse;
}

const patchBytes = (before: unknown, after: unknown, changed: boolean) =>
  Buffer.from(JSON.stringify(changed ? createPatch(before, after) : []));

export function createSeedMutation(options: SeedMutationOptions = {}): SeedMutation {
  const sidecars = options.sidecars ?? DEFAULT_SIDECAR_OPTIONS;
  return {
    mutateDeployment(req) {
      const deployment = parseObject(req.deployment, "deployment", [DEPLOYMENT]);
      const r = mutateDeployment(deployment, new SeedContext(req.context), sidecars);
      const changed = r.changes.length > 0;
      return {
        deployment: changed ? Buffer.from(JSON.stringify(r.deployment)) : Buffer.from(req.deployment),
        patch: patchBytes(deployment, r.deployment, changed),
        changes: r.changes,
        needs: r.needs,
      };
    },

    mutateOperatingSystemConfig(req) {
      const osc = parseObject(req.osc, "osc", [OPERATING_SYSTEM_CONFIG]);
      const old = parseObject(req.oldOsc, "old_osc", [OPERATING_SYSTEM_CONFIG], true);
      const r = mutateOperatingSystemConfig(osc, old, new SeedContext(req.context));
      const changed = r.changes.length > 0;
      return {
        osc: changed ? Buffer.from(JSON.stringify(r.osc)) : Buffer.from(req.osc),
        patch: patchBytes(osc, r.osc, changed),
        changes: r.changes,
        needs: r.needs,
        imageProviderConfig: r.imageProviderConfig && {
          networkIsolation: networkIsolationMessage(r.imageProviderConfig.networkIsolation),
        },
      };
    },
  };
}
