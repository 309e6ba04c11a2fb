// Promise calls on the firewall service with a deadline and an AbortSignal; a failed call rejects with
// the server's code and message. (A stand-in for the service kit's shared client helper.)

import {
  credentials,
  type ServiceError as GrpcError,
  Metadata,
  makeGenericClientConstructor,
} from "@grpc/grpc-js";
import {
  type ApplyRequest,
  type ApplyResponse,
  type FirewallClient,
  FirewallService,
  type GetStatusRequest,
  type GetStatusResponse,
  type ListCountersRequest,
  type ListCountersResponse,
  type RenderRequest,
  type RenderResponse,
} from "@metal-kube/proto/metalstack/firewall/v1/firewall";
import { DEFAULT_MAX_MESSAGE_BYTES } from "@metal-kube/service-kit";

/** An apply of a large table (check, apply, read-back) can take a few seconds on a busy machine. */
export const DEFAULT_CALL_TIMEOUT_MS = 60_000;

export class FirewallCallError extends Error {
  constructor(
    readonly method: string,
    readonly code: number,
    readonly details: string,
  ) {
    super(`${method}: ${details}`);
    this.name = "FirewallCallError";
  }
}

export interface FirewallServiceClient {
  render(req: RenderRequest, signal?: AbortSignal): Promise<RenderResponse>;
  apply(req: ApplyRequest, signal?: AbortSignal): Promise<ApplyResponse>;
  getStatus(req: GetStatusRequest, signal?: AbortSignal): Promise<GetStatusResponse>;
  listCounters(req: ListCountersRequest, signal?: AbortSignal): Promise<ListCountersResponse>;
  close(): void;
}

type Unary<Req, Res> = (
  req: Req,
  md: Metadata,
  opts: { deadline: number },
  cb: (err: GrpcError | null, res?: Res) => void,
) => { cancel(): void };

/**
 * The same request object is encoded once: a reconcile of nothing new passes the request it passed
 * before, and 10,000 CIDRs cost milliseconds to encode.
 */
const encoded = new WeakMap<ApplyRequest, Buffer>();
const CachingFirewallClient = makeGenericClientConstructor(
  {
    ...FirewallService,
    apply: {
      ...FirewallService.apply,
      requestSerialize(req: ApplyRequest): Buffer {
        let bytes = encoded.get(req);
        if (!bytes) {
          bytes = FirewallService.apply.requestSerialize(req);
          encoded.set(req, bytes);
        }
        return bytes;
      },
    },
  },
  "metalstack.firewall.v1.Firewall",
) as unknown as typeof FirewallClient;

/** `address` is `host:port` or `unix:///path.sock`. */
export function createFirewallClient(
  address: string,
  timeoutMs = DEFAULT_CALL_TIMEOUT_MS,
): FirewallServiceClient {
  const client = new CachingFirewallClient(address, credentials.createInsecure(), {
    "grpc.max_receive_message_length": DEFAULT_MAX_MESSAGE_BYTES,
    "grpc.max_send_message_length": DEFAULT_MAX_MESSAGE_BYTES,
  });
  const call =
    <Req, Res>(method: string, fn: Unary<Req, Res>) =>
    (req: Req, signal?: AbortSignal) =>
      new Promise<Res>((resolve, reject) => {
        const c = fn.call(client, req, new Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => {
          signal?.removeEventListener("abort", cancel);
          if (err) reject(new FirewallCallError(method, err.code, err.details || err.message));
          else resolve(res as Res);
        });
        const cancel = () => c.cancel();
        signal?.addEventListener("abort", cancel, { once: true });
      });
  return {
    render: call("Render", client.render as unknown as Unary<RenderRequest, RenderResponse>),
    apply: call("Apply", client.apply as unknown as Unary<ApplyRequest, ApplyResponse>),
    getStatus: call("GetStatus", client.getStatus as unknown as Unary<GetStatusRequest, GetStatusResponse>),
    listCounters: call(
      "ListCounters",
      client.listCounters as unknown as Unary<ListCountersRequest, ListCountersResponse>,
    ),
    close: () => client.close(),
  };
}
