// The client side of the kit: promise calls over any generated grpc-js service definition, each with a
// deadline and an AbortSignal; a failed call rejects with the kit's ServiceError (the server's code and
// message, grpc-js' error as its cause). Adapters reach their service only through this.

import {
  type ChannelCredentials,
  type ChannelOptions,
  Client,
  type ServiceError as GrpcError,
  credentials as grpcCredentials,
  Metadata,
  type ServiceDefinition,
} from "@grpc/grpc-js";
import { Code, ServiceError } from "./service-error.js";

/** Deadline of a call when neither the client nor the call sets one. */
export const DEFAULT_CALL_TIMEOUT_MS = 30_000;

export interface ServiceClientOptions {
  /** `host:port` or `unix:///path.sock` (the service's GRPC_LISTEN, as an adapter in its pod dials it). */
  address: string;
  /** Plaintext when absent (a pod-local socket or loopback). */
  credentials?: ChannelCredentials;
  /** Deadline of every call unless the call sets its own (default DEFAULT_CALL_TIMEOUT_MS). */
  timeoutMs?: number;
  /** grpc-js channel options, e.g. a larger grpc.max_receive_message_length. */
  channelOptions?: Partial<ChannelOptions>;
}

export interface ServiceCallOptions {
  /** Aborting cancels the call; it then rejects with CANCELLED. */
  signal?: AbortSignal;
  /** This call's deadline instead of the client's. */
  timeoutMs?: number;
}

type Unary = {
  path: string;
  requestSerialize: (v: never) => Buffer;
  responseDeserialize: (b: Buffer) => unknown;
};
type RequestOf<M> = M extends { requestSerialize: (v: infer Req) => Buffer } ? Req : never;
type ResponseOf<M> = M extends { responseDeserialize: (b: Buffer) => infer Res } ? Res : never;

/** One promise method per RPC of the definition, named as ts-proto names them (camelCase). */
export type ServiceClient<D> = {
  readonly [K in keyof D]: (
    request: RequestOf<D[K]>,
    options?: ServiceCallOptions,
  ) => Promise<ResponseOf<D[K]>>;
} & {
  /** The address dialled. */
  readonly address: string;
  /** Resolves once the channel is connected (e.g. the service's socket exists); rejects after `timeoutMs`. */
  waitForReady(timeoutMs: number): Promise<void>;
  close(): void;
};

/** A generated definition (`CloudProviderService`) or client constructor (`CloudProviderClient`). */
export type ServiceDefinitionOrClient<D> = D | { readonly service: D };

/** Turns grpc-js' callback error into the kit's error, keeping the server's code and message. */
export function fromGrpcError(err: GrpcError): ServiceError {
  return new ServiceError(err.code ?? Code.UNKNOWN, err.details || err.message, { cause: err });
}

/** Promise calls over one channel to the service of `definition`; every method must be unary. */
export function createServiceClient<D extends ServiceDefinition>(
  definition: ServiceDefinitionOrClient<D>,
  o: ServiceClientOptions,
): ServiceClient<D> {
  const def = (
    typeof definition === "function" ? (definition as { service: D }).service : definition
  ) as ServiceDefinition;
  // grpc-js dials `unix:///path` itself, as the kit's server binds it.
  const client = new Client(
    o.address,
    o.credentials ?? grpcCredentials.createInsecure(),
    o.channelOptions ?? {},
  );
  const defaultTimeout = o.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  const out: Record<string, unknown> = {
    address: o.address,
    waitForReady: (timeoutMs: number) =>
      new Promise<void>((resolve, reject) =>
        client.waitForReady(Date.now() + timeoutMs, (err) =>
          err
            ? reject(
                new ServiceError(Code.UNAVAILABLE, `${o.address} not reachable: ${err.message}`, {
                  cause: err,
                }),
              )
            : resolve(),
        ),
      ),
    close: () => client.close(),
  };
  for (const [name, m] of Object.entries(def)) {
    if (m.requestStream || m.responseStream)
      throw new Error(`${m.path}: streaming methods are not supported`);
    const method = m as unknown as Unary;
    out[name] = (request: unknown, call: ServiceCallOptions = {}) =>
      new Promise((resolve, reject) => {
        const { signal } = call;
        if (signal?.aborted) {
          reject(new ServiceError(Code.CANCELLED, `${method.path}: cancelled before the call`));
          return;
        }
        const onAbort = () => pending.cancel();
        const pending = client.makeUnaryRequest(
          method.path,
          method.requestSerialize as (v: unknown) => Buffer,
          method.responseDeserialize,
          request,
          new Metadata(),
          { deadline: Date.now() + (call.timeoutMs ?? defaultTimeout) },
          (err, response) => {
            signal?.removeEventListener("abort", onAbort);
            if (err) reject(fromGrpcError(err));
            else resolve(response);
          },
        );
        signal?.addEventListener("abort", onAbort, { once: true });
      });
  }
  return out as ServiceClient<D>;
}
