// The MCM sidecars injected into a shoot's machine-controller-manager are deploy/machine-driver's
// `machine-controller` (the bridge) and `machine-driver` containers: same images, commands, driver
// settings, probes, resources and security context. Only the bridge's flags differ (Gardener's sidecar
// flags for a shoot namespace) and the volumes' names.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { parse } from "yaml";
import type { JsonObject } from "../src/gardener/json.js";
import {
  bridgeContainer,
  DEFAULT_SIDECAR_OPTIONS,
  driverContainer,
  MACHINE_DRIVER_ENDPOINT,
  SOCKET_DIR,
} from "../src/seed/mcm-sidecars.js";

const DEPLOY = join(import.meta.dirname, "../../../deploy/machine-driver/30-deployment.yaml");
const deployment = parse(readFileSync(DEPLOY, "utf8")) as {
  spec: { template: { spec: { containers: JsonObject[] } } };
};
const deployed = (name: string) =>
  deployment.spec.template.spec.containers.find((c) => c.name === name) as JsonObject;

/**
 * deploy/machine-driver still shared the socket at this path before it moved to ADR 0010's
 * /run/metal-kube; while it does, the comparison reads it as the new one (and only it).
 */
const PRE_MOVE_ENDPOINT = "unix:///run/machine-driver/driver.sock";
const PRE_MOVE_DIR = "/run/machine-driver";
const endpoint = (v: unknown) => (v === PRE_MOVE_ENDPOINT ? MACHINE_DRIVER_ENDPOINT : v);
const mountDir = (v: unknown) => (v === PRE_MOVE_DIR ? SOCKET_DIR : v);

const env = (c: JsonObject) =>
  Object.fromEntries((c.env as JsonObject[]).map((e) => [e.name, endpoint(e.value)]));
const mounts = (c: JsonObject) =>
  ((c.volumeMounts as JsonObject[]) ?? []).map((m) => mountDir(m.mountPath)).sort();
const pick = (c: JsonObject, keys: string[]) => Object.fromEntries(keys.map((k) => [k, c[k]]));

test("the driver sidecar is deploy/machine-driver's driver container", (t) => {
  const ours = driverContainer(DEFAULT_SIDECAR_OPTIONS) as JsonObject;
  const theirs = deployed("machine-driver");
  const same = [
    "name",
    "image",
    "command",
    "ports",
    "readinessProbe",
    "livenessProbe",
    "resources",
    "securityContext",
  ];
  t.deepEqual(pick(ours, same), pick(theirs, same));
  t.deepEqual(env(ours), env(theirs));
  t.deepEqual(mounts(ours), mounts(theirs));
  t.is(env(ours).GRPC_LISTEN, "unix:///run/metal-kube/machine-driver.sock");
});

test("the bridge sidecar is deploy/machine-driver's machine-controller with Gardener's sidecar flags", (t) => {
  const ours = bridgeContainer("shoot--proj--dev", DEFAULT_SIDECAR_OPTIONS) as JsonObject;
  const theirs = deployed("machine-controller");
  t.deepEqual(
    pick(ours, ["image", "resources", "securityContext"]),
    pick(theirs, ["image", "resources", "securityContext"]),
  );
  t.deepEqual([...(ours.command as string[])], [(theirs.command as string[])[0]], "the same binary");
  t.deepEqual(env(ours), env(theirs));
  t.true(mounts(ours).includes(SOCKET_DIR));
  t.deepEqual(
    mounts(theirs).filter((m) => m === SOCKET_DIR),
    [SOCKET_DIR],
  );
  // Gardener's ProviderSidecarContainer flags, with the reference's 7-day health timeout.
  const args = ours.args as string[];
  for (const flag of [
    "--control-kubeconfig=inClusterConfig",
    "--target-kubeconfig=/var/run/secrets/gardener.cloud/shoot/generic-kubeconfig/kubeconfig",
    "--namespace=shoot--proj--dev",
    "--machine-health-timeout=10080m",
    "--port=10259",
  ])
    t.true(args.includes(flag), flag);
  // The flags deploy/machine-driver gives its controller beyond Gardener's are the same here.
  const theirFlags = (theirs.command as string[])
    .slice(1)
    .filter((f) =>
      /^--(machine-creation-timeout|machine-drain-timeout|machine-safety-orphan-vms-period|concurrent-syncs)=/.test(
        f,
      ),
    );
  for (const f of theirFlags) t.true(args.includes(f), f);
});
