export { commandPath, SBIN_DIRS } from "./command-path.js";
export { freePort } from "./free-port.js";
export { checkHealth, healthClient, listServicesByReflection } from "./grpc-probes.js";
export { jsonLogs } from "./json-logs.js";
export { type NatsServer, type StartNatsOptions, startNats } from "./nats-server.js";
export { type ManagedProcess, type SpawnOptions, spawnProcess } from "./process.js";
export {
  DEFAULT_READY_TIMEOUT_MS,
  type ReadyContext,
  type ServiceProcess,
  type StartServiceProcessOptions,
  startServiceProcess,
} from "./service-process.js";
export { makeTempDir } from "./temp-dir.js";
export { waitFor } from "./wait-for.js";
