import { collectDefaultMetrics, type Registry } from "prom-client";

/** Buckets in seconds: sub-millisecond resolution matters for in-process services. */
export const DEFAULT_LATENCY_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** Per-method figures, updated on every call without label hashing (prom-client's children hash per call). */
export interface MethodMetrics {
  /** Counts a finished call with its code name and latency in seconds. */
  record(code: string, seconds: number): void;
}

export interface RpcMetrics {
  readonly registry: Registry;
  /** The recorder of one method; resolve it once, outside the call path. */
  method(method: string): MethodMetrics;
}

interface MethodState {
  codes: Map<string, number>;
  buckets: Float64Array;
  sum: number;
  count: number;
}

interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** A metric prom-client formats at scrape time from values we keep ourselves. */
function scrapedMetric(
  name: string,
  help: string,
  type: "counter" | "histogram",
  values: () => MetricValue[],
) {
  const metric = {
    name,
    help,
    type,
    aggregator: "sum",
    get: async () => ({ name, help, type, aggregator: "sum", values: values() }),
    reset: () => {},
  };
  // prom-client's Registry accepts any object of this shape; its typings only name its own classes.
  return metric as unknown as Parameters<Registry["registerMetric"]>[0];
}

/**
 * A registry with process metrics and the per-call gRPC metrics `grpc_server_handled_total{method,code}` and
 * `grpc_server_handling_seconds{method}` (histogram). The call path touches plain numbers only; prom-client
 * reads them at scrape time.
 */
export function createRpcMetrics(service: string, registry: Registry): RpcMetrics {
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const bounds = DEFAULT_LATENCY_BUCKETS;
  const methods = new Map<string, MethodState>();

  registry.registerMetric(
    scrapedMetric(
      "grpc_server_handled_total",
      "gRPC calls completed, by method and status code",
      "counter",
      () => {
        const values: MetricValue[] = [];
        for (const [method, s] of methods)
          for (const [code, n] of s.codes) values.push({ labels: { method, code }, value: n });
        return values;
      },
    ),
  );
  registry.registerMetric(
    scrapedMetric(
      "grpc_server_handling_seconds",
      "gRPC call latency in seconds, by method",
      "histogram",
      () => {
        const values: MetricValue[] = [];
        const bucket = "grpc_server_handling_seconds_bucket";
        for (const [method, s] of methods) {
          let acc = 0;
          bounds.forEach((le, i) => {
            acc += s.buckets[i]!;
            values.push({ labels: { method, le }, value: acc, metricName: bucket });
          });
          values.push({ labels: { method, le: "+Inf" }, value: s.count, metricName: bucket });
          values.push({ labels: { method }, value: s.sum, metricName: "grpc_server_handling_seconds_sum" });
          values.push({
            labels: { method },
            value: s.count,
            metricName: "grpc_server_handling_seconds_count",
          });
        }
        return values;
      },
    ),
  );

  return {
    registry,
    method(method) {
      let s = methods.get(method);
      if (!s) {
        s = { codes: new Map(), buckets: new Float64Array(bounds.length), sum: 0, count: 0 };
        methods.set(method, s);
      }
      const state = s;
      return {
        record(code, seconds) {
          state.codes.set(code, (state.codes.get(code) ?? 0) + 1);
          state.count++;
          state.sum += seconds;
          // Observations above the last bound count only toward +Inf (= count).
          for (let i = 0; i < bounds.length; i++) {
            if (seconds <= bounds[i]!) {
              state.buckets[i]!++;
              break;
            }
          }
        },
      };
    },
  };
}
