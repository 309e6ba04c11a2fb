// fast-check generators of valid OperatingSystemConfig render requests.

import {
  type File,
  type NetworkIsolation,
  Purpose,
  type RenderRequest,
  SpecVersion,
  type Unit,
  UnitCommand,
} from "@metal-kube/proto/metalstack/ignition/v1/ignition";
import fc from "fast-check";
import { ancestors } from "../src/paths.js";

const segment = fc.stringMatching(/^[a-z0-9_-][a-z0-9._-]{0,11}$/).filter((s) => s !== "." && s !== "..");
// Roots that hold no extension file, so random files never collide with the extension's directories.
const root = fc.constantFrom("/opt", "/var/lib", "/etc/metal-test", "/usr/local/share");
export const validPath = fc
  .tuple(root, fc.array(segment, { minLength: 1, maxLength: 4 }))
  .map(([r, segs]) => `${r}/${segs.join("/")}`);

const bytes = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 300 }) },
  // Large and compressible, so the gzip path is exercised.
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.string({ maxLength: 40 }), fc.integer({ min: 100, max: 400 }))
      .map(([s, n]) => new TextEncoder().encode(s.repeat(n))),
  },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 4096, maxLength: 6000 }) },
);

type Content = File["content"];
export const validContent: fc.Arbitrary<{ content: Content; expected: Buffer }> = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 300 }).map((s) => ({
    content: {
      source: { $case: "inline" as const, value: { encoding: "", data: s } },
      transmitUnencoded: false,
    },
    expected: Buffer.from(s, "utf8"),
  })),
  fc.tuple(bytes, fc.constantFrom("b64", "base64"), fc.boolean()).map(([b, encoding, wrap]) => {
    const b64 = Buffer.from(b).toString("base64");
    // Line-wrapped base64, as `base64` writes it, must decode too.
    const data = wrap ? (b64.match(/.{1,76}/g) ?? []).join("\n") : b64;
    return {
      content: { source: { $case: "inline" as const, value: { encoding, data } }, transmitUnencoded: false },
      expected: Buffer.from(b),
    };
  }),
  bytes.map((b) => ({
    content: {
      source: { $case: "secretRef" as const, value: { name: "s", dataKey: "k", data: Buffer.from(b) } },
      transmitUnencoded: false,
    },
    expected: Buffer.from(b),
  })),
);

export const validMode = fc.option(
  fc.oneof(fc.integer({ min: 0, max: 0o777 }), fc.integer({ min: 0, max: 0o7777 })),
  {
    nil: undefined,
  },
);

export interface FileCase {
  file: File;
  expected: Buffer;
}

/** Files with distinct paths, none the parent directory of another. */
export const validFiles: fc.Arbitrary<FileCase[]> = fc
  .uniqueArray(fc.record({ path: validPath, mode: validMode, c: validContent }), {
    selector: (f) => f.path,
    maxLength: 8,
  })
  .map((list) => {
    const paths = new Set(list.map((f) => f.path));
    const dirs = new Set(list.flatMap((f) => ancestors(f.path)));
    return list
      .filter((f) => !dirs.has(f.path) && paths.has(f.path))
      .map((f) => ({
        file: { path: f.path, permissions: f.mode, content: f.c.content },
        expected: f.c.expected,
      }));
  });

const valueChar = fc.string({ unit: "grapheme", maxLength: 120 }).map((s) => s.replace(/[\n\r\0\\]/g, " "));
const assignment = fc
  .tuple(fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{0,20}$/), valueChar)
  .map(([k, v]) => `${k}=${v}`);
const comment = fc.tuple(fc.constantFrom("#", ";"), valueChar).map(([c, v]) => `${c}${v}`);
const section = fc.constantFrom("[Unit]", "[Service]", "[Install]", "[Timer]", "[Socket]", "[X-Metal]");
/** Unit file bodies systemd and Ignition read. */
export const validUnitBody = fc
  .tuple(
    section,
    fc.array(fc.oneof({ weight: 5, arbitrary: assignment }, comment, section, fc.constant("")), {
      maxLength: 12,
    }),
    fc.boolean(),
  )
  .map(([first, lines, nl]) => [first, ...lines].join("\n") + (nl ? "\n" : ""));

const unitName = fc
  .tuple(
    fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/),
    fc.option(fc.stringMatching(/^[a-z0-9]{0,6}$/), { nil: undefined }),
    fc.constantFrom("service", "socket", "timer", "path", "mount", "target", "slice"),
  )
  .map(([p, inst, suffix]) => `${p}${inst === undefined ? "" : `@${inst}`}.${suffix}`);

export const validUnits = (filePaths: string[]): fc.Arbitrary<Unit[]> =>
  fc.uniqueArray(
    fc
      .record({
        name: unitName,
        enable: fc.option(fc.boolean(), { nil: undefined }),
        command: fc.constantFrom(
          UnitCommand.UNIT_COMMAND_UNSPECIFIED,
          UnitCommand.UNIT_COMMAND_START,
          UnitCommand.UNIT_COMMAND_RESTART,
          UnitCommand.UNIT_COMMAND_STOP,
        ),
        content: fc.option(validUnitBody, { nil: undefined }),
        dropIns: fc.uniqueArray(
          fc.record({ name: fc.stringMatching(/^[a-z0-9-]{1,12}\.conf$/), content: validUnitBody }),
          { selector: (d) => d.name, maxLength: 3 },
        ),
        filePaths: (filePaths.length > 0 ? fc.subarray(filePaths) : fc.constant([])) as fc.Arbitrary<
          string[]
        >,
      })
      // enable: true with STOP is contradictory; a template (x@.service) is neither enabled nor started.
      .map((u) =>
        u.command === UnitCommand.UNIT_COMMAND_STOP && u.enable === true ? { ...u, enable: undefined } : u,
      )
      .map((u) =>
        /@\./.test(u.name)
          ? {
              ...u,
              enable: u.enable === true ? undefined : u.enable,
              command:
                u.command === UnitCommand.UNIT_COMMAND_STOP
                  ? u.command
                  : UnitCommand.UNIT_COMMAND_UNSPECIFIED,
            }
          : u,
      ),
    { selector: (u) => u.name, maxLength: 6 },
  );

const host = fc.domain().filter((d) => d.length <= 253);
export const networkIsolation: fc.Arbitrary<NetworkIsolation> = fc.record({
  dnsServers: fc.array(fc.oneof(fc.ipV4(), fc.ipV6()), { maxLength: 3 }),
  ntpServers: fc.array(fc.oneof(fc.ipV4(), host), { maxLength: 3 }),
  registryMirrors: fc.array(
    fc.record({
      name: fc.stringMatching(/^[a-z0-9-]{0,10}$/),
      endpoint: fc
        .tuple(
          fc.constantFrom("http", "https"),
          host,
          fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
        )
        .map(([s, h, p]) => `${s}://${h}${p === undefined ? "" : `:${p}`}`),
      mirrorOf: fc.array(
        fc
          .tuple(host, fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }))
          .map(([h, p]) => (p ? `${h}:${p}` : h)),
        { minLength: 1, maxLength: 3 },
      ),
    }),
    { maxLength: 3 },
  ),
});

export interface RequestCase {
  request: RenderRequest;
  files: FileCase[];
}

/** A valid provision request and the bytes each of its files must have on the machine. */
export const validRequest = (
  specVersions: SpecVersion[] = [
    SpecVersion.SPEC_VERSION_UNSPECIFIED,
    SpecVersion.SPEC_VERSION_3_3_0,
    SpecVersion.SPEC_VERSION_2_3_0,
  ],
): fc.Arbitrary<RequestCase> =>
  validFiles.chain((files) =>
    fc
      .record({
        units: validUnits(files.map((f) => f.file.path)),
        cgroupDriver: fc.constantFrom("", "cgroupfs", "systemd"),
        runtime: fc.constantFrom("", "containerd"),
        iso: fc.option(networkIsolation, { nil: undefined }),
        specVersion: fc.constantFrom(...specVersions),
        type: fc.constantFrom("ubuntu", "debian"),
      })
      .map((r) => ({
        files,
        request: {
          namespace: "shoot--p--c",
          name: "osc",
          type: r.type,
          purpose: Purpose.PURPOSE_PROVISION,
          files: files.map((f) => f.file),
          units: r.units,
          containerRuntime: { name: r.runtime, cgroupDriver: r.cgroupDriver },
          providerConfig: r.iso ? { networkIsolation: r.iso } : undefined,
          specVersion: r.specVersion,
        },
      })),
  );
