// The adapter's only way to the ignition service: the generated IgnitionRenderer definition behind the
// kit's client, sized for user data.

import { IgnitionRendererService } from "@metal-kube/proto/metalstack/ignition/v1/ignition";
import {
  createServiceClient,
  DEFAULT_FLOW_CONTROL_WINDOW_BYTES,
  DEFAULT_MAX_MESSAGE_BYTES,
  type ServiceClient,
} from "@metal-kube/service-kit";

export type IgnitionClient = ServiceClient<typeof IgnitionRendererService>;

export const DEFAULT_RENDER_TIMEOUT_MS = 10_000;

export interface IgnitionClientOptions {
  /** `host:port` or `unix:///path.sock`. */
  address: string;
  timeoutMs?: number;
}

export const createIgnitionClient = (o: IgnitionClientOptions): IgnitionClient =>
  createServiceClient(IgnitionRendererService, {
    address: o.address,
    timeoutMs: o.timeoutMs ?? DEFAULT_RENDER_TIMEOUT_MS,
    channelOptions: {
      // User data may pass grpc-js's 4 MiB default; the service sends up to the kit's maximum.
      "grpc.max_receive_message_length": DEFAULT_MAX_MESSAGE_BYTES,
      // A large response arrives without waiting for window updates (as the kit's server grants).
      "grpc-node.flow_control_window": DEFAULT_FLOW_CONTROL_WINDOW_BYTES,
    },
  });
