import {
  ensureGardenerApiserver,
  ensureGrpcurl,
  ensureKubeApiserver,
  ensureMachineControllerManager,
  ensureSystemTools,
  type Progress,
} from "./binaries.js";
import { downloadCrdModules } from "./crds.js";

export interface TestBinaries {
  kubeApiserver: string;
  grpcurl: string;
  machineControllerManager: string;
  gardenerApiserver: string;
  /** Module dirs the upstream CRD YAML is read from. */
  crdModules: string[];
  /** Wall time of the Go builds this call ran (0 when everything came from the cache). */
  buildMs: number;
}

/**
 * Everything the test bed needs before its first start: Debian tools (etcd, openssl, nats-server),
 * kube-apiserver, grpcurl, MCM and gardener-apiserver built from their pinned Go modules, and the CRD modules in the module
 * cache. Idempotent and cheap when warm; `npm test` and `npm start` call it through ensure-cli.ts so
 * no test pays for a cold build inside its timeout.
 */
export async function ensureTestBinaries(onProgress?: Progress): Promise<TestBinaries> {
  await ensureSystemTools(onProgress);
  // One after the other: each go build already uses every core.
  const kubeApiserver = await ensureKubeApiserver(onProgress);
  const grpcurl = await ensureGrpcurl(onProgress);
  const mcm = await ensureMachineControllerManager(onProgress);
  const gardener = await ensureGardenerApiserver(onProgress);
  const crdModules = await downloadCrdModules();
  return {
    kubeApiserver: kubeApiserver.path,
    grpcurl: grpcurl.path,
    machineControllerManager: mcm.path,
    gardenerApiserver: gardener.path,
    crdModules,
    buildMs: kubeApiserver.buildMs + grpcurl.buildMs + mcm.buildMs + gardener.buildMs,
  };
}
