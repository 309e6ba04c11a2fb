import { SpecVersion } from "@metal-kube/proto/metalstack/ignition/v1/ignition";
import { Code, ServiceError } from "@metal-kube/service-kit";
import test from "ava";
import fc from "fast-check";
import { createRenderer } from "../src/renderer.js";
import { validRequest, validUnitBody } from "./arbitraries.js";
import { ignitionFiles, ignitionValidate, plainFile, request, unit } from "./helpers.js";
import { checkSpec230 } from "./spec-v2-3.js";

const renderer = createRenderer();
const NUM_RUNS = Number(process.env.IGNITION_PROPERTY_RUNS ?? 100);

test("any valid OSC renders to 3.3.0 user data that ignition-validate accepts, with every file's bytes", async (t) => {
  await fc.assert(
    fc.asyncProperty(
      validRequest([SpecVersion.SPEC_VERSION_UNSPECIFIED, SpecVersion.SPEC_VERSION_3_3_0]),
      async ({ request, files }) => {
        const res = renderer.render(request);
        const v = await ignitionValidate(res.userData);
        if (!v.ok) throw new Error(`ignition-validate refused: ${v.output}\n${res.userData}`);
        const out = ignitionFiles(JSON.parse(res.userData.toString()));
        for (const f of files) {
          const got = out.get(f.file.path);
          if (!got?.data.equals(f.expected)) throw new Error(`${f.file.path}: content differs`);
          if (got.mode !== (f.file.permissions ?? 0o644)) throw new Error(`${f.file.path}: mode differs`);
        }
        // Deterministic: a second render gives the same bytes.
        if (!renderer.render(request).userData.equals(res.userData)) throw new Error("not deterministic");
      },
    ),
    { numRuns: NUM_RUNS },
  );
  t.pass();
});

test("any valid OSC renders to 2.3.0 user data that follows the 2.3.0 schema, with every file's bytes", (t) => {
  fc.assert(
    fc.property(validRequest([SpecVersion.SPEC_VERSION_2_3_0]), ({ request, files }) => {
      const res = renderer.render(request);
      const errors = checkSpec230(res.userData.toString());
      if (errors.length > 0) throw new Error(errors.join("\n"));
      const out = ignitionFiles(JSON.parse(res.userData.toString()));
      for (const f of files)
        if (!out.get(f.file.path)?.data.equals(f.expected)) throw new Error(`${f.file.path}`);
    }),
    { numRuns: NUM_RUNS * 2 },
  );
  t.pass();
});

/** One defect planted into a valid request, and the field the error must name. */
type Defect = (
  r: ReturnType<typeof request>,
) => { request: ReturnType<typeof request>; field: string } | undefined;

const pick = <T>(list: T[], n: number): [T, number] | undefined =>
  list.length === 0 ? undefined : [list[n % list.length] as T, n % list.length];

const defects = (n: number, junk: string): Defect[] => [
  // one path with two contents
  (r) => {
    const p = pick(r.files, n);
    if (!p) return undefined;
    const [f] = p;
    const dup = plainFile(f.path, `different ${junk}`, f.permissions);
    const files = [...r.files, dup];
    // Same bytes would be a harmless repeat; make sure they differ.
    const src = f.content?.source;
    if (src?.$case === "inline" && src.value.encoding === "" && src.value.data === `different ${junk}`)
      return undefined;
    return { request: { ...r, files }, field: `files[${r.files.length}] (${f.path})` };
  },
  // invalid mode
  (r) => {
    const p = pick(r.files, n);
    if (!p) return undefined;
    const [f, i] = p;
    const files = r.files.map((x, j) => (j === i ? { ...x, permissions: 0o10000 + (n % 0o70000) } : x));
    return { request: { ...r, files }, field: `files[${i}] (${f.path})` };
  },
  // unknown encoding
  (r) => {
    const p = pick(r.files, n);
    if (!p || ["", "b64", "base64"].includes(junk)) return undefined;
    const [f, i] = p;
    const files = r.files.map((x, j) =>
      j === i
        ? {
            ...x,
            content: {
              source: { $case: "inline" as const, value: { encoding: junk, data: "x" } },
              transmitUnencoded: false,
            },
          }
        : x,
    );
    return { request: { ...r, files }, field: `files[${i}] (${f.path})` };
  },
  // bad base64
  (r) => {
    const p = pick(r.files, n);
    if (!p) return undefined;
    const [f, i] = p;
    const data = `${Buffer.from(junk).toString("base64")}${"!@#$%^&*_-."[n % 11]}`;
    const files = r.files.map((x, j) =>
      j === i
        ? {
            ...x,
            content: {
              source: { $case: "inline" as const, value: { encoding: "b64", data } },
              transmitUnencoded: false,
            },
          }
        : x,
    );
    return { request: { ...r, files }, field: `files[${i}] (${f.path})` };
  },
  // a unit name without a valid suffix
  (r) => {
    const name = `${junk.replace(/[^a-z0-9-]/g, "") || "unit"}.${["", "conf", "bar", "services", "Service"][n % 5]}`;
    const units = [...r.units, unit(name)];
    return { request: { ...r, units }, field: `units[${r.units.length}] (${name})` };
  },
];

test("any valid OSC with one planted defect gets INVALID_ARGUMENT naming that file or unit", (t) => {
  fc.assert(
    fc.property(
      validRequest(),
      fc.nat(),
      fc.string({ maxLength: 12 }),
      fc.nat(4),
      ({ request }, n, junk, which) => {
        const planted = (defects(n, junk)[which] as Defect)(request);
        fc.pre(planted !== undefined);
        if (!planted) return;
        try {
          renderer.render(planted.request);
        } catch (err) {
          if (!(err instanceof ServiceError) || err.code !== Code.INVALID_ARGUMENT) throw err;
          if (err.field !== planted.field)
            throw new Error(`named ${err.field}, expected ${planted.field}: ${err.message}`);
          return;
        }
        throw new Error(`defect ${which} was accepted`);
      },
    ),
    { numRuns: NUM_RUNS * 5 },
  );
  t.pass();
});

// Cross-checks against the real parser: whatever we accept, Ignition must accept too.
const lineChars = fc.constantFrom(
  "[",
  "]",
  "=",
  "#",
  ";",
  "\\",
  " ",
  "\t",
  "\n",
  "\r",
  "a",
  "B",
  "x",
  "é",
  "\0",
);
const garbageBody = fc.oneof(
  fc.string({ unit: lineChars, maxLength: 80 }),
  validUnitBody.chain((b) =>
    fc
      .tuple(fc.nat(b.length), fc.string({ unit: lineChars, maxLength: 6 }))
      .map(([at, s]) => b.slice(0, at) + s + b.slice(at)),
  ),
);

test("random unit and drop-in bodies: rejected naming the unit, or accepted by ignition-validate", async (t) => {
  let rejected = 0;
  let accepted = 0;
  await fc.assert(
    fc.asyncProperty(garbageBody, fc.boolean(), async (body, asDropIn) => {
      const u = asDropIn
        ? unit("a.service", { dropIns: [{ name: "x.conf", content: body }] })
        : unit("a.service", { content: body });
      let res: ReturnType<typeof renderer.render>;
      try {
        res = renderer.render(request({ units: [u] }));
      } catch (err) {
        if (!(err instanceof ServiceError) || err.code !== Code.INVALID_ARGUMENT) throw err;
        const field = asDropIn ? "units[0] (a.service).drop_ins[0] (x.conf)" : "units[0] (a.service)";
        if (err.field !== field) throw new Error(`named ${err.field}`);
        rejected++;
        return;
      }
      accepted++;
      const v = await ignitionValidate(res.userData);
      if (!v.ok)
        throw new Error(`we accepted ${JSON.stringify(body)} but ignition-validate says ${v.output}`);
    }),
    { numRuns: NUM_RUNS * 2 },
  );
  t.true(rejected > 0 && accepted > 0, `both outcomes occur (rejected ${rejected}, accepted ${accepted})`);
});

const pathChars = fc.constantFrom("/", ".", "a", "b", "-", "_", " ", "é", "\0", "~");
test("random paths and unit names: rejected naming the entry, or accepted by ignition-validate", async (t) => {
  await fc.assert(
    fc.asyncProperty(
      fc.string({ unit: pathChars, maxLength: 20 }).map((s) => (s.startsWith("/") ? s : `/x/${s}`)),
      fc.string({
        unit: fc.constantFrom("a", ".", "@", "-", "\\", "service", "timer", "x", " ", ":"),
        maxLength: 8,
      }),
      async (path, name) => {
        let res: ReturnType<typeof renderer.render>;
        try {
          res = renderer.render(
            request({ files: [plainFile(path, "x")], units: [unit(name, { content: "[Unit]\n" })] }),
          );
        } catch (err) {
          if (!(err instanceof ServiceError) || err.code !== Code.INVALID_ARGUMENT) throw err;
          if (!/^(files\[0\]|units\[0\])/.test(err.field ?? "")) throw new Error(`named ${err.field}`);
          return;
        }
        const v = await ignitionValidate(res.userData);
        if (!v.ok)
          throw new Error(`we accepted ${JSON.stringify(path)} / ${JSON.stringify(name)} but: ${v.output}`);
      },
    ),
    { numRuns: NUM_RUNS },
  );
  t.pass();
});
