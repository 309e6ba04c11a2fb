// A checker for Ignition config spec 2.3.0, written from the spec's documentation
// (coreos/ignition doc/configuration-v2_3.md). Debian's ignition-validate reads only 3.x, so 2.3.0
// output is checked here: every key must be one the spec defines, with the documented type, every
// required key present, and the documented value rules (absolute paths, unit suffixes, ...) kept.

type Shape =
  | { kind: "string" | "integer" | "boolean" }
  | { kind: "object"; fields: Record<string, { shape: Shape; required?: boolean }> }
  | { kind: "array"; items: Shape };

const s = { kind: "string" } as const;
const i = { kind: "integer" } as const;
const b = { kind: "boolean" } as const;
const arr = (items: Shape): Shape => ({ kind: "array", items });
const obj = (fields: Record<string, Shape | { shape: Shape; required: true }>): Shape => ({
  kind: "object",
  fields: Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, "kind" in v ? { shape: v } : v])),
});
const req = (shape: Shape) => ({ shape, required: true as const });

const verification = obj({ hash: s });
const source = obj({ source: req(s), verification });
const owner = obj({ id: i, name: s });
const dropin = obj({ name: req(s), contents: s });

export const SPEC_2_3_0: Shape = obj({
  ignition: req(
    obj({
      version: req(s),
      config: obj({ append: arr(source), replace: source }),
      timeouts: obj({ httpResponseHeaders: i, httpTotal: i }),
      security: obj({ tls: obj({ certificateAuthorities: arr(source) }) }),
    }),
  ),
  storage: obj({
    disks: arr(
      obj({
        device: req(s),
        wipeTable: b,
        partitions: arr(
          obj({
            label: s,
            number: i,
            sizeMiB: i,
            startMiB: i,
            size: i,
            start: i,
            typeGuid: s,
            guid: s,
            wipePartitionEntry: b,
            shouldExist: b,
          }),
        ),
      }),
    ),
    raid: arr(obj({ name: req(s), level: req(s), devices: req(arr(s)), spares: i, options: arr(s) })),
    filesystems: arr(
      obj({
        name: s,
        mount: obj({
          device: req(s),
          format: req(s),
          wipeFilesystem: b,
          label: s,
          uuid: s,
          options: arr(s),
          create: obj({ force: b, options: arr(s) }),
        }),
        path: s,
      }),
    ),
    files: arr(
      obj({
        filesystem: req(s),
        path: req(s),
        overwrite: b,
        append: b,
        contents: obj({ compression: s, source: s, verification }),
        mode: i,
        user: owner,
        group: owner,
      }),
    ),
    directories: arr(
      obj({ filesystem: req(s), path: req(s), overwrite: b, mode: i, user: owner, group: owner }),
    ),
    links: arr(
      obj({
        filesystem: req(s),
        path: req(s),
        overwrite: b,
        user: owner,
        group: owner,
        target: req(s),
        hard: b,
      }),
    ),
  }),
  systemd: obj({
    units: arr(obj({ name: req(s), enable: b, enabled: b, mask: b, contents: s, dropins: arr(dropin) })),
  }),
  networkd: obj({ units: arr(obj({ name: req(s), contents: s, dropins: arr(dropin) })) }),
  passwd: obj({
    users: arr(
      obj({
        name: req(s),
        passwordHash: s,
        sshAuthorizedKeys: arr(s),
        uid: i,
        gecos: s,
        homeDir: s,
        noCreateHome: b,
        primaryGroup: s,
        groups: arr(s),
        noUserGroup: b,
        noLogInit: b,
        shell: s,
        system: b,
        create: obj({
          uid: i,
          gecos: s,
          homeDir: s,
          noCreateHome: b,
          primaryGroup: s,
          groups: arr(s),
          noUserGroup: b,
          noLogInit: b,
          shell: s,
          system: b,
        }),
      }),
    ),
    groups: arr(obj({ name: req(s), gid: i, passwordHash: s, system: b })),
  }),
});

const UNIT_TYPES = /\.(service|socket|device|mount|automount|swap|target|path|timer|snapshot|slice|scope)$/;
const DATA_URL = /^data:([^,]*?)(;base64)?,(.*)$/s;

function checkShape(value: unknown, shape: Shape, at: string, errors: string[]): void {
  switch (shape.kind) {
    case "string":
      if (typeof value !== "string") errors.push(`${at}: must be a string`);
      return;
    case "integer":
      if (!Number.isInteger(value)) errors.push(`${at}: must be an integer`);
      return;
    case "boolean":
      if (typeof value !== "boolean") errors.push(`${at}: must be a boolean`);
      return;
    case "array":
      if (!Array.isArray(value)) {
        errors.push(`${at}: must be a list`);
        return;
      }
      value.forEach((v, n) => {
        checkShape(v, shape.items, `${at}[${n}]`, errors);
      });
      return;
    case "object": {
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        errors.push(`${at}: must be an object`);
        return;
      }
      const o = value as Record<string, unknown>;
      for (const k of Object.keys(o)) {
        const f = shape.fields[k];
        if (!f) errors.push(`${at}.${k}: not a field of spec 2.3.0`);
        else checkShape(o[k], f.shape, `${at}.${k}`, errors);
      }
      for (const [k, f] of Object.entries(shape.fields))
        if (f.required && !(k in o)) errors.push(`${at}.${k}: required`);
    }
  }
}

function isSimplifiedAbsolute(p: string): boolean {
  if (!p.startsWith("/") || p === "/" || p.endsWith("/")) return false;
  return p
    .slice(1)
    .split("/")
    .every((seg) => seg !== "" && seg !== "." && seg !== "..");
}

/** Every problem of a spec 2.3.0 config; empty when it conforms. */
export function checkSpec230(json: string): string[] {
  const errors: string[] = [];
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(json);
  } catch (err) {
    return [`not JSON: ${String(err)}`];
  }
  checkShape(config, SPEC_2_3_0, "$", errors);
  if (errors.length > 0) return errors;
  // biome-ignore lint/suspicious/noExplicitAny: shape checked above
  const c = config as any;
  if (c.ignition.version !== "2.3.0") errors.push(`$.ignition.version: ${c.ignition.version} is not 2.3.0`);
  const filesystems = new Set<string>([
    "root",
    ...(c.storage?.filesystems ?? []).map((f: { name?: string }) => f.name),
  ]);
  const seen = new Set<string>();
  (c.storage?.files ?? []).forEach((f: Record<string, unknown>, n: number) => {
    const at = `$.storage.files[${n}]`;
    if (!filesystems.has(f.filesystem as string))
      errors.push(`${at}.filesystem: unknown filesystem ${f.filesystem}`);
    if (!isSimplifiedAbsolute(f.path as string)) errors.push(`${at}.path: not an absolute simplified path`);
    if (seen.has(f.path as string)) errors.push(`${at}.path: duplicate`);
    seen.add(f.path as string);
    if (f.append === true && f.overwrite !== false)
      errors.push(`${at}: append cannot be set with overwrite true`);
    if (f.mode !== undefined && ((f.mode as number) < 0 || (f.mode as number) > 0o7777))
      errors.push(`${at}.mode: out of range`);
    const contents = f.contents as { source?: string; compression?: string } | undefined;
    if (contents?.compression !== undefined && contents.compression !== "" && contents.compression !== "gzip")
      errors.push(`${at}.contents.compression: must be null or gzip`);
    if (contents?.source !== undefined) {
      const m = DATA_URL.exec(contents.source);
      if (!m) errors.push(`${at}.contents.source: not a data URL`);
      else if (m[2] && !/^[A-Za-z0-9+/]*={0,2}$/.test(m[3] as string))
        errors.push(`${at}.contents.source: bad base64`);
      else if (!m[2]) {
        try {
          decodeURIComponent(m[3] as string);
        } catch {
          errors.push(`${at}.contents.source: bad percent-encoding`);
        }
      }
    }
  });
  const unitNames = new Set<string>();
  (c.systemd?.units ?? []).forEach((u: { name: string; dropins?: { name: string }[] }, n: number) => {
    const at = `$.systemd.units[${n}]`;
    if (!UNIT_TYPES.test(u.name)) errors.push(`${at}.name: invalid unit type suffix`);
    if (unitNames.has(u.name)) errors.push(`${at}.name: duplicate`);
    unitNames.add(u.name);
    (u.dropins ?? []).forEach((d, k) => {
      if (!d.name.endsWith(".conf")) errors.push(`${at}.dropins[${k}].name: must end in .conf`);
    });
  });
  return errors;
}
