// `npm run testbed`: the test bed alone for local development (etcd, kube-apiserver, the upstream CRDs,
// NATS). Prints the admin kubeconfig path and runs until Ctrl-C, then stops everything and removes
// its temp dir.
//   --no-nats            skip nats-server
//   --crds=a,b | none    CRDs to install (default all; names as in CRD_SOURCES)
//   --watch-cache        serve watches from the apiserver's watch cache
//   --kubeconfig-out=P   also copy the admin kubeconfig to P (removed again on stop)
import { copyFileSync, rmSync } from "node:fs";
import { parseArgs } from "node:util";
import { createLogger } from "@metal-kube/logging";
import { ALL_CRDS, CRD_SOURCES, type CrdName } from "./crds.js";
import { startTestbed } from "./testbed.js";

function parseCrds(v: string | undefined): CrdName[] {
  if (v === undefined || v === "all") return ALL_CRDS;
  if (v === "none" || v === "") return [];
  const names = v.split(",").map((s) => s.trim());
  const unknown = names.filter((n) => !(n in CRD_SOURCES));
  if (unknown.length > 0)
    throw new Error(`--crds: unknown ${unknown.join(", ")}; known: ${ALL_CRDS.join(", ")}, all, none`);
  return names as CrdName[];
}

const { values } = parseArgs({
  options: {
    "no-nats": { type: "boolean", default: false },
    crds: { type: "string" },
    "watch-cache": { type: "boolean", default: false },
    "kubeconfig-out": { type: "string" },
  },
  strict: true,
});

const log = createLogger({ name: "testbed" });
let crds: CrdName[];
try {
  crds = parseCrds(values.crds);
} catch (err) {
  console.error((err as Error).message);
  process.exit(2);
}

const bed = await startTestbed({
  crds,
  nats: !values["no-nats"],
  watchCache: values["watch-cache"],
  logger: log,
}).catch((err: unknown) => {
  console.error(`test bed failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});

const out = values["kubeconfig-out"];
if (out) copyFileSync(bed.kubeconfigPath, out);

console.log(
  [
    "",
    `test bed ready in ${(bed.startupMs / 1000).toFixed(1)} s`,
    `  apiserver  ${bed.server}`,
    `  etcd       ${bed.etcdUrl}`,
    ...(bed.natsUrl ? [`  nats       ${bed.natsUrl} (JetStream)`] : []),
    `  CRDs       ${crds.length === 0 ? "none" : crds.join(", ")}`,
    "admin kubeconfig:",
    out ?? bed.kubeconfigPath,
    `  export KUBECONFIG=${out ?? bed.kubeconfigPath}`,
    "Ctrl-C stops it.",
    "",
  ].join("\n"),
);

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) {
    // A second Ctrl-C: leave now; the servers die with us (parent-death signal).
    process.exit(130);
  }
  stopping = true;
  log.info({ signal }, "stopping test bed");
  try {
    await bed.stop();
    if (out) rmSync(out, { force: true });
    log.info("test bed stopped");
    process.exit(0);
  } catch (err) {
    console.error(`stopping the test bed failed: ${String(err)}`);
    process.exit(1);
  }
};
for (const s of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(s, () => void shutdown(s));
// Keep the event loop alive until a signal arrives.
setInterval(() => {}, 1 << 30);
