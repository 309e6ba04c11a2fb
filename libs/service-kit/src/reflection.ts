import { readFileSync } from "node:fs";
import type { Server } from "@grpc/grpc-js";
import type { PackageDefinition } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { DESCRIPTOR_SET_PATH, HEALTH_DESCRIPTOR_SET_PATH } from "@metal-kube/proto";
import { splitFileDescriptorSet } from "./descriptor-set.js";

let cached: PackageDefinition | undefined;

/**
 * Every proto of the repo plus grpc.health.v1, as the files buf encoded. The reflection service only reads
 * `fileDescriptorProtos`, so one entry carrying all files is a complete package definition for it.
 */
function packageDefinition(): PackageDefinition {
  cached ??= {
    files: {
      fileDescriptorProtos: [
        ...splitFileDescriptorSet(readFileSync(DESCRIPTOR_SET_PATH)),
        ...splitFileDescriptorSet(readFileSync(HEALTH_DESCRIPTOR_SET_PATH)),
      ],
    } as unknown as PackageDefinition[string],
  };
  return cached;
}

/** Serves grpc.reflection (v1 and v1alpha) for the given services and health, so grpcurl list/describe work. */
export function addReflection(server: Server, serviceNames: string[]): void {
  new ReflectionService(packageDefinition(), {
    services: [...serviceNames, "grpc.health.v1.Health"],
  }).addToServer(server);
}
