// A minimal promise client for the extension's gRPC services: one deadline per call, cancellation through
// an AbortSignal, failures as ExtensionCallError with the server's code and message. It stands in for the
// service kit's createServiceClient, which replaces it when that lands.
import {
  type CallOptions,
  type ChannelCredentials,
  type Client,
  type ClientUnaryCall,
  credentials,
  Metadata,
  type ServiceError,
  status,
} from "@grpc/grpc-js";
import {
  AdmissionClient,
  type DefaultShootRequest,
  type DefaultShootResponse,
  type MutateDeploymentRequest,
  type MutateDeploymentResponse,
  type MutateOperatingSystemConfigRequest,
  type MutateOperatingSystemConfigResponse,
  SeedMutationClient,
  type ValidateCloudProfileRequest,
  type ValidateCloudProfileResponse,
  type ValidateCredentialsRequest,
  type ValidateCredentialsResponse,
  type ValidateShootRequest,
  type ValidateShootResponse,
} from "@metal-kube/proto/metalstack/extension/v1/admission";
import { DEFAULT_FLOW_CONTROL_WINDOW_BYTES, DEFAULT_MAX_MESSAGE_BYTES } from "@metal-kube/service-kit";

/** Below the webhooks' 10 s timeout, so the apiserver gets our error instead of its own timeout. */
export const DEFAULT_CALL_TIMEOUT_MS = 5_000;

/** A failed call: the gRPC code and the server's message (which names the field at fault). */
export class ExtensionCallError extends Error {
  constructor(
    readonly method: string,
    readonly code: status,
    readonly details: string,
    options?: { cause?: unknown },
  ) {
    super(`${method}: ${status[code] ?? code}: ${details}`, options);
    this.name = "ExtensionCallError";
  }
}

export interface CallOpts {
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Epoch ms by which the caller needs the answer; the call's deadline is never later. */
  deadline?: number;
}

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => ClientUnaryCall;

function call<Req, Res>(
  client: Client,
  name: string,
  method: UnaryMethod<Req, Res>,
  request: Req,
  timeoutMs: number,
  opts: CallOpts = {},
): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(new ExtensionCallError(name, status.CANCELLED, "call cancelled before it started"));
      return;
    }
    const c = method.call(
      client,
      request,
      new Metadata(),
      {
        deadline: Math.min(
          Date.now() + (opts.timeoutMs ?? timeoutMs),
          opts.deadline ?? Number.POSITIVE_INFINITY,
        ),
      },
      (err, res) => {
        opts.signal?.removeEventListener("abort", cancel);
        if (err) reject(new ExtensionCallError(name, err.code, err.details || err.message, { cause: err }));
        else resolve(res);
      },
    );
    const cancel = () => c.cancel();
    opts.signal?.addEventListener("abort", cancel, { once: true });
  });
}

export interface ExtensionClientOptions {
  /** host:port or unix:///path.sock */
  address: string;
  credentials?: ChannelCredentials;
  timeoutMs?: number;
}

export interface ExtensionClients {
  validateShoot(req: ValidateShootRequest, o?: CallOpts): Promise<ValidateShootResponse>;
  validateCloudProfile(req: ValidateCloudProfileRequest, o?: CallOpts): Promise<ValidateCloudProfileResponse>;
  validateCredentials(req: ValidateCredentialsRequest, o?: CallOpts): Promise<ValidateCredentialsResponse>;
  defaultShoot(req: DefaultShootRequest, o?: CallOpts): Promise<DefaultShootResponse>;
  mutateDeployment(req: MutateDeploymentRequest, o?: CallOpts): Promise<MutateDeploymentResponse>;
  mutateOperatingSystemConfig(
    req: MutateOperatingSystemConfigRequest,
    o?: CallOpts,
  ): Promise<MutateOperatingSystemConfigResponse>;
  close(): void;
}

export function createExtensionClients(o: ExtensionClientOptions): ExtensionClients {
  const channelOptions = {
    "grpc.max_receive_message_length": DEFAULT_MAX_MESSAGE_BYTES,
    "grpc.max_send_message_length": DEFAULT_MAX_MESSAGE_BYTES,
    "grpc-node.flow_control_window": DEFAULT_FLOW_CONTROL_WINDOW_BYTES,
    // Nothing reads the client's channelz either; its per-call bookkeeping costs every review.
    "grpc.enable_channelz": 0,
  };
  const creds = o.credentials ?? credentials.createInsecure();
  const admission = new AdmissionClient(o.address, creds, channelOptions);
  // One channel for both services: the second client shares the first one's.
  const seed = new SeedMutationClient(o.address, creds, {
    ...channelOptions,
    channelOverride: admission.getChannel(),
  });
  const t = o.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  return {
    validateShoot: (req, opts) => call(admission, "ValidateShoot", admission.validateShoot, req, t, opts),
    validateCloudProfile: (req, opts) =>
      call(admission, "ValidateCloudProfile", admission.validateCloudProfile, req, t, opts),
    validateCredentials: (req, opts) =>
      call(admission, "ValidateCredentials", admission.validateCredentials, req, t, opts),
    defaultShoot: (req, opts) => call(admission, "DefaultShoot", admission.defaultShoot, req, t, opts),
    mutateDeployment: (req, opts) => call(seed, "MutateDeployment", seed.mutateDeployment, req, t, opts),
    mutateOperatingSystemConfig: (req, opts) =>
      call(seed, "MutateOperatingSystemConfig", seed.mutateOperatingSystemConfig, req, t, opts),
    close() {
      admission.close();
    },
  };
}
