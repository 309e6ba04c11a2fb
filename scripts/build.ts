// `npm run build`: one ESM bundle per service entry point under dist/, run with plain `node` (what
// deploy/ and `npm start` run). tsx is for development: its loader thread and source maps cost a service ~60 MB RSS.
// The project's own TypeScript (services, libs) is bundled; third-party packages stay external and load
// from node_modules as usual, so their own files (proto includes, native parts) keep working.
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { build, type Plugin } from "esbuild";

const root = join(import.meta.dirname, "..");
const outdir = join(root, "dist");

/**
 * Bundle name -> entry point (from the repo root): every service's process `services/<name>/src/main.ts`
 * as `<name>`, and its adapter process `services/<name>/src/adapter/main.ts` as `<name>-adapter`.
 */
export const ENTRIES: Record<string, string> = Object.fromEntries(
  readdirSync(join(root, "services"), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .flatMap(
      (name): Array<[string, string]> => [
        [name, `services/${name}/src/main.ts`],
        [`${name}-adapter`, `services/${name}/src/adapter/main.ts`],
      ],
    )
    .filter(([, entry]) => existsSync(join(root, entry))),
);

/**
 * Keeps third-party packages external, and points `import.meta.url` of a bundled source file at that
 * file (relative to the bundle), so paths next to it (descriptor sets, the default inventory) resolve.
 */
const projectOnly: Plugin = {
  name: "project-only",
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith("@metal-kube/") || args.path.startsWith("node:")) return undefined;
      return { path: args.path, external: true };
    });
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      const text = await readFile(args.path, "utf8");
      if (!text.includes("import.meta.url")) return { contents: text, loader: "ts" };
      const rel = relative(outdir, args.path).split("\\").join("/");
      return {
        contents: text.replaceAll("import.meta.url", `new URL(${JSON.stringify(rel)}, import.meta.url).href`),
        loader: "ts",
      };
    });
  },
};

/** Path of a service's bundle (built by buildBundles). */
export const bundlePath = (name: string): string => join(outdir, `${name}.mjs`);

/**
 * Node options a service is started with, wherever it runs: deploy manifests (a test compares them),
 * `npm start` and the benchmarks. V8 takes heap settings only on the command line.
 */
export const NODE_FLAGS: Readonly<Record<string, readonly string[]>> = {
  // ignition moves ~420 KiB of buffers per call. With V8's default limits a small old generation gets
  // a limit so close to its size that the buffers' external bytes start a mark-compact every ~35 ms
  // (a third of the CPU, measured); a configured initial old generation is also the floor below which
  // V8 skips full GCs. Peak RSS under load stays about 136 MiB.
  ignition: ["--initial-old-space-size=128"],
  // firewall renders 1,000 policies into ~1 MiB of ruleset text and a model of ~11,000 elements; the
  // same floor keeps V8 from full GCs while that heap grows (render p50 75-85 ms instead of 90-150 ms).
  firewall: ["--initial-old-space-size=128"],
};

/** `node` arguments that start a bundled service as deployed: its NODE_FLAGS, then the bundle. */
export const serviceNodeArgs = (name: string): string[] => [...(NODE_FLAGS[name] ?? []), bundlePath(name)];

/**
 * Bundles one entry point (a path from the repo root) to dist/<name>.mjs, as a service is deployed.
 * Benchmarks bundle their own server fixtures with it, so what they measure is what runs.
 */
export async function bundleEntry(name: string, entry: string): Promise<string> {
  mkdirSync(outdir, { recursive: true });
  await build({
    entryPoints: [join(root, entry)],
    outfile: bundlePath(name),
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    sourcemap: "linked",
    logLevel: "warning",
    plugins: [projectOnly],
  });
  return bundlePath(name);
}

/** Builds the named service bundles (default all) and returns their paths. */
export function buildBundles(names: string[] = Object.keys(ENTRIES)): Promise<string[]> {
  return Promise.all(names.map((name) => bundleEntry(name, ENTRIES[name]!)));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const names = process.argv.slice(2);
  const unknown = names.filter((n) => !(n in ENTRIES));
  if (unknown.length > 0) {
    console.error(`unknown bundle ${unknown.join(", ")}; known: ${Object.keys(ENTRIES).join(", ")}`);
    process.exit(2);
  }
  const files = await buildBundles(names.length > 0 ? names : undefined);
  for (const f of files) console.log(relative(root, f));
}
