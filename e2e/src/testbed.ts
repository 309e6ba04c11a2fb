import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KubeConfig, KubernetesObject } from "@kubernetes/client-node";
import type { Logger } from "@metal-kube/logging";
import { freePort, type NatsServer, startNats } from "@metal-kube/testing";
import { applyManifests, type ManifestInput } from "./apply.js";
import { ensureKubeApiserver, ensureSystemTools } from "./binaries.js";
import { ADMIN_USER, makeCerts, type TestbedCerts } from "./certs.js";
import { type CrdName, installCrds } from "./crds.js";
import { type Etcd, startEtcd } from "./etcd.js";
import {
  createKubeApiserver,
  DEFAULT_APISERVER_READY_TIMEOUT_MS,
  type KubeApiserver,
} from "./kube-apiserver.js";
import { loadKubeConfig, writeKubeconfig } from "./kubeconfig.js";
import { type MintServiceAccountOptions, mintServiceAccountKubeconfig } from "./service-account.js";
import { OWNER_FILE, sweepStaleTestbeds, TESTBED_DIR_PREFIX } from "./stale-testbeds.js";

export interface TestbedOptions {
  /** Upstream CRDs to install before startTestbed resolves (default none; see ALL_CRDS, CRD_GROUPS). */
  crds?: readonly CrdName[];
  /** Start a nats-server with JetStream too (default true). */
  nats?: boolean;
  /**
   * Serve watches from the apiserver's watch cache (default false: straight from etcd, so
   * compactEtcd() makes an old resourceVersion fail with 410 as it does against etcd). With the cache
   * on, 410 happens only when a resourceVersion falls out of the cache window or after a restart.
   */
  watchCache?: boolean;
  /** Extra kube-apiserver flags. */
  apiserverArgs?: readonly string[];
  /** Parent of the test bed's temp dir; default /dev/shm when present (etcd fsyncs are free there). */
  baseDir?: string;
  readyTimeoutMs?: number;
  logger?: Logger;
}

export const DEFAULT_TESTBED_OPTIONS = {
  crds: [] as readonly CrdName[],
  nats: true,
  watchCache: false,
  apiserverArgs: [] as readonly string[],
  baseDir: existsSync("/dev/shm") ? "/dev/shm" : tmpdir(),
  readyTimeoutMs: DEFAULT_APISERVER_READY_TIMEOUT_MS,
} as const;

type ParsedTestbedOptions = Required<Omit<TestbedOptions, "logger">> & { logger?: Logger };

function parseOptions(o: TestbedOptions): ParsedTestbedOptions {
  return {
    ...DEFAULT_TESTBED_OPTIONS,
    ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)),
  };
}

/** One more kube-apiserver on the same etcd (as in an HA control plane). */
export interface ExtraApiserver {
  readonly server: string;
  /** Admin kubeconfig pointing at this apiserver. */
  readonly kubeconfigPath: string;
  stop(): Promise<void>;
}

export interface RestartOptions {
  /** SIGKILL instead of SIGTERM: connections drop as in a crash (default false). */
  kill?: boolean;
  /** Milliseconds to stay down before starting again (default 0). */
  downMs?: number;
}

export interface Testbed {
  /** Temp dir holding certs, kubeconfigs and etcd data; removed by stop(). */
  readonly dir: string;
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** Admin kubeconfig (a system:masters client certificate). */
  readonly kubeconfigPath: string;
  /** Same as kubeconfigPath. */
  readonly adminKubeconfig: string;
  /** PEM of the CA that signed the serving certificate. */
  readonly caPem: string;
  readonly etcdUrl: string;
  /** NATS URL (JetStream on), when started. */
  readonly natsUrl: string | undefined;
  readonly nats: NatsServer | undefined;
  /** Milliseconds startTestbed took. */
  readonly startupMs: number;
  /** A fresh client-node KubeConfig for the admin. */
  kubeConfig(): KubeConfig;
  /** Server-side applies manifests (YAML text, file paths or objects) as the admin. */
  apply(manifests: ManifestInput): Promise<KubernetesObject[]>;
  /**
   * Creates a ServiceAccount with exactly the given RBAC (rules, clusterRules, or deploy manifests)
   * and returns the path of a kubeconfig that authenticates as it with a TokenRequest token.
   */
  serviceAccountKubeconfig(o: MintServiceAccountOptions): Promise<string>;
  installCrds(which: readonly CrdName[]): Promise<string[]>;
  /** Stops the apiserver process and starts it again on the same port, certs and etcd. */
  restartApiserver(o?: RestartOptions): Promise<void>;
  stopApiserver(o?: Pick<RestartOptions, "kill">): Promise<void>;
  startApiserver(): Promise<void>;
  /** Pid of the main apiserver while it runs. */
  apiserverPid(): number | undefined;
  /** Pids of the processes the test bed runs (extra apiservers not included). */
  pids(): { apiserver?: number; etcd?: number };
  /** Starts another apiserver on the same etcd: writes go through it while the main one is down. */
  addApiserver(): Promise<ExtraApiserver>;
  /** Compacts etcd to its current revision (older resourceVersions get 410); returns that revision. */
  compactEtcd(): Promise<number>;
  /** etcd's current revision (= the newest resourceVersion). */
  etcdRevision(): Promise<number>;
  /** The apiserver's recent output, for diagnostics. */
  apiserverOutput(): string;
  /** Stops everything and removes the temp dir; safe to call twice and after a failed start. */
  stop(): Promise<void>;
}

/**
 * Starts etcd, kube-apiserver (client-cert and ServiceAccount-token authentication, RBAC, default
 * admission plugins), optionally NATS and upstream CRDs, all on loopback with free ports. Everything
 * started is stopped again if a later step fails.
 */
export async function startTestbed(options: TestbedOptions = {}): Promise<Testbed> {
  const o = parseOptions(options);
  const log = o.logger;
  const started = Date.now();
  sweepStaleTestbeds(o.baseDir);
  const dir = mkdtempSync(join(o.baseDir, TESTBED_DIR_PREFIX));
  writeFileSync(join(dir, OWNER_FILE), String(process.pid));
  const cleanups: (() => Promise<unknown>)[] = [async () => rmSync(dir, { recursive: true, force: true })];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    const errors: unknown[] = [];
    // Reverse order: apiservers before etcd, temp dir last.
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, "test bed stop failed");
  };

  // Registered at once (not in a .then) so a failure elsewhere still waits for it and stops it.
  let natsPromise: Promise<NatsServer | undefined> = Promise.resolve(undefined);
  cleanups.push(async () => (await natsPromise.catch(() => undefined))?.stop());
  try {
    await ensureSystemTools((l) => log?.info(l));
    const binary = (await ensureKubeApiserver((l) => log?.info(l))).path;

    if (o.nats) natsPromise = startNats();
    natsPromise.catch(() => {}); // awaited below; this only keeps an early failure from being "unhandled"
    const etcdPromise = startEtcd({ dataDir: join(dir, "etcd") });
    etcdPromise.catch(() => {});
    cleanups.push(async () => (await etcdPromise.catch(() => undefined))?.halt());
    const certs = await makeCerts(dir);
    const etcd: Etcd = await etcdPromise;

    const newApiserver = async (): Promise<KubeApiserver> => {
      const apiserver = createKubeApiserver({
        binary,
        port: await freePort(),
        etcdUrl: etcd.url,
        certs,
        watchCache: o.watchCache,
        extraArgs: o.apiserverArgs,
        readyTimeoutMs: o.readyTimeoutMs,
      });
      cleanups.push(() => apiserver.stop());
      await apiserver.start();
      return apiserver;
    };
    const adminKubeconfigFor = (server: string, file: string) =>
      writeKubeconfig({
        path: join(dir, file),
        server,
        caPem: certs.pem.ca,
        user: ADMIN_USER,
        credentials: { clientCertPem: certs.pem.adminCert, clientKeyPem: certs.pem.adminKey },
      });

    const apiserver = await newApiserver();
    const nats = await natsPromise;
    const kubeconfigPath = adminKubeconfigFor(apiserver.url, "admin.kubeconfig");
    const kubeConfig = () => loadKubeConfig(kubeconfigPath);
    if (o.crds.length > 0) await installCrds(kubeconfigPath, o.crds);

    const startupMs = Date.now() - started;
    log?.info({ server: apiserver.url, etcd: etcd.url, nats: nats?.url, startupMs }, "test bed ready");
    return testbedHandle({
      dir,
      certs,
      apiserver,
      etcd,
      nats,
      kubeconfigPath,
      kubeConfig,
      startupMs,
      stop,
      addApiserver: async () => {
        const extra = await newApiserver();
        const port = new URL(extra.url).port;
        return {
          server: extra.url,
          kubeconfigPath: adminKubeconfigFor(extra.url, `admin-${port}.kubeconfig`),
          stop: () => extra.stop(),
        };
      },
    });
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
}

interface HandleParts {
  dir: string;
  certs: TestbedCerts;
  apiserver: KubeApiserver;
  etcd: Etcd;
  nats: NatsServer | undefined;
  kubeconfigPath: string;
  kubeConfig: () => KubeConfig;
  startupMs: number;
  stop: () => Promise<void>;
  addApiserver: () => Promise<ExtraApiserver>;
}

function testbedHandle(p: HandleParts): Testbed {
  const { apiserver, etcd } = p;
  const stopApiserver = (s?: Pick<RestartOptions, "kill">) => (s?.kill ? apiserver.kill() : apiserver.stop());
  return {
    dir: p.dir,
    server: apiserver.url,
    kubeconfigPath: p.kubeconfigPath,
    adminKubeconfig: p.kubeconfigPath,
    caPem: p.certs.pem.ca,
    etcdUrl: etcd.url,
    natsUrl: p.nats?.url,
    nats: p.nats,
    startupMs: p.startupMs,
    kubeConfig: p.kubeConfig,
    apply: (manifests) => applyManifests(p.kubeConfig(), manifests),
    serviceAccountKubeconfig: (m) =>
      mintServiceAccountKubeconfig(
        { admin: p.kubeConfig(), server: apiserver.url, caPem: p.certs.pem.ca, dir: p.dir },
        m,
      ),
    installCrds: (which) => installCrds(p.kubeconfigPath, which),
    restartApiserver: async (r = {}) => {
      await stopApiserver(r);
      if (r.downMs) await new Promise((res) => setTimeout(res, r.downMs));
      await apiserver.start();
    },
    stopApiserver,
    startApiserver: () => apiserver.start(),
    apiserverPid: () => apiserver.pid(),
    pids: () => ({ apiserver: apiserver.pid(), etcd: etcd.pid() }),
    addApiserver: p.addApiserver,
    compactEtcd: () => etcd.compact(),
    etcdRevision: () => etcd.revision(),
    apiserverOutput: () => apiserver.output(),
    stop: p.stop,
  };
}
