// Every service has the rooms of ADR 0010, and no import crosses a wall: the service never reaches
// Kubernetes code or its adapter, the adapter never reaches the service's domain (only its gRPC client).

import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import test from "ava";

const ROOT = join(import.meta.dirname, "../..");
const SERVICES = join(ROOT, "services");
/** metal-api's stand-in: HTTP, no Kubernetes side (ADR 0010). */
const NOT_GRPC_SERVICES = new Set(["metal-api-emulator"]);
const KUBERNETES_MODULES = ["@metal-kube/kube", "@kubernetes/client-node"];

const services = readdirSync(SERVICES)
  .filter((n) => statSync(join(SERVICES, n)).isDirectory() && !NOT_GRPC_SERVICES.has(n))
  .sort();

function tsFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === "node_modules" || e.name === "gen" ? [] : tsFiles(p);
    return e.name.endsWith(".ts") ? [p] : [];
  });
}

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

/** Every module specifier a file imports or re-exports (static and dynamic). */
export function importsOf(source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(IMPORT)) out.push((m[1] ?? m[2])!);
  return out;
}

test("the import scanner sees static, type-only, re-export and dynamic imports", (t) => {
  const src = [
    'import { a } from "x";',
    'import type { B } from "../y.js";',
    'export { c } from "./z.js";',
    "import {\n  d,\n  e,\n} from '@metal-kube/kube';",
    'const m = await import("./adapter/main.js");',
  ].join("\n");
  t.deepEqual(importsOf(src), ["x", "../y.js", "./z.js", "@metal-kube/kube", "./adapter/main.js"]);
});

test("there are services to check", (t) => {
  t.true(services.length >= 3, services.join(", "));
});

for (const name of services) {
  const src = join(SERVICES, name, "src");
  const adapter = join(src, "adapter");
  const pkg = JSON.parse(readFileSync(join(SERVICES, name, "package.json"), "utf8")) as { name: string };

  test(`${name}: has the rooms main.ts, service.ts or server.ts, adapter/ with its main`, (t) => {
    t.true(existsSync(join(src, "main.ts")), "src/main.ts (the service process)");
    t.true(
      existsSync(join(src, "service.ts")) || existsSync(join(src, "server.ts")),
      "src/service.ts or src/server.ts (the gRPC wiring)",
    );
    t.true(
      existsSync(join(adapter, "main.ts")) || existsSync(join(adapter, "main.go")),
      "src/adapter/main.ts (or the Go sidecar's main.go): the adapter process",
    );
    t.true(existsSync(join(SERVICES, name, "README.md")), "README.md");
  });

  test(`${name}: the service never imports Kubernetes code or its adapter`, (t) => {
    const crossings: string[] = [];
    for (const file of tsFiles(src).filter((f) => !f.startsWith(adapter + sep))) {
      for (const spec of importsOf(readFileSync(file, "utf8"))) {
        const where = relative(ROOT, file);
        if (KUBERNETES_MODULES.some((m) => spec === m || spec.startsWith(`${m}/`)))
          crossings.push(`${where} imports ${spec}`);
        if (spec.startsWith(".") && resolve(dirname(file), spec).startsWith(adapter + sep))
          crossings.push(`${where} imports its adapter (${spec})`);
      }
    }
    t.deepEqual(crossings, []);
  });

  test(`${name}: the adapter reaches the service only through its gRPC client`, (t) => {
    const crossings: string[] = [];
    for (const file of tsFiles(adapter)) {
      for (const spec of importsOf(readFileSync(file, "utf8"))) {
        const where = relative(ROOT, file);
        if (spec.startsWith(".") && !resolve(dirname(file), spec).startsWith(adapter + sep))
          crossings.push(`${where} imports ${spec} (outside the adapter)`);
        if (spec === pkg.name || spec.startsWith(`${pkg.name}/`)) crossings.push(`${where} imports ${spec}`);
      }
    }
    t.deepEqual(crossings, []);
  });
}

test("no service imports another service's sources", (t) => {
  const crossings: string[] = [];
  for (const name of readdirSync(SERVICES)) {
    for (const file of tsFiles(join(SERVICES, name, "src"))) {
      for (const spec of importsOf(readFileSync(file, "utf8"))) {
        const target = spec.startsWith(".") ? resolve(dirname(file), spec) : "";
        if (target.startsWith(SERVICES + sep) && !target.startsWith(join(SERVICES, name) + sep))
          crossings.push(`${relative(ROOT, file)} imports ${spec}`);
      }
    }
  }
  t.deepEqual(crossings, []);
});
