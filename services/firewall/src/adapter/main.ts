// Process entry of the firewall adapter: the shoot's CWNPs and Services and the seed's Firewall, applied
// through the firewall service.

import { loadConfig } from "@metal-kube/config";
import { createLogger } from "@metal-kube/logging";
import { startFirewallAdapter } from "./adapter.js";
import { adapterConfigSpec } from "./config.js";

const logger = createLogger({ name: "firewall-adapter" });
const config = loadConfig(adapterConfigSpec, { logger });
const adapter = await startFirewallAdapter(config, logger);

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
