import { readFileSync } from "node:fs";
import type { Server } from "@grpc/grpc-js";
import { loadFileDescriptorSetFromBuffer, loadSync, type PackageDefinition } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { DESCRIPTOR_SET_PATH } from "@metal-kube/proto";
import { protoPath as healthProtoPath } from "grpc-health-check";

let cached: PackageDefinition | undefined;

/** Every proto of the repo plus grpc.health.v1, loaded once from the descriptor set buf builds. */
function packageDefinition(): PackageDefinition {
  cached ??= {
    ...loadFileDescriptorSetFromBuffer(readFileSync(DESCRIPTOR_SET_PATH)),
    ...loadSync(healthProtoPath),
  };
  return cached;
}

/** Serves grpc.reflection (v1 and v1alpha) for the given services and health, so grpcurl list/describe work. */
export function addReflection(server: Server, serviceNames: string[]): void {
  new ReflectionService(packageDefinition(), {
    services: [...serviceNames, "grpc.health.v1.Health"],
  }).addToServer(server);
}
