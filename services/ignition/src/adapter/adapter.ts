import { createServer, type Server } from "node:http";
import {
  bool,
  type ConfigValues,
  duration,
  enumOf,
  field,
  hostPort,
  integer,
  list,
  text,
} from "@metal-kube/config";
import { createKubeClient, createKubeMetrics, createLeaderElector, type KubeClient } from "@metal-kube/kube";
import type { Logger } from "@metal-kube/logging";
import { SpecVersion } from "@metal-kube/proto/metalstack/ignition/v1/ignition";
import { Registry } from "prom-client";
import { IGNITION_VERSIONS } from "../spec-version.js";
import { createOscActuator } from "./actuator.js";
import { createOscController, DEFAULT_OSC_TYPES, type OscController } from "./controller.js";
import { createGrpcRenderClient } from "./grpc-render-client.js";
import { SECRET_RESOURCE, type SecretObject, secretApiFrom } from "./secrets.js";

export const DEFAULT_IGNITION_ADDRESS = "127.0.0.1:50054";
export const DEFAULT_ADAPTER_METRICS_LISTEN = "0.0.0.0:9055";
export const LEADER_ELECTION_LEASE = "metal-kube-ignition";

export const adapterConfigSpec = {
  kubeconfig: field("KUBECONFIG", text(), {
    optional: true,
    description: "kubeconfig file; in-cluster ServiceAccount when unset",
  }),
  ignitionAddress: field("IGNITION_ADDRESS", hostPort(), {
    default: DEFAULT_IGNITION_ADDRESS,
    description: "gRPC address of the ignition service",
  }),
  types: field("OSC_TYPES", list(), {
    default: DEFAULT_OSC_TYPES.join(","),
    description: "OperatingSystemConfig spec.type values this adapter handles",
  }),
  namespace: field("WATCH_NAMESPACE", text(), {
    optional: true,
    description: "watch only this namespace (all when unset)",
  }),
  specVersion: field("IGNITION_SPEC_VERSION", enumOf(IGNITION_VERSIONS), {
    optional: true,
    description: "Ignition spec asked of the service; the service's default when unset",
  }),
  concurrency: field("ADAPTER_CONCURRENCY", integer(1, 1000), {
    default: "10",
    description: "OSCs reconciled at once",
  }),
  resyncPeriodMs: field("RESYNC_PERIOD", duration(), {
    default: "10m",
    description: "every OSC is reconciled again at this period (secret changes are picked up then)",
  }),
  leaderElect: field("LEADER_ELECT", bool(), {
    default: "false",
    description: "run with leader election (a Lease in LEADER_ELECTION_NAMESPACE)",
  }),
  leaderElectionNamespace: field("LEADER_ELECTION_NAMESPACE", text(), {
    default: "default",
    description: "namespace of the leader election Lease",
  }),
  metricsListen: field("ADAPTER_METRICS_LISTEN", hostPort(), {
    default: DEFAULT_ADAPTER_METRICS_LISTEN,
    description: "HTTP address of /metrics and /healthz",
  }),
};

type AdapterConfig = ConfigValues<typeof adapterConfigSpec>;

export interface IgnitionAdapter {
  readonly kube: KubeClient;
  readonly controller: OscController;
  /** Address the metrics server listens on. */
  readonly metricsAddress: string;
  stop(): Promise<void>;
}

const SPEC_ENUM = {
  "3.3.0": SpecVersion.SPEC_VERSION_3_3_0,
  "2.3.0": SpecVersion.SPEC_VERSION_2_3_0,
} as const;

/** Starts the OSC adapter: watches OSCs, renders them through the service, writes Secrets and status. */
export async function startIgnitionAdapter(config: AdapterConfig, logger: Logger): Promise<IgnitionAdapter> {
  const registry = new Registry();
  const metrics = createKubeMetrics({ registry });
  const kube = createKubeClient({ kubeconfigPath: config.kubeconfig, logger, metrics });
  const renderer = createGrpcRenderClient({ address: config.ignitionAddress });
  const actuator = createOscActuator({
    renderer,
    secrets: secretApiFrom(kube.resource<SecretObject>(SECRET_RESOURCE)),
    specVersion: config.specVersion ? SPEC_ENUM[config.specVersion] : undefined,
  });
  const leaderElector = config.leaderElect
    ? createLeaderElector({
        transport: kube.transport,
        namespace: config.leaderElectionNamespace,
        name: LEADER_ELECTION_LEASE,
        releaseOnStop: true,
        logger,
        metrics,
      })
    : undefined;
  const controller = createOscController({
    kube,
    actuator,
    types: config.types,
    namespace: config.namespace,
    concurrency: config.concurrency,
    resyncPeriodMs: config.resyncPeriodMs,
    leaderElector,
    logger,
  });

  let synced = false;
  const server: Server = createServer((req, res) => {
    if (req.url === "/healthz" || req.url === "/readyz") {
      res.writeHead(synced ? 200 : 503, { "content-type": "text/plain" }).end(synced ? "ok\n" : "starting\n");
      return;
    }
    if (req.url === "/metrics") {
      registry.metrics().then(
        (body) => res.writeHead(200, { "content-type": registry.contentType }).end(body),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
      return;
    }
    res.writeHead(404).end();
  });
  const [host, port] = splitHostPort(config.metricsListen);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  const metricsAddress = typeof addr === "object" && addr ? `${host}:${addr.port}` : config.metricsListen;

  try {
    await controller.start();
  } catch (err) {
    server.close();
    renderer.close();
    await kube.close();
    throw err;
  }
  synced = true;
  logger.info({ metricsAddress, ignition: config.ignitionAddress }, "ignition adapter running");
  return {
    kube,
    controller,
    metricsAddress,
    async stop() {
      await controller.stop();
      await kube.close();
      renderer.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function splitHostPort(s: string): [string, number] {
  const i = s.lastIndexOf(":");
  return [s.slice(0, i).replace(/^\[|\]$/g, ""), Number(s.slice(i + 1))];
}
