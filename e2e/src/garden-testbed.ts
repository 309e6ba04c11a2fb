// The test bed as a garden: Gardener's own gardener-apiserver (built from the pinned Gardener module) as an
// aggregated API behind the bed's kube-apiserver, with its own etcd prefix on the bed's etcd and the
// front-proxy certificates aggregation needs. Shoots, CloudProfiles and bindings then go through Gardener's
// real validation, defaulting and admission plugins (ExtensionLabels among them) and the webhooks
// registered in kube-apiserver, exactly as in a garden.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, type ManagedProcess, waitFor } from "@metal-kube/testing";
import { ensureGardenerApiserver, type Progress } from "./binaries.js";
import { spawnGuarded } from "./guarded-process.js";
import { runCommand } from "./run-command.js";
import { startTestbed, type Testbed, type TestbedOptions } from "./testbed.js";

/** The API groups the garden serves through gardener-apiserver (APIServices registered for each). */
export const GARDEN_API_GROUP_VERSIONS = [
  "core.gardener.cloud/v1beta1",
  "security.gardener.cloud/v1alpha1",
] as const;
export const GARDENER_APISERVER_ETCD_PREFIX = "/registry-gardener";
export const DEFAULT_GARDEN_READY_TIMEOUT_MS = 90_000;

export interface GardenTestbedOptions extends TestbedOptions {
  /** gardener-apiserver admission plugins to turn off (Gardener's defaults are all on). */
  disableAdmissionPlugins?: readonly string[];
  onProgress?: Progress;
  gardenReadyTimeoutMs?: number;
}

export interface GardenTestbed {
  readonly bed: Testbed;
  /** https://127.0.0.1:<port> of gardener-apiserver itself (clients go through bed.server). */
  readonly gardenerApiserverUrl: string;
  gardenerApiserverOutput(): string;
  gardenerApiserverPid(): number | undefined;
  stop(): Promise<void>;
}

interface AggregationCerts {
  frontProxyCa: string;
  frontProxyCert: string;
  frontProxyKey: string;
  gardenCa: string;
  servingCert: string;
  servingKey: string;
}

async function makeAggregationCerts(dir: string): Promise<AggregationCerts> {
  const ossl = (args: string[]) => runCommand("openssl", args, { cwd: dir });
  const key = (n: string) =>
    ossl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", `${n}.key`]);
  const ca = async (n: string, cn: string) => {
    await key(n);
    await ossl([
      "req",
      "-x509",
      "-new",
      "-key",
      `${n}.key`,
      "-subj",
      `/CN=${cn}`,
      "-days",
      "3650",
      "-out",
      `${n}.crt`,
    ]);
  };
  const leaf = async (n: string, signer: string, subj: string, ext: string) => {
    await key(n);
    await ossl(["req", "-new", "-key", `${n}.key`, "-subj", subj, "-out", `${n}.csr`]);
    writeFileSync(join(dir, `${n}.ext`), ext);
    await ossl([
      "x509",
      "-req",
      "-in",
      `${n}.csr`,
      "-CA",
      `${signer}.crt`,
      "-CAkey",
      `${signer}.key`,
      "-CAcreateserial",
      "-days",
      "3650",
      "-extfile",
      `${n}.ext`,
      "-out",
      `${n}.crt`,
    ]);
  };
  await ca("front-proxy-ca", "metal-kube-front-proxy-ca");
  await leaf(
    "front-proxy-client",
    "front-proxy-ca",
    "/CN=front-proxy-client",
    "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n",
  );
  await ca("garden-ca", "metal-kube-garden-ca");
  // kube-apiserver dials the APIService's Service by its DNS name: the certificate must carry it.
  await leaf(
    "gardener-apiserver",
    "garden-ca",
    "/CN=gardener-apiserver",
    "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:gardener-apiserver.garden.svc,DNS:localhost,IP:127.0.0.1\n",
  );
  const p = (f: string) => join(dir, f);
  return {
    frontProxyCa: p("front-proxy-ca.crt"),
    frontProxyCert: p("front-proxy-client.crt"),
    frontProxyKey: p("front-proxy-client.key"),
    gardenCa: p("garden-ca.crt"),
    servingCert: p("gardener-apiserver.crt"),
    servingKey: p("gardener-apiserver.key"),
  };
}

function getStatus(url: string, ca: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

/**
 * Starts the test bed with front-proxy flags, then gardener-apiserver on the bed's etcd under its own
 * prefix, registers it with APIServices (through an ExternalName Service, since Endpoints cannot point at
 * loopback) and waits until kube-apiserver serves its groups.
 */
export async function startGardenTestbed(o: GardenTestbedOptions = {}): Promise<GardenTestbed> {
  const binary = (await ensureGardenerApiserver(o.onProgress)).path;
  const dir = mkdtempSync(join(tmpdir(), "metal-kube-garden-"));
  let bed: Testbed | undefined;
  let proc: ManagedProcess | undefined;
  const stop = async () => {
    await proc?.stop(10_000);
    await bed?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const c = await makeAggregationCerts(dir);
    bed = await startTestbed({
      ...o,
      apiserverArgs: [
        `--requestheader-client-ca-file=${c.frontProxyCa}`,
        "--requestheader-allowed-names=front-proxy-client",
        "--requestheader-username-headers=X-Remote-User",
        "--requestheader-group-headers=X-Remote-Group",
        "--requestheader-extra-headers-prefix=X-Remote-Extra-",
        `--proxy-client-cert-file=${c.frontProxyCert}`,
        `--proxy-client-key-file=${c.frontProxyKey}`,
        ...(o.apiserverArgs ?? []),
      ],
    });
    const port = await freePort();
    const url = `https://127.0.0.1:${port}`;
    proc = spawnGuarded(
      binary,
      [
        `--etcd-servers=${bed.etcdUrl}`,
        `--etcd-prefix=${GARDENER_APISERVER_ETCD_PREFIX}`,
        "--bind-address=127.0.0.1",
        `--secure-port=${port}`,
        `--tls-cert-file=${c.servingCert}`,
        `--tls-private-key-file=${c.servingKey}`,
        // Authentication and authorization are delegated to the bed's kube-apiserver, which also serves
        // the webhook configurations and the namespaces Gardener's plugins read.
        `--kubeconfig=${bed.kubeconfigPath}`,
        `--authentication-kubeconfig=${bed.kubeconfigPath}`,
        `--authorization-kubeconfig=${bed.kubeconfigPath}`,
        "--cluster-identity=metal-kube-testbed",
        ...(o.disableAdmissionPlugins?.length
          ? [`--disable-admission-plugins=${o.disableAdmissionPlugins.join(",")}`]
          : []),
        "--log-level=info",
      ],
      { keepOutput: 512 * 1024 },
    );
    const gardenCa = readFileSync(c.gardenCa, "utf8");
    const p = proc;
    await waitFor(
      `gardener-apiserver ${url}/readyz`,
      async () => {
        if (p.child.exitCode !== null)
          throw new Error(`gardener-apiserver exited (${p.child.exitCode}): ${p.output().slice(-3000)}`);
        const s = await getStatus(`${url}/readyz`, gardenCa);
        if (s !== 200) throw new Error(`/readyz ${s}`);
        return true;
      },
      { timeoutMs: o.gardenReadyTimeoutMs ?? DEFAULT_GARDEN_READY_TIMEOUT_MS, intervalMs: 200 },
    );
    await bed.apply([
      { apiVersion: "v1", kind: "Namespace", metadata: { name: "garden" } },
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "gardener-apiserver", namespace: "garden" },
        spec: { type: "ExternalName", externalName: "localhost" },
      } as never,
      ...GARDEN_API_GROUP_VERSIONS.map((gv) => {
        const [group, version] = gv.split("/") as [string, string];
        return {
          apiVersion: "apiregistration.k8s.io/v1",
          kind: "APIService",
          metadata: { name: `${version}.${group}` },
          spec: {
            group,
            version,
            groupPriorityMinimum: 10_000,
            versionPriority: 20,
            caBundle: Buffer.from(gardenCa).toString("base64"),
            service: { name: "gardener-apiserver", namespace: "garden", port },
          },
        } as never;
      }),
    ]);
    const kc = bed.kubeConfig();
    const cluster = kc.getCurrentCluster();
    const user = kc.getCurrentUser();
    const ca = Buffer.from(cluster?.caData ?? "", "base64").toString();
    const cert = Buffer.from(user?.certData ?? "", "base64").toString();
    const key = Buffer.from(user?.keyData ?? "", "base64").toString();
    const server = bed.server;
    for (const gv of GARDEN_API_GROUP_VERSIONS) {
      await waitFor(
        `kube-apiserver serving ${gv}`,
        () =>
          new Promise<boolean>((resolve, reject) => {
            const req = request(`${server}/apis/${gv}`, { ca, cert, key, timeout: 2000 }, (res) => {
              res.resume();
              if (res.statusCode === 200) resolve(true);
              else reject(new Error(`/apis/${gv}: ${res.statusCode}`));
            });
            req.on("timeout", () => req.destroy(new Error("timeout")));
            req.on("error", reject);
            req.end();
          }),
        { timeoutMs: o.gardenReadyTimeoutMs ?? DEFAULT_GARDEN_READY_TIMEOUT_MS, intervalMs: 200 },
      );
    }
    return {
      bed,
      gardenerApiserverUrl: url,
      gardenerApiserverOutput: () => p.output(),
      gardenerApiserverPid: () => p.child.pid,
      stop,
    };
  } catch (err) {
    const tail = proc?.output().slice(-3000);
    await stop().catch(() => {});
    throw tail
      ? new Error(`${(err as Error).message}\n--- gardener-apiserver output (tail) ---\n${tail}`, {
          cause: err,
        })
      : err;
  }
}
