import { loadConfig } from "@metal-kube/config";
import { createLogger } from "@metal-kube/logging";
import { CONFIG, optionsFromConfig } from "./config.js";
import { createEmulator } from "./emulator.js";
import { InventoryError } from "./inventory/load-inventory.js";

// Process entry: `npm run emulator` (root) or `npm start -w @metal-kube/metal-api-emulator`.
const log = createLogger({ name: "metal-api-emulator" });
const config = loadConfig(CONFIG, { logger: log });
try {
  const emulator = await createEmulator({ ...optionsFromConfig(config), logger: log });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping");
    await emulator.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
} catch (err) {
  if (err instanceof InventoryError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  log.error({ err }, "emulator failed to start");
  process.exit(1);
}
