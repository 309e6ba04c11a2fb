// The adapter's only way to the ccm service: the generated CloudProvider definition behind the kit's client.

import { CloudProviderService } from "@metal-kube/proto/metalstack/ccm/v1/ccm";
import { createServiceClient, DEFAULT_MAX_MESSAGE_BYTES, type ServiceClient } from "@metal-kube/service-kit";

export type CcmClient = ServiceClient<typeof CloudProviderService>;

export interface CcmClientOptions {
  /** `host:port` or `unix:///path.sock`. */
  address: string;
  timeoutMs?: number;
}

export const createCcmClient = (o: CcmClientOptions): CcmClient =>
  createServiceClient(CloudProviderService, {
    address: o.address,
    timeoutMs: o.timeoutMs,
    // The rendered config of thousands of nodes passes grpc-js' 4 MiB default; the service sends up to
    // the kit's maximum.
    channelOptions: { "grpc.max_receive_message_length": DEFAULT_MAX_MESSAGE_BYTES },
  });
