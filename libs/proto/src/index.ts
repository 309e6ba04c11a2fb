import { fileURLToPath } from "node:url";

/** Path of the binary FileDescriptorSet of every proto in the repo (built by `buf build`), used for reflection. */
export const DESCRIPTOR_SET_PATH = fileURLToPath(new URL("./gen/descriptor.binpb", import.meta.url));

/** grpc.health.v1 as a binary FileDescriptorSet, built by buf from grpc-health-check's proto. */
export const HEALTH_DESCRIPTOR_SET_PATH = fileURLToPath(new URL("./gen/health.binpb", import.meta.url));
