import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { type ChannelCredentials, type Client, credentials, loadPackageDefinition } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";

const require = createRequire(import.meta.url);
const loaderOptions = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

type Ctor = new (address: string, creds: ChannelCredentials) => Client;

function loadCtor(protoFile: string, path: string[]): Ctor {
  let obj: unknown = loadPackageDefinition(loadSync(protoFile, loaderOptions));
  for (const p of path) obj = (obj as Record<string, unknown>)[p];
  return obj as Ctor;
}

let healthCtor: Ctor | undefined;
let reflectionCtor: Ctor | undefined;

/** A grpc.health.v1.Health client built from the proto grpc-health-check ships. */
export function healthClient(address: string, creds = credentials.createInsecure()) {
  healthCtor ??= loadCtor(require("grpc-health-check").protoPath as string, [
    "grpc",
    "health",
    "v1",
    "Health",
  ]);
  return new healthCtor(address, creds) as Client & {
    check(req: { service: string }, cb: (err: Error | null, res?: { status: string }) => void): void;
    watch(req: { service: string }): NodeJS.EventEmitter & { cancel(): void };
  };
}

/** Health status of `service` ("" = the server) as the string name, e.g. SERVING. */
export function checkHealth(
  address: string,
  service = "",
  creds = credentials.createInsecure(),
): Promise<string> {
  const c = healthClient(address, creds);
  return new Promise((resolve, reject) =>
    c.check({ service }, (err, res) => {
      c.close();
      err ? reject(err) : resolve(res!.status);
    }),
  );
}

/** Service names the server lists through grpc.reflection.v1 (what `grpcurl list` shows). */
export function listServicesByReflection(
  address: string,
  creds = credentials.createInsecure(),
): Promise<string[]> {
  const proto = join(
    dirname(require.resolve("@grpc/reflection/package.json")),
    "build/proto/grpc/reflection/v1/reflection.proto",
  );
  reflectionCtor ??= loadCtor(proto, ["grpc", "reflection", "v1", "ServerReflection"]);
  const c = new reflectionCtor(address, creds) as Client & {
    ServerReflectionInfo(): NodeJS.EventEmitter & { write(m: unknown): void; end(): void };
  };
  return new Promise((resolve, reject) => {
    const stream = c.ServerReflectionInfo();
    stream.on(
      "data",
      (m: {
        list_services_response?: { service: Array<{ name: string }> };
        error_response?: { error_message: string };
      }) => {
        c.close();
        if (m.list_services_response) resolve(m.list_services_response.service.map((s) => s.name).sort());
        else reject(new Error(m.error_response?.error_message ?? "no list_services_response"));
      },
    );
    stream.on("error", (err: Error) => {
      c.close();
      reject(err);
    });
    stream.write({ list_services: "" });
    stream.end();
  });
}
