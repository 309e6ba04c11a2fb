// A Gardener-sized OperatingSystemConfig for the ignition benchmarks: 60 files (about 250 KB: configs,
// scripts, certificates, a few large manifests), 20 units with drop-ins, an isolated cluster's mirrors.
import {
  type File,
  Purpose,
  type RenderRequest,
  SpecVersion,
  type Unit,
  UnitCommand,
} from "@metal-kube/proto/metalstack/ignition/v1/ignition";

/** Deterministic filler text that compresses like real configuration (not like random bytes). */
function text(seed: number, bytes: number): string {
  const words = [
    "kubelet",
    "containerd",
    "--config",
    "/var/lib",
    "apiVersion:",
    "kind:",
    "spec:",
    "true",
    "10.0.0.1",
    "metadata:",
    "name:",
    "  - ",
    "port: 443",
    "tls",
    "cert",
  ];
  let s = `# file ${seed}\n`;
  let i = seed;
  while (s.length < bytes) {
    i = (i * 1103515245 + 12345) % 2147483648;
    s += `${words[i % words.length]}${i % 7 === 0 ? "\n" : " "}`;
  }
  return s.slice(0, bytes);
}

const inline = (path: string, data: string, permissions?: number): File => ({
  path,
  permissions,
  content: { source: { $case: "inline", value: { encoding: "", data } }, transmitUnencoded: false },
});
const b64 = (path: string, data: string, permissions?: number): File => ({
  path,
  permissions,
  content: {
    source: { $case: "inline", value: { encoding: "b64", data: Buffer.from(data).toString("base64") } },
    transmitUnencoded: false,
  },
});
const secret = (path: string, data: string): File => ({
  path,
  permissions: 0o600,
  content: {
    source: { $case: "secretRef", value: { name: "s", dataKey: path, data: Buffer.from(data) } },
    transmitUnencoded: false,
  },
});

/** The OSC; `salt` changes every file's bytes so caches keyed by content miss. */
export function gardenerSizedOsc(salt = 0): RenderRequest {
  const files: File[] = [];
  for (let i = 0; i < 36; i++) files.push(inline(`/etc/gardener/config/c${i}.yaml`, text(i + salt, 1500)));
  for (let i = 0; i < 10; i++)
    files.push(b64(`/opt/bin/script-${i}.sh`, `#!/bin/bash\n${text(100 + i + salt, 6000)}`, 0o755));
  for (let i = 0; i < 8; i++)
    files.push(secret(`/var/lib/kubelet/pki/k${i}.pem`, text(200 + i + salt, 1800)));
  for (let i = 0; i < 6; i++)
    files.push(b64(`/etc/kubernetes/manifests/m${i}.yaml`, text(300 + i + salt, 16_000)));
  const units: Unit[] = [];
  for (let i = 0; i < 20; i++)
    units.push({
      name: `gardener-unit-${i}.service`,
      enable: i % 5 !== 0,
      command: i % 3 === 0 ? UnitCommand.UNIT_COMMAND_START : UnitCommand.UNIT_COMMAND_UNSPECIFIED,
      content: `[Unit]\nDescription=unit ${i}\nAfter=network-online.target\n\n[Service]\nRestart=always\nExecStart=/opt/bin/script-${i % 10}.sh --flag=${i + salt}\n\n[Install]\nWantedBy=multi-user.target\n`,
      dropIns: i % 4 === 0 ? [{ name: "10-env.conf", content: `[Service]\nEnvironment=N=${i}\n` }] : [],
      filePaths: [`/opt/bin/script-${i % 10}.sh`],
    });
  return {
    namespace: "shoot--bench--cluster",
    name: "cloud-config-worker-bench",
    type: "ubuntu",
    purpose: Purpose.PURPOSE_PROVISION,
    files,
    units,
    containerRuntime: { name: "containerd", cgroupDriver: "cgroupfs" },
    providerConfig: {
      networkIsolation: {
        dnsServers: ["10.0.0.53", "10.0.1.53"],
        ntpServers: ["10.0.0.123"],
        registryMirrors: [
          {
            name: "harbor",
            endpoint: "https://harbor.internal",
            mirrorOf: ["docker.io", "ghcr.io", "registry.k8s.io", "quay.io"],
          },
        ],
      },
    },
    specVersion: SpecVersion.SPEC_VERSION_UNSPECIFIED,
  };
}

/** Total bytes of file content in the OSC (decoded). */
export function contentBytes(req: RenderRequest): number {
  let n = 0;
  for (const f of req.files) {
    const s = f.content?.source;
    if (s?.$case === "inline")
      n += s.value.encoding ? Buffer.from(s.value.data, "base64").length : Buffer.byteLength(s.value.data);
    else if (s?.$case === "secretRef") n += s.value.data?.length ?? 0;
  }
  return n;
}
