import { type ChannelCredentials, credentials, Metadata, type ServiceError } from "@grpc/grpc-js";
import {
  IgnitionRendererClient,
  type RenderRequest,
  type RenderResponse,
} from "@metal-kube/proto/metalstack/ignition/v1/ignition";
import { DEFAULT_FLOW_CONTROL_WINDOW_BYTES, DEFAULT_MAX_MESSAGE_BYTES } from "@metal-kube/service-kit";
import type { RenderClient } from "./actuator.js";

export const DEFAULT_RENDER_TIMEOUT_MS = 10_000;

export interface GrpcRenderClientOptions {
  address: string;
  credentials?: ChannelCredentials;
  timeoutMs?: number;
}

/** The renderer over gRPC; errors keep the server's message (which names the field at fault). */
export function createGrpcRenderClient(o: GrpcRenderClientOptions): RenderClient & { close(): void } {
  const client = new IgnitionRendererClient(o.address, o.credentials ?? credentials.createInsecure(), {
    // User data may pass grpc-js's 4 MiB default; the service sends up to the kit's maximum.
    "grpc.max_receive_message_length": DEFAULT_MAX_MESSAGE_BYTES,
    // A large response arrives without waiting for window updates (as the kit's server grants).
    "grpc-node.flow_control_window": DEFAULT_FLOW_CONTROL_WINDOW_BYTES,
  });
  const timeoutMs = o.timeoutMs ?? DEFAULT_RENDER_TIMEOUT_MS;
  return {
    render(request: RenderRequest, signal: AbortSignal) {
      return new Promise<RenderResponse>((resolve, reject) => {
        const call = client.render(
          request,
          new Metadata(),
          { deadline: Date.now() + timeoutMs },
          (err: ServiceError | null, res?: RenderResponse) => {
            signal.removeEventListener("abort", cancel);
            if (err) reject(new Error(`render: ${err.details || err.message}`, { cause: err }));
            else resolve(res as RenderResponse);
          },
        );
        const cancel = () => call.cancel();
        signal.addEventListener("abort", cancel, { once: true });
      });
    },
    close: () => client.close(),
  };
}
