// deploy/firewall as the machine runs it: the units start the bundles scripts/build.ts makes, every
// variable of the environment files is one the process knows and valid, and the adapter dials the
// socket the service listens on. (The RBAC is applied to the test bed by adapter.e2e.test.ts.)
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfig } from "@metal-kube/config";
import { kitConfigSpec } from "@metal-kube/service-kit";
import test from "ava";
import { ENTRIES, NODE_FLAGS } from "../../../scripts/build.js";
import { adapterConfigSpec } from "../src/adapter/config.js";
import { DEFAULT_LISTEN, DEFAULT_METRICS_LISTEN, firewallConfigSpec } from "../src/config.js";

const DEPLOY = join(import.meta.dirname, "../../../deploy/firewall");
const read = (f: string) => readFileSync(join(DEPLOY, f), "utf8");

function envFile(f: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of read(f).split("\n")) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

const unitValue = (unit: string, key: string) =>
  read(unit)
    .split("\n")
    .filter((l) => l.startsWith(`${key}=`))
    .map((l) => l.slice(key.length + 1));

const serviceSpec = {
  ...kitConfigSpec("firewall", { listen: DEFAULT_LISTEN, metricsListen: DEFAULT_METRICS_LISTEN }),
  ...firewallConfigSpec,
};

for (const [unit, env, spec, bundle] of [
  ["metal-kube-firewall.service", "firewall.env", serviceSpec, "firewall"],
  ["metal-kube-firewall-adapter.service", "firewall-adapter.env", adapterConfigSpec, "firewall-adapter"],
] as const)
  test(`${unit} runs dist/${bundle}.mjs with ${env}, whose every variable is known and valid`, (t) => {
    const flags = (NODE_FLAGS[bundle] ?? []).map((f) => `${f} `).join("");
    t.deepEqual(unitValue(unit, "ExecStart"), [`/usr/bin/node ${flags}/opt/metal-kube/dist/${bundle}.mjs`]);
    t.true(bundle in ENTRIES, `scripts/build.ts bundles ${bundle}`);
    t.deepEqual(unitValue(unit, "EnvironmentFile"), [`/etc/metal-kube/${env}`]);
    const vars = envFile(env);
    const known = new Set(Object.values(spec).map((f) => f.env));
    for (const k of Object.keys(vars)) t.true(known.has(k), `${env}: ${k} is not a variable of ${bundle}`);
    t.notThrows(() => parseConfig(spec, vars));
  });

test("the adapter dials the unix socket the service listens on, in the runtime directory of the service unit", (t) => {
  const listen = envFile("firewall.env").GRPC_LISTEN;
  t.is(listen, "unix:///run/metal-kube/firewall.sock");
  t.is(envFile("firewall-adapter.env").FIREWALL_ADDRESS, listen);
  t.deepEqual(unitValue("metal-kube-firewall.service", "RuntimeDirectory"), ["metal-kube"]);
  t.deepEqual(unitValue("metal-kube-firewall-adapter.service", "Requires"), ["metal-kube-firewall.service"]);
  // Only the service may change nftables; the adapter has no capability at all.
  t.deepEqual(unitValue("metal-kube-firewall.service", "AmbientCapabilities"), ["CAP_NET_ADMIN"]);
  t.deepEqual(unitValue("metal-kube-firewall-adapter.service", "CapabilityBoundingSet"), [""]);
});
