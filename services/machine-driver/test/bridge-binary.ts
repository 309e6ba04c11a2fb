// Builds the bridge (MCM's machine controller with the gRPC driver) once per source state and caches
// the binary under ~/.cache/metal-kube/bin, like the test bed's Go builds.

import { join } from "node:path";
import { buildRepoGoBinary } from "@metal-kube/e2e";

export const BRIDGE_DIR = join(import.meta.dirname, "../src/adapter");

/** Path of the bridge binary, built when its sources changed since the last build. */
export function ensureBridgeBinary(onProgress: (line: string) => void = () => {}): Promise<string> {
  return buildRepoGoBinary({ name: "machine-controller-metal", dir: BRIDGE_DIR, onProgress });
}
