import { fileURLToPath } from "node:url";
import type { Logger } from "@metal-kube/logging";
import type { ProvisioningOptions } from "./domain/provisioning.js";
import type { AuthOptions, Role } from "./http/auth.js";
import { DEFAULT_FAULTS, type Faults } from "./http/faults.js";
import type { Inventory, InventoryInput } from "./inventory/schema.js";

export interface EmulatorOptions {
  /** Listen address; default 0.0.0.0. */
  host?: string;
  /** Listen port; default 8080, 0 picks a free one. */
  port?: number;
  /** Inventory: a YAML/JSON file path or an inventory object; default the shipped inventory/default.yaml. */
  inventory?: string | InventoryInput | Inventory;
  /** State file; unset or `persist: false` keeps everything in memory. */
  stateFile?: string;
  persist?: boolean;
  hmacKeys?: Partial<Record<Role, string>>;
  hmacLifetimesMs?: Partial<Record<Role, number>>;
  tokens?: Partial<Record<Role, string>>;
  provisioning?: Partial<ProvisioningOptions>;
  faults?: Partial<Faults>;
  logger?: Logger;
  now?: () => Date;
}

export const DEFAULT_HOST = "0.0.0.0";
export const DEFAULT_PORT = 8080;
export const DEFAULT_INVENTORY_FILE = fileURLToPath(new URL("../inventory/default.yaml", import.meta.url));
/** Local-only defaults; a real deployment sets METAL_API_HMAC_*_KEY. */
export const DEFAULT_HMAC_KEYS: Record<Role, string> = {
  view: "metal-view",
  edit: "metal-edit",
  admin: "metal-admin",
};
/** metal-api's defaults for hmac-view/edit/admin-lifetime. */
export const DEFAULT_HMAC_LIFETIMES_MS: Record<Role, number> = { view: 30_000, edit: 30_000, admin: 90_000 };
export const DEFAULT_PROVISIONING: ProvisioningOptions = {
  stepMs: 2_000,
  freeDelayMs: 1_000,
  phoneHomeMs: 60_000,
};

export interface ParsedEmulatorOptions {
  host: string;
  port: number;
  inventory: string | InventoryInput | Inventory;
  stateFile: string | undefined;
  auth: AuthOptions;
  provisioning: ProvisioningOptions;
  faults: Faults;
  logger: Logger | undefined;
  now: () => Date;
}

export function parseOptions(o: EmulatorOptions = {}): ParsedEmulatorOptions {
  const port = o.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`emulator option port: must be 0..65535, got ${port}`);
  const provisioning = { ...DEFAULT_PROVISIONING, ...o.provisioning };
  for (const [k, v] of Object.entries(provisioning)) {
    if (!Number.isFinite(v) || v < 0)
      throw new Error(`emulator option provisioning.${k}: must be a number >= 0, got ${v}`);
  }
  return {
    host: o.host ?? DEFAULT_HOST,
    port,
    inventory: o.inventory ?? DEFAULT_INVENTORY_FILE,
    stateFile: o.persist === false ? undefined : o.stateFile,
    auth: {
      hmacKeys: { ...DEFAULT_HMAC_KEYS, ...o.hmacKeys },
      hmacLifetimesMs: { ...DEFAULT_HMAC_LIFETIMES_MS, ...o.hmacLifetimesMs },
      tokens: { view: "", edit: "", admin: "", ...o.tokens },
    },
    provisioning,
    faults: { ...DEFAULT_FAULTS, ...o.faults },
    logger: o.logger,
    now: o.now ?? (() => new Date()),
  };
}
