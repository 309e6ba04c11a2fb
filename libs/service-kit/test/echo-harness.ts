import { join } from "node:path";
import {
  type ChannelCredentials,
  credentials,
  type ServiceError as GrpcError,
  Metadata,
} from "@grpc/grpc-js";
import {
  type EchoRequest,
  type EchoResponse,
  EchoServiceClient,
} from "@metal-kube/proto/metalstack/echo/v1/echo";
import { type ManagedProcess, makeTempDir, startServiceProcess } from "@metal-kube/testing";

export const ECHO_FIXTURE = join(import.meta.dirname, "fixtures/echo-service.ts");

export interface EchoProcess {
  proc: ManagedProcess;
  address: string;
  metricsAddress: string;
  logs(): Array<Record<string, unknown>>;
}

/** Starts the echo fixture as a child process and waits for its listen log line. */
export async function startEcho(env: Record<string, string> = {}): Promise<EchoProcess> {
  const outbox = makeTempDir("echo-outbox-");
  const p = await startServiceProcess({
    name: "echo",
    entry: ECHO_FIXTURE,
    env: { LOG_LEVEL: "info", EVENTS_OUTBOX_DIR: outbox.path, ...env },
    ready: "gRPC server listening",
    keepOutput: 4 * 1024 * 1024,
  });
  void p.proc.exited.then(() => outbox.remove());
  return {
    proc: p.proc,
    address: String(p.ready.address),
    metricsAddress: String(p.ready.metricsAddress),
    logs: p.logs,
  };
}

export function echoClient(
  address: string,
  creds: ChannelCredentials = credentials.createInsecure(),
  options = {},
) {
  const client = new EchoServiceClient(address, creds, options);
  const call = (req: Partial<EchoRequest>, deadlineMs?: number): Promise<EchoResponse> =>
    new Promise((resolve, reject) =>
      client.echo(
        { message: "", delayMs: 0, failWith: "", token: "", ...req },
        new Metadata(),
        deadlineMs ? { deadline: Date.now() + deadlineMs } : {},
        (err: GrpcError | null, res?: EchoResponse) => (err ? reject(err) : resolve(res!)),
      ),
    );
  return { client, call };
}
