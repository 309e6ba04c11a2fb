// `node --import tsx e2e/src/ensure-cli.ts`: builds or finds the test bed's Go binaries (called by
// scripts/ensure.mjs before `npm test` / `npm start`). Progress on stderr, exit 1 naming what failed.
import { ensureGrpcurl, ensureKubeApiserver } from "./binaries.js";
import { downloadCrdModules } from "./crds.js";
import { ensureTestBinaries } from "./ensure-test-binaries.js";

const started = Date.now();
// `npm start` needs only the debugging client its endpoint table points at.
if (process.argv.includes("--grpcurl-only")) {
  try {
    const g = await ensureGrpcurl((line) => process.stderr.write(`e2e: ${line}\n`));
    if (g.built) process.stderr.write(`e2e: built grpcurl in ${(g.buildMs / 1000).toFixed(1)} s\n`);
    process.exit(0);
  } catch (err) {
    process.stderr.write(
      `e2e: building grpcurl failed: ${err instanceof Error ? err.message : String(err)}\n`,
    );
    process.exit(1);
  }
}
// `npm start -- --testbed` needs what startTestbed runs: kube-apiserver and the CRD modules (MCM is only
// for the machine-driver tests), plus grpcurl for the endpoint table.
if (process.argv.includes("--testbed")) {
  try {
    const progress = (line: string) => process.stderr.write(`e2e: ${line}\n`);
    const api = await ensureKubeApiserver(progress);
    const g = await ensureGrpcurl(progress);
    const crdModules = await downloadCrdModules();
    const took = ((Date.now() - started) / 1000).toFixed(1);
    process.stderr.write(
      `e2e: test bed binaries ready in ${took} s (kube-apiserver ${api.path}, grpcurl ${g.path}, ` +
        `${crdModules.length} CRD modules)\n`,
    );
    process.exit(0);
  } catch (err) {
    process.stderr.write(
      `e2e: ensuring test bed binaries failed: ${err instanceof Error ? err.message : String(err)}\n`,
    );
    process.exit(1);
  }
}
try {
  const r = await ensureTestBinaries((line) => process.stderr.write(`e2e: ${line}\n`));
  const took = ((Date.now() - started) / 1000).toFixed(1);
  process.stderr.write(
    `e2e: test binaries ready in ${took} s (kube-apiserver ${r.kubeApiserver}, grpcurl ${r.grpcurl}, MCM ${r.machineControllerManager}, ` +
      `gardener-apiserver ${r.gardenerApiserver}, ` +
      `${r.crdModules.length} CRD modules)\n`,
  );
} catch (err) {
  process.stderr.write(
    `e2e: ensuring test binaries failed: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
}
