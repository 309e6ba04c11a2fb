import type { Metadata } from "@grpc/grpc-js";
import type { Logger } from "@metal-kube/logging";

/** What a handler knows of its call besides the request. */
export interface CallContext {
  /** Full method path, e.g. /metalstack.echo.v1.EchoService/Echo. */
  readonly method: string;
  /** Aborted when the caller cancels or the deadline passes: pass it on to outgoing calls. */
  readonly signal: AbortSignal;
  /** The caller's deadline, if it set one. */
  readonly deadline: Date | undefined;
  readonly peer: string;
  readonly metadata: Metadata;
  /** A child logger bound to this call. */
  readonly logger: Logger;
}

export type UnaryHandler<Req, Res> = (request: Req, context: CallContext) => Promise<Res>;

/** Wraps a unary handler (connect-es style): logging, metrics, deadlines are interceptors. */
export type Interceptor = <Req, Res>(next: UnaryHandler<Req, Res>) => UnaryHandler<Req, Res>;
