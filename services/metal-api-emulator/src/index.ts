export { CONFIG, defaultStateFile, optionsFromConfig } from "./config.js";
export { ApiError } from "./domain/api-error.js";
export type { ProvisioningOptions } from "./domain/provisioning.js";
export { createEmulator, type Emulator } from "./emulator.js";
export type { AuthOptions, Role } from "./http/auth.js";
export { DEFAULT_FAULTS, type Faults } from "./http/faults.js";
export { InventoryError, parseInventory, readInventoryFile, stableUuid } from "./inventory/load-inventory.js";
export type { Inventory, InventoryInput } from "./inventory/schema.js";
export { smallInventory } from "./inventory/small-inventory.js";
export {
  DEFAULT_HMAC_KEYS,
  DEFAULT_HMAC_LIFETIMES_MS,
  DEFAULT_HOST,
  DEFAULT_INVENTORY_FILE,
  DEFAULT_PORT,
  DEFAULT_PROVISIONING,
  type EmulatorOptions,
  parseOptions,
} from "./options.js";
export type { Store } from "./state/store.js";
