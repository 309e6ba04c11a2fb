import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

export interface RpcMetrics {
  readonly registry: Registry;
  readonly handled: Counter<"method" | "code">;
  readonly latency: Histogram<"method">;
}

/** Buckets in seconds: sub-millisecond resolution matters for in-process services. */
export const DEFAULT_LATENCY_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** A registry with process metrics and the per-call gRPC metrics. */
export function createRpcMetrics(service: string, registry = new Registry()): RpcMetrics {
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    handled: new Counter({
      name: "grpc_server_handled_total",
      help: "gRPC calls completed, by method and status code",
      labelNames: ["method", "code"],
      registers: [registry],
    }),
    latency: new Histogram({
      name: "grpc_server_handling_seconds",
      help: "gRPC call latency in seconds, by method",
      labelNames: ["method"],
      buckets: DEFAULT_LATENCY_BUCKETS,
      registers: [registry],
    }),
  };
}
