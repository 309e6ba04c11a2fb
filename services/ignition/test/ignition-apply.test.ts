// The rendered user data applied by the real Ignition: every file lands with its exact bytes and
// mode, units and drop-ins are written, and enablement becomes Ignition's presets.

import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { SpecVersion } from "@metal-kube/proto/metalstack/ignition/v1/ignition";
import test from "ava";
import fc from "fast-check";
import { createRenderer } from "../src/renderer.js";
import { START_HELPER_UNIT } from "../src/start-helper.js";
import { validRequest } from "./arbitraries.js";
import { b64File, plainFile, request, secretFile, unit } from "./helpers.js";
import { applyWithIgnition, ignitionAvailable } from "./ignition-apply.js";

const renderer = createRenderer();
const available = ignitionAvailable();
const maybe = available ? test : test.skip;
if (!available) console.warn("ignition-apply: the ignition binary or root privileges are missing; skipped");

const modeOf = (p: string) => statSync(p).mode & 0o7777;
const presets = (root: string) =>
  readFileSync(join(root, "etc/systemd/system-preset/20-ignition.preset"), "utf8").trim().split("\n").sort();

maybe("Ignition writes every file, unit, drop-in and preset of a provision OSC", async (t) => {
  const token = Buffer.from("abcdef.0123456789abcdef");
  const big = "apiVersion: v1\nkind: ConfigMap\n".repeat(600);
  const res = renderer.render(
    request({
      files: [
        plainFile("/etc/kubernetes/kubelet.conf", "a: b\n", 0o600),
        secretFile("/var/lib/kubelet/token", token, 0o400),
        plainFile("/etc/kubernetes/manifests/big.yaml", big),
        b64File("/opt/bin/tool", Buffer.from([0, 1, 2, 254, 255]), "b64", 0o755),
      ],
      units: [
        unit("kubelet.service", {
          content: "[Service]\nExecStart=/opt/bin/kubelet\n[Install]\nWantedBy=multi-user.target\n",
          dropIns: [{ name: "10-env.conf", content: "[Service]\nEnvironment=A=b\n" }],
        }),
        unit("once.service", { enable: false, command: 1, content: "[Service]\nExecStart=/bin/true\n" }),
        unit("docker.socket", { command: 3 }),
      ],
      providerConfig: {
        networkIsolation: { dnsServers: ["10.0.0.53"], ntpServers: ["10.0.0.123"], registryMirrors: [] },
      },
    }),
  );
  const applied = await applyWithIgnition(res.userData);
  t.teardown(applied.remove);
  const r = (p: string) => join(applied.root, p);
  t.is(readFileSync(r("etc/kubernetes/kubelet.conf"), "utf8"), "a: b\n");
  t.is(modeOf(r("etc/kubernetes/kubelet.conf")), 0o600);
  t.true(readFileSync(r("var/lib/kubelet/token")).equals(token));
  t.is(modeOf(r("var/lib/kubelet/token")), 0o400);
  t.is(
    readFileSync(r("etc/kubernetes/manifests/big.yaml"), "utf8"),
    big,
    "gzip-compressed content is unpacked",
  );
  t.deepEqual([...readFileSync(r("opt/bin/tool"))], [0, 1, 2, 254, 255]);
  t.is(modeOf(r("opt/bin/tool")), 0o755);
  t.regex(
    readFileSync(r("etc/containerd/config.toml"), "utf8"),
    /config_path = "\/etc\/containerd\/certs\.d"/,
  );
  t.regex(readFileSync(r("etc/resolv.conf"), "utf8"), /nameserver 10\.0\.0\.53/);
  t.regex(readFileSync(r("etc/systemd/timesyncd.conf"), "utf8"), /NTP=10\.0\.0\.123/);
  t.regex(readFileSync(r("etc/systemd/system/kubelet.service"), "utf8"), /ExecStart=\/opt\/bin\/kubelet/);
  t.is(
    readFileSync(r("etc/systemd/system/kubelet.service.d/10-env.conf"), "utf8"),
    "[Service]\nEnvironment=A=b\n",
  );
  t.regex(readFileSync(r(`etc/systemd/system/${START_HELPER_UNIT}`), "utf8"), /start once\.service/);
  t.deepEqual(presets(applied.root), [
    "disable docker.socket",
    "disable once.service",
    "enable kubelet.service",
    `enable ${START_HELPER_UNIT}`,
  ]);
});

maybe("any valid OSC: Ignition puts exactly the OSC's bytes and modes on disk", async (t) => {
  await fc.assert(
    fc.asyncProperty(
      validRequest([SpecVersion.SPEC_VERSION_3_3_0]),
      async ({ request: generated, files }) => {
        // Ignition hands the enablement of units with an @ to the running systemd, which a test root
        // does not have: such units are left out here (the ignition-validate properties cover them).
        const req = { ...generated, units: generated.units.filter((u) => !u.name.includes("@")) };
        const res = renderer.render(req);
        const applied = await applyWithIgnition(res.userData);
        try {
          for (const f of files) {
            const p = join(applied.root, f.file.path);
            if (!readFileSync(p).equals(f.expected)) throw new Error(`${f.file.path}: bytes differ`);
            // Specs before 3.4.0 drop setuid/setgid/sticky (the renderer warns about that).
            const want = (f.file.permissions ?? 0o644) & 0o777;
            if ((modeOf(p) & 0o777) !== want)
              throw new Error(`${f.file.path}: mode ${modeOf(p).toString(8)}, want ${want.toString(8)}`);
          }
          for (const u of req.units) {
            if (
              u.content !== undefined &&
              readFileSync(join(applied.root, "etc/systemd/system", u.name), "utf8") !== u.content
            )
              throw new Error(`${u.name}: unit content differs`);
            for (const d of u.dropIns)
              if (
                readFileSync(join(applied.root, "etc/systemd/system", `${u.name}.d`, d.name), "utf8") !==
                d.content
              )
                throw new Error(`${u.name}/${d.name}: drop-in differs`);
          }
        } finally {
          applied.remove();
        }
      },
    ),
    { numRuns: Number(process.env.IGNITION_APPLY_RUNS ?? 20) },
  );
  t.pass();
});
