import type { ServiceDefinition } from "@grpc/grpc-js";
import type { UnaryHandler } from "./call-context.js";

type MethodTypes<M> = M extends {
  requestDeserialize: (b: Buffer) => infer Req;
  responseSerialize: (v: infer Res) => Buffer;
}
  ? { req: Req; res: Res }
  : never;

/** Async handlers for every method of a ts-proto generated service definition. */
export type ServiceHandlers<D> = {
  [K in keyof D]: UnaryHandler<MethodTypes<D[K]>["req"], MethodTypes<D[K]>["res"]>;
};

export interface ServiceRegistration {
  readonly definition: ServiceDefinition;
  readonly handlers: Record<string, UnaryHandler<unknown, unknown>>;
  /** Fully qualified service name, e.g. metalstack.echo.v1.EchoService (for health and reflection). */
  readonly serviceName: string;
}

/** Pairs a generated service definition with its handlers; every method must be unary. */
export function defineService<D extends ServiceDefinition>(
  definition: D,
  handlers: ServiceHandlers<D>,
): ServiceRegistration {
  const paths = Object.values(definition).map((m) => m.path);
  for (const [name, m] of Object.entries(definition)) {
    if (m.requestStream || m.responseStream)
      throw new Error(`${m.path}: streaming methods are not supported by the kit`);
    if (typeof (handlers as Record<string, unknown>)[name] !== "function")
      throw new Error(`${m.path}: no handler given`);
  }
  const first = paths[0] ?? "/unknown/";
  return {
    definition,
    handlers: handlers as unknown as Record<string, UnaryHandler<unknown, unknown>>,
    serviceName: first.slice(1, first.lastIndexOf("/")),
  };
}
