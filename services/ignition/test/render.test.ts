import { createHash, randomBytes } from "node:crypto";
import { Purpose, SpecVersion, UnitCommand } from "@metal-kube/proto/metalstack/ignition/v1/ignition";
import { Code, ServiceError } from "@metal-kube/service-kit";
import test from "ava";
import { createRenderer } from "../src/renderer.js";
import { START_HELPER_UNIT } from "../src/start-helper.js";
import {
  b64File,
  decodeSource,
  ignitionFiles,
  ignitionValidate,
  imageFile,
  plainFile,
  request,
  secretFile,
  unit,
} from "./helpers.js";
import { checkSpec230 } from "./spec-v2-3.js";

const renderer = createRenderer();
const parse = (b: Buffer) => JSON.parse(b.toString("utf8"));

const KUBELET =
  "[Unit]\nDescription=kubelet\n\n[Service]\nExecStart=/opt/bin/kubelet\n\n[Install]\nWantedBy=multi-user.target\n";

/** Renders and expects INVALID_ARGUMENT; returns the error. */
function invalid(t: import("ava").ExecutionContext, req: ReturnType<typeof request>): ServiceError {
  const err = t.throws(() => renderer.render(req), { instanceOf: ServiceError }) as ServiceError;
  t.is(err.code, Code.INVALID_ARGUMENT, err.message);
  return err;
}

test("provision 3.3.0: every file decodes to its bytes, with mode and overwrite, and ignition-validate accepts it", async (t) => {
  const binary = randomBytes(300);
  const secret = Buffer.from("token: s3cr3t\n");
  const res = renderer.render(
    request({
      files: [
        plainFile("/etc/kubernetes/kubelet.conf", "apiVersion: v1\nkind: Config\n", 0o600),
        b64File("/opt/bin/helper", binary, "b64", 0o755),
        b64File("/etc/motd", Buffer.from("hello\n"), "base64"),
        secretFile("/var/lib/kubelet/token", secret, 0o400),
        plainFile("/etc/empty", ""),
      ],
      units: [unit("kubelet.service", { content: KUBELET })],
    }),
  );
  t.is(res.specVersion, "3.3.0");
  t.is(res.sha256, createHash("sha256").update(res.userData).digest("hex"));
  const config = parse(res.userData);
  t.is(config.ignition.version, "3.3.0");
  const files = ignitionFiles(config);
  t.deepEqual(files.get("/etc/kubernetes/kubelet.conf")?.data.toString(), "apiVersion: v1\nkind: Config\n");
  t.is(files.get("/etc/kubernetes/kubelet.conf")?.mode, 0o600);
  t.true(files.get("/opt/bin/helper")?.data.equals(binary));
  t.is(files.get("/opt/bin/helper")?.mode, 0o755);
  t.is(files.get("/etc/motd")?.data.toString(), "hello\n");
  t.is(files.get("/etc/motd")?.mode, 0o644, "default mode");
  t.true(files.get("/var/lib/kubelet/token")?.data.equals(secret), "secret-backed content is included");
  t.is(files.get("/etc/empty")?.data.length, 0);
  for (const f of files.values()) t.true(f.overwrite, `${f.path} overwrite`);
  const v = await ignitionValidate(res.userData);
  t.true(v.ok, v.output);
  t.is(v.output, "", "no warnings either");
});

test("the same request renders the same bytes, whatever the order of files, units and drop-ins", (t) => {
  const files = [plainFile("/etc/a", "a"), plainFile("/etc/b", "b"), b64File("/etc/c", randomBytes(5000))];
  const units = [
    unit("a.service", {
      content: KUBELET,
      dropIns: [
        { name: "20-b.conf", content: "[Service]\nA=1\n" },
        { name: "10-a.conf", content: "[Service]\nB=2\n" },
      ],
    }),
    unit("b.timer", { enable: false }),
  ];
  const one = renderer.render(request({ files, units }));
  const again = renderer.render(request({ files, units }));
  const shuffled = createRenderer().render(
    request({
      files: [...files].reverse(),
      units: [...units].reverse().map((u) => ({ ...u, dropIns: [...u.dropIns].reverse() })),
    }),
  );
  t.true(one.userData.equals(again.userData));
  t.true(one.userData.equals(shuffled.userData), "a fresh renderer and another order give the same bytes");
  t.is(one.sha256, shuffled.sha256);
  const names = parse(one.userData).systemd.units[0].dropins.map((d: { name: string }) => d.name);
  t.deepEqual(names, ["10-a.conf", "20-b.conf"]);
});

test("units honour enable and command; start without enable gets the start-once helper", async (t) => {
  const res = renderer.render(
    request({
      units: [
        unit("default.service", { content: KUBELET }),
        unit("off.service", { content: KUBELET, enable: false }),
        unit("stopped.service", { content: KUBELET, command: UnitCommand.UNIT_COMMAND_STOP }),
        unit("once.service", { content: KUBELET, enable: false, command: UnitCommand.UNIT_COMMAND_START }),
        unit("again@x\\x2dy.service", { enable: false, command: UnitCommand.UNIT_COMMAND_RESTART }),
        unit("kubelet.service", {
          dropIns: [{ name: "10-flags.conf", content: "[Service]\nEnvironment=FLAGS=--v=2\n" }],
        }),
      ],
    }),
  );
  const units = new Map<string, Record<string, unknown>>(
    parse(res.userData).systemd.units.map((u: { name: string }) => [u.name, u]),
  );
  t.is(units.get("default.service")?.enabled, true, "unset enable means enabled");
  t.is(units.get("off.service")?.enabled, false);
  t.is(units.get("stopped.service")?.enabled, false);
  t.is(units.get("once.service")?.enabled, false);
  t.is(units.get("kubelet.service")?.contents, undefined, "a unit without content only gets drop-ins");
  t.deepEqual(units.get("kubelet.service")?.dropins, [
    { name: "10-flags.conf", contents: "[Service]\nEnvironment=FLAGS=--v=2\n" },
  ]);
  const helper = units.get(START_HELPER_UNIT);
  t.is(helper?.enabled, true);
  t.regex(
    String(helper?.contents),
    /ExecStart=\/bin\/systemctl --no-block start again@x\\\\x2dy\.service once\.service\n/,
  );
  const v = await ignitionValidate(res.userData);
  t.true(v.ok, v.output);
});

test("an enabled unit without [Install] gets a warning, as Ignition would give", (t) => {
  const res = renderer.render(
    request({ units: [unit("x.service", { content: "[Service]\nExecStart=/bin/true\n" })] }),
  );
  t.true(
    res.warnings.some((w) => w.startsWith("units[0] (x.service): enabled, but the unit has no [Install]")),
  );
});

test("large files are gzip-compressed in 3.x when that saves space, never in 2.3.0", (t) => {
  const text = "some: yaml\nwith: repetition\n".repeat(400);
  const noise = randomBytes(8000);
  const files = [
    plainFile("/etc/big.yaml", text),
    b64File("/opt/noise", noise),
    plainFile("/etc/small", "x".repeat(100)),
  ];
  const v3 = ignitionFiles(parse(renderer.render(request({ files })).userData));
  t.is(v3.get("/etc/big.yaml")?.compression, "gzip");
  t.is(v3.get("/etc/big.yaml")?.data.toString(), text);
  t.is(v3.get("/opt/noise")?.compression, undefined, "incompressible content stays plain");
  t.true(v3.get("/opt/noise")?.data.equals(noise));
  t.is(v3.get("/etc/small")?.compression, undefined);
  const v2 = parse(renderer.render(request({ files, specVersion: SpecVersion.SPEC_VERSION_2_3_0 })).userData);
  for (const f of v2.storage.files) t.is(f.contents.compression, undefined, f.path);
  t.is(
    decodeSource(
      v2.storage.files.find((f: { path: string }) => f.path === "/etc/big.yaml").contents.source,
    ).toString(),
    text,
  );
});

test("2.3.0 output follows the documented 2.3.0 schema (and the checker does reject a 3.x config)", (t) => {
  const res = renderer.render(
    request({
      specVersion: SpecVersion.SPEC_VERSION_2_3_0,
      files: [plainFile("/etc/a", "a", 0o600), b64File("/opt/b", randomBytes(64), "b64", 0o755)],
      units: [
        unit("a.service", { content: KUBELET, dropIns: [{ name: "x.conf", content: "[Service]\nA=b\n" }] }),
      ],
    }),
  );
  t.is(res.specVersion, "2.3.0");
  const errors = checkSpec230(res.userData.toString());
  t.deepEqual(errors, []);
  const config = parse(res.userData);
  for (const f of config.storage.files) t.is(f.filesystem, "root");
  const v3 = renderer.render(request({ files: [plainFile("/etc/a", "a")] }));
  t.true(checkSpec230(v3.userData.toString()).length > 0);
});

test("the configured default spec version applies when the request leaves it unset", (t) => {
  const r = createRenderer({ defaultSpecVersion: "2.3.0" });
  t.is(r.render(request()).specVersion, "2.3.0");
  t.is(r.render(request({ specVersion: SpecVersion.SPEC_VERSION_3_3_0 })).specVersion, "3.3.0");
});

test("containerd config with conf.d imports and certs.d, hosts.toml per mirrored registry, DNS and NTP", async (t) => {
  const res = renderer.render(
    request({
      providerConfig: {
        networkIsolation: {
          dnsServers: ["10.0.0.53", "2001:db8::53"],
          ntpServers: ["10.0.0.123", "ntp.internal"],
          registryMirrors: [
            { name: "a", endpoint: "https://mirror-a.internal:5000/", mirrorOf: ["docker.io", "ghcr.io"] },
            { name: "b", endpoint: "http://10.1.1.1:8080", mirrorOf: ["docker.io"] },
          ],
        },
      },
    }),
  );
  const files = ignitionFiles(parse(res.userData));
  const containerd = files.get("/etc/containerd/config.toml")?.data.toString() ?? "";
  t.regex(containerd, /^imports = \["\/etc\/containerd\/conf\.d\/\*\.toml"\]$/m);
  t.regex(containerd, /^\s*config_path = "\/etc\/containerd\/certs\.d"$/m);
  t.regex(containerd, /^version = 2$/m);
  const docker = files.get("/etc/containerd/certs.d/docker.io/hosts.toml")?.data.toString() ?? "";
  t.regex(docker, /^server = "https:\/\/registry-1\.docker\.io"$/m);
  t.true(
    docker.indexOf('[host."https://mirror-a.internal:5000"]') <
      docker.indexOf('[host."http://10.1.1.1:8080"]'),
    "mirrors in the given (preference) order",
  );
  t.regex(docker, /capabilities = \["pull", "resolve"\]/);
  t.regex(
    files.get("/etc/containerd/certs.d/ghcr.io/hosts.toml")?.data.toString() ?? "",
    /server = "https:\/\/ghcr\.io"/,
  );
  t.regex(
    files.get("/etc/systemd/resolved.conf.d/metal-dns.conf")?.data.toString() ?? "",
    /^DNS=10\.0\.0\.53 2001:db8::53$/m,
  );
  t.regex(
    files.get("/etc/resolv.conf")?.data.toString() ?? "",
    /^nameserver 10\.0\.0\.53\nnameserver 2001:db8::53\n$/m,
  );
  t.regex(
    files.get("/etc/systemd/timesyncd.conf")?.data.toString() ?? "",
    /^NTP=10\.0\.0\.123 ntp\.internal$/m,
  );
  t.deepEqual(
    res.extensionUnits.map((u) => [u.name, u.filePaths]),
    [
      ["containerd.service", ["/etc/containerd/config.toml"]],
      ["systemd-resolved.service", ["/etc/systemd/resolved.conf.d/metal-dns.conf"]],
      ["systemd-timesyncd.service", ["/etc/systemd/timesyncd.conf"]],
    ],
  );
  t.deepEqual(
    res.extensionFiles.map((f) => f.path),
    [...files.keys()].sort(),
    "the extension files are exactly what went into user data",
  );
  const v = await ignitionValidate(res.userData);
  t.true(v.ok, v.output);
});

test("with the systemd cgroup driver no config.toml is written, but hosts.toml still is", (t) => {
  const res = renderer.render(
    request({
      containerRuntime: { name: "containerd", cgroupDriver: "systemd" },
      providerConfig: {
        networkIsolation: {
          dnsServers: [],
          ntpServers: [],
          registryMirrors: [{ name: "m", endpoint: "https://m", mirrorOf: ["quay.io"] }],
        },
      },
    }),
  );
  const files = ignitionFiles(parse(res.userData));
  t.false(files.has("/etc/containerd/config.toml"));
  t.true(files.has("/etc/containerd/certs.d/quay.io/hosts.toml"));
  t.false(res.extensionUnits.some((u) => u.name === "containerd.service"));
});

test("an OSC file replaces the extension's file of the same path, with a warning", (t) => {
  const res = renderer.render(
    request({ files: [plainFile("/etc/containerd/config.toml", "version = 2\n")] }),
  );
  t.is(
    ignitionFiles(parse(res.userData)).get("/etc/containerd/config.toml")?.data.toString(),
    "version = 2\n",
  );
  t.deepEqual(res.warnings, ["files[0] (/etc/containerd/config.toml): replaces the extension's own file"]);
  t.false(res.extensionFiles.some((f) => f.path === "/etc/containerd/config.toml"));
});

test("reconcile returns only extension files and units, no user data; references need no resolving", (t) => {
  const req = request({
    purpose: Purpose.PURPOSE_RECONCILE,
    files: [imageFile("/opt/bin/tool"), secretFile("/etc/unresolved", undefined), plainFile("/etc/a", "a")],
    units: [unit("kubelet.service", { content: KUBELET })],
    providerConfig: { networkIsolation: { dnsServers: ["10.0.0.53"], ntpServers: [], registryMirrors: [] } },
  });
  const res = renderer.render(req);
  t.is(res.userData.length, 0);
  t.is(res.specVersion, "");
  t.deepEqual(
    res.extensionFiles.map((f) => f.path),
    ["/etc/containerd/config.toml", "/etc/resolv.conf", "/etc/systemd/resolved.conf.d/metal-dns.conf"],
  );
  t.regex(res.sha256, /^[0-9a-f]{64}$/);
  t.is(renderer.render(req).sha256, res.sha256, "stable checksum");
  const other = renderer.render({ ...req, providerConfig: undefined });
  t.not(other.sha256, res.sha256, "the checksum follows the extension files");
});

test("secret and image references in provision: included when resolved, named errors otherwise", (t) => {
  const unresolved = invalid(
    t,
    request({ files: [plainFile("/etc/a", "a"), secretFile("/etc/token", undefined)] }),
  );
  t.is(unresolved.field, "files[1] (/etc/token)");
  t.regex(unresolved.message, /secret_ref node-secrets\/token is not resolved/);
  const image = invalid(t, request({ files: [imageFile("/opt/bin/tool")] }));
  t.is(image.field, "files[0] (/opt/bin/tool)");
  t.regex(image.message, /image_ref content .* cannot be put into Ignition user data/);
});

const badFiles: Array<[string, ReturnType<typeof plainFile>[], string, RegExp]> = [
  [
    "one path with two contents",
    [plainFile("/etc/a", "one"), plainFile("/etc/a", "two")],
    "files[1] (/etc/a)",
    /also files\[0\] \(\/etc\/a\) with different content/,
  ],
  [
    "one path with two modes",
    [plainFile("/etc/a", "x", 0o600), plainFile("/etc/a", "x", 0o644)],
    "files[1] (/etc/a)",
    /different mode/,
  ],
  ["invalid mode", [plainFile("/etc/a", "x", 0o17777)], "files[0] (/etc/a)", /invalid mode 0o17777/],
  [
    "unknown encoding",
    [
      {
        ...plainFile("/etc/a", "x"),
        content: {
          source: { $case: "inline", value: { encoding: "gzip", data: "x" } },
          transmitUnencoded: false,
        },
      },
    ],
    "files[0] (/etc/a)",
    /unknown content encoding "gzip"/,
  ],
  [
    "bad base64 (length)",
    [
      {
        ...plainFile("/etc/a", ""),
        content: {
          source: { $case: "inline", value: { encoding: "b64", data: "abc" } },
          transmitUnencoded: false,
        },
      },
    ],
    "files[0] (/etc/a)",
    /invalid base64/,
  ],
  [
    "bad base64 (alphabet)",
    [
      {
        ...plainFile("/etc/a", ""),
        content: {
          source: { $case: "inline", value: { encoding: "b64", data: "ab_d" } },
          transmitUnencoded: false,
        },
      },
    ],
    "files[0] (/etc/a)",
    /invalid base64: unexpected character "_"/,
  ],
  ["relative path", [plainFile("etc/a", "x")], "files[0] (etc/a)", /absolute/],
  ["dot-dot path", [plainFile("/etc/../a", "x")], "files[0] (/etc/../a)", /\. or \.\./],
  ["trailing slash", [plainFile("/etc/a/", "x")], "files[0] (/etc/a/)", /end with \//],
  ["empty path", [plainFile("", "x")], "files[0]", /path is required/],
  [
    "no content",
    [{ path: "/etc/a", permissions: undefined, content: undefined }],
    "files[0] (/etc/a)",
    /content needs one source/,
  ],
  [
    "a file where a directory is needed",
    [plainFile("/etc/a", "x"), plainFile("/etc/a/b", "y")],
    "files[0] (/etc/a)",
    /is a file, but files\[1\] \(\/etc\/a\/b\) needs \/etc\/a to be a directory/,
  ],
  [
    "a file where the extension needs a directory",
    [plainFile("/etc/containerd/certs.d", "x")],
    "files[0] (/etc/containerd/certs.d)",
    /needs|directory/,
  ],
];
for (const [name, files, field, message] of badFiles) {
  test(`bad file: ${name} -> INVALID_ARGUMENT naming ${field}`, (t) => {
    const withMirror = request({
      files,
      providerConfig: {
        networkIsolation: {
          dnsServers: [],
          ntpServers: [],
          registryMirrors: [{ name: "m", endpoint: "https://m", mirrorOf: ["docker.io"] }],
        },
      },
    });
    const err = invalid(t, withMirror);
    t.is(err.field, field);
    t.regex(err.message, message);
    t.true(err.message.startsWith(`${field}: `), err.message);
  });
}

test("identical duplicate files are written once, with a warning", (t) => {
  const res = renderer.render(request({ files: [plainFile("/etc/a", "same"), plainFile("/etc/a", "same")] }));
  t.is(parse(res.userData).storage.files.filter((f: { path: string }) => f.path === "/etc/a").length, 1);
  t.true(res.warnings.some((w) => w.startsWith("files[1] (/etc/a): repeats files[0]")));
});

const badUnits: Array<[string, ReturnType<typeof unit>[], ReturnType<typeof plainFile>[], string, RegExp]> = [
  ["no suffix", [unit("kubelet")], [], "units[0] (kubelet)", /must end in a unit type suffix/],
  ["unknown suffix", [unit("kubelet.bar")], [], "units[0] (kubelet.bar)", /must end in a unit type suffix/],
  ["bad characters", [unit("kube let.service")], [], "units[0] (kube let.service)", /may contain only/],
  ["empty name", [unit("")], [], "units[0]", /name is required/],
  ["twice", [unit("a.service"), unit("a.service")], [], "units[1] (a.service)", /also units\[0\]/],
  ["reserved name", [unit(START_HELPER_UNIT)], [], `units[0] (${START_HELPER_UNIT})`, /reserved/],
  [
    "drop-in without .conf",
    [unit("a.service", { dropIns: [{ name: "x.txt", content: "" }] })],
    [],
    "units[0] (a.service).drop_ins[0] (x.txt)",
    /must end in \.conf/,
  ],
  [
    "drop-in twice",
    [
      unit("a.service", {
        dropIns: [
          { name: "x.conf", content: "" },
          { name: "x.conf", content: "" },
        ],
      }),
    ],
    [],
    "units[0] (a.service).drop_ins[1] (x.conf)",
    /twice/,
  ],
  [
    "content without =",
    [unit("a.service", { content: "[Service]\nExecStart\n" })],
    [],
    "units[0] (a.service)",
    /invalid unit content: line 2: expected Key=Value/,
  ],
  [
    // Found by the property test: Ignition continues a value only on a backslash that ends the line.
    "a backslash before trailing whitespace does not continue the value",
    [unit("a.service", { content: "[Service]\nA=x \\\t\nnot-an-assignment\n" })],
    [],
    "units[0] (a.service)",
    /invalid unit content: line 3: expected Key=Value/,
  ],
  [
    "unclosed section",
    [unit("a.service", { content: "[Service\n" })],
    [],
    "units[0] (a.service)",
    /no closing \]/,
  ],
  [
    "line too long",
    [unit("a.service", { content: `[Service]\nA=${"x".repeat(2100)}\n` })],
    [],
    "units[0] (a.service)",
    /line 2 is 2102 bytes/,
  ],
  [
    "assignment before a section",
    [unit("a.service", { content: "A=b\n[Service]\n" })],
    [],
    "units[0] (a.service)",
    /before the first \[Section\]/,
  ],
  [
    "bad drop-in content",
    [unit("a.service", { dropIns: [{ name: "x.conf", content: "[Service]\nfoo\n" }] })],
    [],
    "units[0] (a.service).drop_ins[0] (x.conf)",
    /invalid drop-in content/,
  ],
  [
    "file_paths not among the files",
    [unit("a.service", { filePaths: ["/etc/nope"] })],
    [],
    "units[0] (a.service).file_paths[0]",
    /"\/etc\/nope" is not one of the files/,
  ],
  [
    "enable with stop",
    [unit("a.service", { enable: true, command: UnitCommand.UNIT_COMMAND_STOP })],
    [],
    "units[0] (a.service)",
    /contradicts/,
  ],
  [
    "enabled template",
    [unit("getty@.service", { enable: true })],
    [],
    "units[0] (getty@.service)",
    /template unit cannot be enabled/,
  ],
  [
    "started template",
    [unit("getty@.service", { command: UnitCommand.UNIT_COMMAND_START })],
    [],
    "units[0] (getty@.service)",
    /template unit cannot be started/,
  ],
  [
    "unknown command",
    [unit("a.service", { command: 9 as UnitCommand })],
    [],
    "units[0] (a.service)",
    /unknown command 9/,
  ],
  [
    "unit file also a file",
    [unit("a.service", { content: KUBELET })],
    [plainFile("/etc/systemd/system/a.service", "x")],
    "files[0] (/etc/systemd/system/a.service)",
    /also written by units\[0\] \(a\.service\)/,
  ],
];
for (const [name, units, files, field, message] of badUnits) {
  test(`bad unit: ${name} -> INVALID_ARGUMENT naming ${field}`, (t) => {
    const err = invalid(t, request({ units, files }));
    t.is(err.field, field);
    t.regex(err.message, message);
  });
}

test("unit file_paths may name OSC files and extension files", (t) => {
  t.notThrows(() =>
    renderer.render(
      request({
        files: [plainFile("/etc/a", "a")],
        units: [unit("a.service", { filePaths: ["/etc/a", "/etc/containerd/config.toml"] })],
      }),
    ),
  );
});

const badRequests: Array<[string, Partial<ReturnType<typeof request>>, string, RegExp]> = [
  ["purpose unset", { purpose: Purpose.PURPOSE_UNSPECIFIED }, "purpose", /PROVISION or PURPOSE_RECONCILE/],
  ["type unset", { type: "" }, "type", /required/],
  ["unknown spec version", { specVersion: 42 as SpecVersion }, "spec_version", /unknown spec version 42/],
  [
    "docker runtime",
    { containerRuntime: { name: "docker", cgroupDriver: "" } },
    "container_runtime.name",
    /unsupported container runtime "docker"/,
  ],
  [
    "unknown cgroup driver",
    { containerRuntime: { name: "containerd", cgroupDriver: "cgroupv3" } },
    "container_runtime.cgroup_driver",
    /unknown cgroup driver/,
  ],
  [
    "bad DNS server",
    {
      providerConfig: {
        networkIsolation: { dnsServers: ["dns.example"], ntpServers: [], registryMirrors: [] },
      },
    },
    "provider_config.network_isolation.dns_servers[0]",
    /not an IP address/,
  ],
  [
    "four DNS servers",
    {
      providerConfig: {
        networkIsolation: {
          dnsServers: ["1.1.1.1", "1.0.0.1", "8.8.8.8", "8.8.4.4"],
          ntpServers: [],
          registryMirrors: [],
        },
      },
    },
    "provider_config.network_isolation.dns_servers",
    /at most 3/,
  ],
  [
    "bad NTP server",
    {
      providerConfig: {
        networkIsolation: { dnsServers: [], ntpServers: ["not a host"], registryMirrors: [] },
      },
    },
    "provider_config.network_isolation.ntp_servers[0]",
    /neither an IP address nor a host name/,
  ],
  [
    "mirror endpoint not http",
    {
      providerConfig: {
        networkIsolation: {
          dnsServers: [],
          ntpServers: [],
          registryMirrors: [{ name: "m", endpoint: "ftp://m", mirrorOf: ["docker.io"] }],
        },
      },
    },
    "provider_config.network_isolation.registry_mirrors[0] (m)",
    /must be http or https/,
  ],
  [
    "mirror endpoint with path",
    {
      providerConfig: {
        networkIsolation: {
          dnsServers: [],
          ntpServers: [],
          registryMirrors: [{ name: "m", endpoint: "https://m/v2", mirrorOf: ["docker.io"] }],
        },
      },
    },
    "provider_config.network_isolation.registry_mirrors[0] (m)",
    /must not have a path/,
  ],
  [
    "mirror of nothing",
    {
      providerConfig: {
        networkIsolation: {
          dnsServers: [],
          ntpServers: [],
          registryMirrors: [{ name: "m", endpoint: "https://m", mirrorOf: [] }],
        },
      },
    },
    "provider_config.network_isolation.registry_mirrors[0] (m)",
    /at least one registry/,
  ],
  [
    "mirror of a URL",
    {
      providerConfig: {
        networkIsolation: {
          dnsServers: [],
          ntpServers: [],
          registryMirrors: [{ name: "m", endpoint: "https://m", mirrorOf: ["https://docker.io"] }],
        },
      },
    },
    "provider_config.network_isolation.registry_mirrors[0] (m).mirror_of[0]",
    /not a registry host/,
  ],
];
for (const [name, extra, field, message] of badRequests) {
  test(`bad request: ${name} -> INVALID_ARGUMENT naming ${field}`, (t) => {
    const err = invalid(t, request(extra));
    t.is(err.field, field);
    t.regex(err.message, message);
  });
}

test("every problem of a request is reported in one error, the first one as its field", (t) => {
  const err = invalid(
    t,
    request({
      files: [plainFile("etc/a", "x"), plainFile("/etc/b", "x", 0o20000)],
      units: [unit("bad")],
    }),
  );
  t.is(err.field, "files[0] (etc/a)");
  t.regex(
    err.message,
    /also files\[1\] \(\/etc\/b\): invalid mode 0o20000 \(permissions must be 0 to 0o7777\); units\[0\] \(bad\): name must end/,
  );
});

test("setuid bits render, with a warning that spec 3.3.0 ignores them", (t) => {
  const res = renderer.render(request({ files: [plainFile("/opt/bin/su", "x", 0o4755)] }));
  t.is(ignitionFiles(parse(res.userData)).get("/opt/bin/su")?.mode, 0o4755);
  t.true(res.warnings.some((w) => /ignores setuid\/setgid\/sticky bits \(0o4755\)/.test(w)));
});
