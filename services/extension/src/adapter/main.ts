// Process entry of the extension's webhook adapter: AdmissionReviews over HTTPS in, calls to the
// extension service out.
import { loadConfig } from "@metal-kube/config";
import { createLogger } from "@metal-kube/logging";
import { startExtensionAdapter } from "./adapter.js";
import { adapterConfigSpec } from "./config.js";

const logger = createLogger({ name: "extension-adapter" });
const config = loadConfig(adapterConfigSpec, { logger });
const adapter = await startExtensionAdapter(config, logger);

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
