// Process entry of the ignition Kubernetes adapter (OperatingSystemConfig -> user data Secret).

import { loadConfig } from "@metal-kube/config";
import { createLogger } from "@metal-kube/logging";
import { adapterConfigSpec, startIgnitionAdapter } from "./adapter.js";

const logger = createLogger({ name: "ignition-adapter" });
const config = loadConfig(adapterConfigSpec, { logger });
const adapter = await startIgnitionAdapter(config, logger);

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) process.exit(1);
  stopping = true;
  logger.info({ signal }, "stopping");
  try {
    await adapter.stop();
    logger.flush();
    process.exit(0);
  } catch (err) {
    logger.error({ err }, "error while stopping");
    logger.flush();
    process.exit(1);
  }
};
process.on("SIGTERM", () => void stop("SIGTERM"));
process.on("SIGINT", () => void stop("SIGINT"));
