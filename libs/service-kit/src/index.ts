export { type AdapterDefaults, adapterKitConfigSpec, serviceAddressVariable } from "./adapter-config.js";
export type { CallContext, Interceptor, UnaryHandler } from "./call-context.js";
export { serverCredentials, type TlsOptions } from "./credentials.js";
export { defineService, type ServiceHandlers, type ServiceRegistration } from "./define-service.js";
export { DEFAULT_FLOW_CONTROL_WINDOW_BYTES } from "./flow-control.js";
export {
  createGrpcServer,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  type GrpcServer,
  type GrpcServerOptions,
} from "./grpc-server.js";
export { DEFAULT_NATS_URL, kitConfigSpec, tlsFromConfig } from "./kit-config.js";
export {
  createRpcMetrics,
  DEFAULT_LATENCY_BUCKETS,
  type MethodMetrics,
  type RpcMetrics,
} from "./metrics.js";
export {
  type AdapterKitConfig,
  type RunAdapterOptions,
  type RunningAdapter,
  runAdapter,
} from "./run-adapter.js";
export { type KitConfig, type RunServiceOptions, runService, type ServiceSetup } from "./run-service.js";
export {
  createServiceClient,
  DEFAULT_CALL_TIMEOUT_MS,
  fromGrpcError,
  type ServiceCallOptions,
  type ServiceClient,
  type ServiceClientOptions,
  type ServiceDefinitionOrClient,
} from "./service-client.js";
export {
  Code,
  codeName,
  type ErrorMapper,
  ServiceError,
  type ServiceErrorOptions,
  toServiceError,
} from "./service-error.js";
export { removeStaleSocket, unixSocketPath } from "./stale-socket.js";
export { type Violation, Violations } from "./violations.js";
