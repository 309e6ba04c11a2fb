export { DEFAULT_LISTEN, DEFAULT_METRICS_LISTEN, driverConfigSpec } from "./config.js";
export { type MetalEndpoint, parseSecret } from "./credentials.js";
export {
  type CallInfo,
  createMachineDriver,
  DEFAULT_INITIALIZE_POLL_MS,
  DEFAULT_INITIALIZE_WAIT_MS,
  type MachineDriver,
  type MachineDriverOptions,
  UNINITIALIZED,
} from "./machine-driver.js";
export type { MachineEventAction, MachineEventData, MachineEventSink } from "./machine-events.js";
export { createMetalClientPool, type MachinesApi, type MetalClientPool } from "./metal-clients.js";
export { type ProviderSpec, parseProviderSpec } from "./provider-spec.js";
export { machineDriverService, SERVICE_NAME } from "./service.js";
