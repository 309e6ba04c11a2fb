// Splits each call's time into metal-api time and the driver's own time, as Prometheus histograms:
// the driver's own share is what it adds on top of metal-api (target: p50 under 1 ms).

import { AsyncLocalStorage } from "node:async_hooks";
import type { Interceptor } from "@metal-kube/service-kit";
import { Histogram, type Registry } from "prom-client";
import type { MachinesApi, MetalClientPool } from "./metal-clients.js";

export const OWN_TIME_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1];
export const METAL_API_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

interface CallClock {
  metalSeconds: number;
}

export interface CallTiming {
  /** Outermost interceptor: opens the per-call clock and records the driver's own time. */
  interceptor: Interceptor;
  /** The pool with every machine call timed into the current call's clock. */
  wrap(pool: MetalClientPool): MetalClientPool;
  /** Adds the histograms to the server's registry (it exists only once the server does). */
  register(registry: Registry): void;
}

export function createCallTiming(): CallTiming {
  const als = new AsyncLocalStorage<CallClock>();
  const own = new Histogram({
    name: "machine_driver_own_seconds",
    help: "time a call spent in the driver itself, metal-api calls excluded, by method",
    labelNames: ["method"],
    buckets: OWN_TIME_BUCKETS,
    registers: [],
  });
  const metal = new Histogram({
    name: "machine_driver_metal_api_seconds",
    help: "metal-api calls made by the driver, by operation",
    labelNames: ["operation"],
    buckets: METAL_API_BUCKETS,
    registers: [],
  });

  const timed =
    <A extends unknown[], R>(operation: string, fn: (...a: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const start = performance.now();
      try {
        return await fn(...args);
      } finally {
        const s = (performance.now() - start) / 1000;
        metal.observe({ operation }, s);
        const clock = als.getStore();
        if (clock) clock.metalSeconds += s;
      }
    };

  return {
    interceptor: (next) => async (req, ctx) => {
      const clock: CallClock = { metalSeconds: 0 };
      const start = performance.now();
      try {
        return await als.run(clock, () => next(req, ctx));
      } finally {
        const total = (performance.now() - start) / 1000;
        own.observe(
          { method: ctx.method.slice(ctx.method.lastIndexOf("/") + 1) },
          Math.max(0, total - clock.metalSeconds),
        );
      }
    },
    wrap(pool) {
      const cache = new WeakMap<MachinesApi, MachinesApi>();
      return {
        machines(endpoint) {
          const api = pool.machines(endpoint);
          let w = cache.get(api);
          if (!w) {
            w = {
              allocate: timed("machine.allocate", api.allocate.bind(api)),
              get: timed("machine.get", api.get.bind(api)),
              find: timed("machine.find", api.find.bind(api)),
              findSummaries: timed("machine.find", api.findSummaries.bind(api)),
              free: timed("machine.free", api.free.bind(api)),
            };
            cache.set(api, w);
          }
          return w;
        },
        close: () => pool.close(),
      };
    },
    register(registry) {
      registry.registerMetric(own);
      registry.registerMetric(metal);
    },
  };
}
