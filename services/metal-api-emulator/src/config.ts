import { homedir } from "node:os";
import { join } from "node:path";
import { bool, type ConfigValues, duration, field, integer, port, text } from "@metal-kube/config";
import { z } from "zod";
import type { EmulatorOptions } from "./options.js";

const rate = () =>
  z
    .string()
    .regex(/^(0(\.\d+)?|1(\.0+)?)$/, { error: "must be a number from 0 to 1" })
    .transform(Number);

/** Environment of the emulator process; names follow metal-api's own flags where it has them. */
export const CONFIG = {
  port: field("PORT", port(), { default: "8080", description: "HTTP port" }),
  host: field("HOST", text(), { default: "0.0.0.0", description: "listen address" }),
  viewKey: field("METAL_API_HMAC_VIEW_KEY", text(), {
    default: "metal-view",
    secret: true,
    description: "HMAC key of the Metal-View user",
  }),
  editKey: field("METAL_API_HMAC_EDIT_KEY", text(), {
    default: "metal-edit",
    secret: true,
    description: "HMAC key of the Metal-Edit user",
  }),
  adminKey: field("METAL_API_HMAC_ADMIN_KEY", text(), {
    default: "metal-admin",
    secret: true,
    description: "HMAC key of the Metal-Admin user",
  }),
  viewLifetime: field("METAL_API_HMAC_VIEW_LIFETIME", duration(), {
    default: "30s",
    description: "oldest accepted X-Date for Metal-View",
  }),
  editLifetime: field("METAL_API_HMAC_EDIT_LIFETIME", duration(), {
    default: "30s",
    description: "oldest accepted X-Date for Metal-Edit",
  }),
  adminLifetime: field("METAL_API_HMAC_ADMIN_LIFETIME", duration(), {
    default: "90s",
    description: "oldest accepted X-Date for Metal-Admin",
  }),
  viewToken: field("METAL_API_VIEW_TOKEN", text(), {
    optional: true,
    secret: true,
    description: "bearer token of a viewer",
  }),
  editToken: field("METAL_API_EDIT_TOKEN", text(), {
    optional: true,
    secret: true,
    description: "bearer token of an editor",
  }),
  adminToken: field("METAL_API_ADMIN_TOKEN", text(), {
    optional: true,
    secret: true,
    description: "bearer token of an admin",
  }),
  inventory: field("EMULATOR_INVENTORY", text(), {
    optional: true,
    description: "inventory file (YAML or JSON); default: the shipped inventory/default.yaml",
  }),
  stateFile: field("EMULATOR_STATE_FILE", text(), {
    optional: true,
    description: "state file; default $XDG_STATE_HOME/metal-kube/metal-api-emulator/state.json",
  }),
  persist: field("EMULATOR_PERSIST", bool(), { default: "true", description: "keep state across restarts" }),
  provisionStep: field("EMULATOR_PROVISION_STEP", duration(), {
    default: "2s",
    description: "time between provisioning events",
  }),
  freeDelay: field("EMULATOR_FREE_DELAY", duration(), {
    default: "1s",
    description: "time until a freed machine's networks and allocation are released",
  }),
  phoneHome: field("EMULATOR_PHONE_HOME_INTERVAL", duration(), {
    default: "1m",
    description: "allocated machines phone home this often",
  }),
  faultLatency: field("EMULATOR_FAULT_LATENCY", duration(), {
    default: "0ms",
    description: "fault injection: added latency per /v1 request",
  }),
  faultErrorRate: field("EMULATOR_FAULT_ERROR_RATE", rate(), {
    default: "0",
    description: "fault injection: share of /v1 requests answered 500",
  }),
  faultDown: field("EMULATOR_FAULT_DOWN", bool(), {
    default: "false",
    description: "fault injection: /v1 connections closed unanswered",
  }),
  faultDrop: field("EMULATOR_FAULT_DROP_ALLOCATE_RESPONSES", integer(0), {
    default: "0",
    description: "fault injection: the next N allocations are committed but their answer dropped",
  }),
};

export function defaultStateFile(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_STATE_HOME || join(homedir(), ".local", "state");
  return join(base, "metal-kube", "metal-api-emulator", "state.json");
}

export function optionsFromConfig(c: ConfigValues<typeof CONFIG>): EmulatorOptions {
  return {
    port: c.port,
    host: c.host,
    hmacKeys: { view: c.viewKey, edit: c.editKey, admin: c.adminKey },
    hmacLifetimesMs: { view: c.viewLifetime, edit: c.editLifetime, admin: c.adminLifetime },
    tokens: { view: c.viewToken ?? "", edit: c.editToken ?? "", admin: c.adminToken ?? "" },
    ...(c.inventory ? { inventory: c.inventory } : {}),
    stateFile: c.stateFile ?? defaultStateFile(),
    persist: c.persist,
    provisioning: { stepMs: c.provisionStep, freeDelayMs: c.freeDelay, phoneHomeMs: c.phoneHome },
    faults: {
      latencyMs: c.faultLatency,
      errorRate: c.faultErrorRate,
      down: c.faultDown,
      dropAllocateResponses: c.faultDrop,
    },
  };
}
