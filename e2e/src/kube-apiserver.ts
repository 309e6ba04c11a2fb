import { readFileSync } from "node:fs";
import { request } from "node:https";
import { type ManagedProcess, waitFor } from "@metal-kube/testing";
import type { TestbedCerts } from "./certs.js";
import { spawnGuarded } from "./guarded-process.js";

export const DEFAULT_APISERVER_READY_TIMEOUT_MS = 60_000;

export interface KubeApiserverOptions {
  binary: string;
  port: number;
  etcdUrl: string;
  certs: TestbedCerts;
  /** Serve watches straight from etcd (false) or from the apiserver's watch cache (true). */
  watchCache: boolean;
  /** Extra flags, appended last so they win. */
  extraArgs?: readonly string[];
  readyTimeoutMs?: number;
}

export interface KubeApiserver {
  readonly url: string;
  readonly args: readonly string[];
  start(): Promise<void>;
  /** SIGTERM (graceful: in-flight requests finish, watches end with a clean close). */
  stop(): Promise<void>;
  /** SIGKILL: connections drop as in a crash. */
  kill(): Promise<void>;
  running(): boolean;
  /** Process id while running. */
  pid(): number | undefined;
  output(): string;
}

function apiserverArgs(o: KubeApiserverOptions): string[] {
  const c = o.certs;
  return [
    "--bind-address=127.0.0.1",
    "--advertise-address=127.0.0.1",
    // The endpoint reconciler refuses a loopback advertise address (1.37); nothing in the bed needs
    // the default/kubernetes Endpoints, which only in-cluster pods would use.
    "--endpoint-reconciler-type=none",
    `--secure-port=${o.port}`,
    `--etcd-servers=${o.etcdUrl}`,
    `--tls-cert-file=${c.servingCert}`,
    `--tls-private-key-file=${c.servingKey}`,
    `--client-ca-file=${c.caCert}`,
    "--authorization-mode=RBAC",
    "--anonymous-auth=false",
    // ServiceAccount tokens (TokenRequest) are signed and verified with the harness' key.
    "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
    `--service-account-key-file=${c.serviceAccountPub}`,
    `--service-account-signing-key-file=${c.serviceAccountKey}`,
    "--api-audiences=https://kubernetes.default.svc.cluster.local",
    // Only a config value: no Service traffic ever leaves loopback in the test bed.
    "--service-cluster-ip-range=10.96.0.0/24",
    `--watch-cache=${o.watchCache}`,
    "--profiling=false",
    "--enable-priority-and-fairness=false",
    "--v=0",
    ...(o.extraArgs ?? []),
  ];
}

/** GET on the apiserver with the admin client certificate; resolves with status and body. */
export function adminGet(
  url: string,
  certs: TestbedCerts,
  path: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}${path}`,
      {
        ca: readFileSync(certs.caCert),
        cert: readFileSync(certs.adminCert),
        key: readFileSync(certs.adminKey),
        timeout: 2000,
      },
      (res) => {
        let body = "";
        res.on("data", (d: Buffer) => {
          body += d.toString();
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

/** Error and fatal lines (klog E/F, cobra's "Error:") and the last lines, without the info chatter. */
function diagnosticTail(output: string): string {
  const lines = output.split("\n");
  const errors = lines.filter((l) => /^[EF]\d{4} /.test(l) || l.startsWith("Error:")).slice(-20);
  return [...errors, "...", ...lines.slice(-15)].join("\n").slice(-8000);
}

/** kube-apiserver process control: start waits for /readyz, stop is SIGTERM (then SIGKILL). */
export function createKubeApiserver(o: KubeApiserverOptions): KubeApiserver {
  const url = `https://127.0.0.1:${o.port}`;
  const args = apiserverArgs(o);
  let proc: ManagedProcess | undefined;
  let lastOutput = "";
  return {
    url,
    args,
    running: () => proc !== undefined && proc.child.exitCode === null && proc.child.signalCode === null,
    output: () => proc?.output() ?? lastOutput,
    pid: () => proc?.child.pid,
    async start() {
      if (proc && proc.child.exitCode === null && proc.child.signalCode === null)
        throw new Error("kube-apiserver is already running");
      if (proc) lastOutput = proc.output(); // it died by itself: keep its last words, start anew
      const p = spawnGuarded(o.binary, args, { keepOutput: 256 * 1024 });
      proc = p;
      try {
        // Ends at once when the process exits (a bad flag) instead of polling until the timeout.
        let exited: string | undefined;
        void p.exited.then((c) => {
          exited = String(c);
        });
        await waitFor(
          `kube-apiserver ${url}/readyz`,
          async () => {
            if (exited !== undefined) return `exited (${exited})`;
            const r = await adminGet(url, o.certs, "/readyz");
            if (r.status !== 200) throw new Error(`/readyz ${r.status}: ${r.body.slice(-800)}`);
            return "ready";
          },
          { timeoutMs: o.readyTimeoutMs ?? DEFAULT_APISERVER_READY_TIMEOUT_MS, intervalMs: 100 },
        );
        if (exited !== undefined) throw new Error(`kube-apiserver exited (${exited}) before it was ready`);
      } catch (err) {
        const tail = diagnosticTail(p.output());
        await p.kill();
        lastOutput = p.output();
        proc = undefined;
        throw new Error(`${(err as Error).message}\n--- kube-apiserver output (tail) ---\n${tail}`, {
          cause: err,
        });
      }
    },
    async stop() {
      if (!proc) return;
      await proc.stop(10_000);
      lastOutput = proc.output();
      proc = undefined;
    },
    async kill() {
      if (!proc) return;
      await proc.kill();
      lastOutput = proc.output();
      proc = undefined;
    },
  };
}
