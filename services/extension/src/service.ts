// The gRPC wiring of the extension's services (package metalstack.extension.v1, one process).
import { AdmissionService, SeedMutationService } from "@metal-kube/proto/metalstack/extension/v1/admission";
import { defineService, type ServiceRegistration } from "@metal-kube/service-kit";
import type { Admission } from "./admission.js";
import type { SeedMutation } from "./seed-mutation.js";

export function createAdmissionService(admission: Admission): ServiceRegistration {
  return defineService(AdmissionService, {
    validateShoot: async (req) => admission.validateShoot(req),
    validateCloudProfile: async (req) => admission.validateCloudProfile(req),
    validateCredentials: async (req) => admission.validateCredentials(req),
    defaultShoot: async (req) => admission.defaultShoot(req),
  });
}

export function createSeedMutationService(seed: SeedMutation): ServiceRegistration {
  return defineService(SeedMutationService, {
    mutateDeployment: async (req) => seed.mutateDeployment(req),
    mutateOperatingSystemConfig: async (req) => seed.mutateOperatingSystemConfig(req),
  });
}
