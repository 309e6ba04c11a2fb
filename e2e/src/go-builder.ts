import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { binDir, goBuildDir, lockDir } from "./cache-paths.js";
import { withFileLock } from "./file-lock.js";
import { runCommand } from "./run-command.js";

export const DEFAULT_GO_LDFLAGS = "-s -w";

export interface BuildGoBinaryOptions {
  /** Cache key and binary name, e.g. "kube-apiserver". */
  name: string;
  /** Go module that holds the main package, e.g. "k8s.io/kubernetes". */
  module: string;
  /** Pinned module version, e.g. "v1.30.14". */
  version: string;
  /** Import path of the main package, e.g. "k8s.io/kubernetes/cmd/kube-apiserver". */
  pkg: string;
  /**
   * `replace` lines: module path -> version ("v0.30.14", replaces the module with itself at that
   * version) or a full target ("other/module v1.2.3").
   */
  replaces?: Readonly<Record<string, string>>;
  /** Extra flags for `go build` (after -trimpath). */
  goFlags?: readonly string[];
  /** Linker flags; default "-s -w" (no symbol table or DWARF: about a third smaller). */
  ldflags?: string;
  /** Progress lines ("building kube-apiserver v1.30.14 ..."). */
  onProgress?: (line: string) => void;
}

export interface GoBinary {
  path: string;
  /** True when this call built it, false when it came from the cache. */
  built: boolean;
  /** Wall time of the build in ms (0 from cache). */
  buildMs: number;
}

export const goBinaryPath = (name: string, version: string): string => join(binDir(), `${name}-${version}`);

/** Go toolchain installed on the machine; a PATH without /usr/local/go/bin (CI, cron) still finds it. */
export const DEFAULT_GO_COMMAND = "/usr/local/go/bin/go";

/** The go command: $GO, else the machine's toolchain at /usr/local/go, else `go` from PATH. */
export function goCommand(): string {
  if (process.env.GO) return process.env.GO;
  return existsSync(DEFAULT_GO_COMMAND) ? DEFAULT_GO_COMMAND : "go";
}

let goVersionCache: string | undefined;
async function localGoVersion(): Promise<string> {
  if (!goVersionCache) {
    const v = (await runCommand(goCommand(), ["env", "GOVERSION"], { env: goEnv() })).trim(); // "go1.26.8"
    const m = /^go(\d+\.\d+(?:\.\d+)?)/.exec(v);
    if (!m) throw new Error(`cannot read the Go version from "${v}"`);
    goVersionCache = m[1] as string;
  }
  return goVersionCache;
}

function goModText(o: BuildGoBinaryOptions, goVersion: string): string {
  const lines = [
    `module metal-kube.local/build/${o.name}`,
    "",
    `go ${goVersion}`,
    "",
    `require ${o.module} ${o.version}`,
  ];
  const replaces = Object.entries(o.replaces ?? {});
  if (replaces.length > 0) {
    lines.push("", "replace (");
    for (const [from, to] of replaces) lines.push(`\t${from} => ${to.includes(" ") ? to : `${from} ${to}`}`);
    lines.push(")");
  }
  return `${lines.join("\n")}\n`;
}

/** Environment of every go command the test bed runs. */
export const goEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  // The build module has no go.sum in the repo; let the go command write it in the cache dir.
  // (Replaces the machine's GOFLAGS such as -buildvcs=false, which a module-cache build does not need.)
  GOFLAGS: "-mod=mod",
  // Use the machine's toolchain, never download another one.
  GOTOOLCHAIN: "local",
});

/**
 * Builds `out` once: under a lock file shared by concurrent callers, `build` writes a temporary file that
 * is renamed into place, so no caller ever sees half a binary. Returns undefined when another process
 * had built it meanwhile.
 */
async function buildOnce(
  out: string,
  lockName: string,
  build: (tmp: string) => Promise<void>,
  onWait: (pid: number) => void,
): Promise<{ buildMs: number } | undefined> {
  mkdirSync(binDir(), { recursive: true });
  return withFileLock(
    join(lockDir(), `${lockName}.lock`),
    async () => {
      if (existsSync(out)) return undefined;
      const started = Date.now();
      const tmp = `${out}.tmp-${process.pid}`;
      try {
        await build(tmp);
        renameSync(tmp, out);
      } finally {
        rmSync(tmp, { force: true });
      }
      return { buildMs: Date.now() - started };
    },
    { onWait },
  );
}

/**
 * Builds a Go main package from a pinned module version in its own small module under
 * ~/.cache/metal-kube/go/<name>-<version>/ and caches the binary at ~/.cache/metal-kube/bin/<name>-<version>.
 * Rebuilds only when the binary is absent; concurrent callers wait on a lock file and share the result.
 */
export async function buildGoBinary(o: BuildGoBinaryOptions): Promise<GoBinary> {
  const key = `${o.name}-${o.version}`;
  const out = goBinaryPath(o.name, o.version);
  if (existsSync(out)) return { path: out, built: false, buildMs: 0 };
  const progress = o.onProgress ?? (() => {});
  const done = await buildOnce(
    out,
    key,
    async (tmp) => {
      const dir = goBuildDir(key);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "go.mod"), goModText(o, await localGoVersion()));
      const env = goEnv();
      progress(`${key}: go mod download ${o.module}@${o.version}`);
      await runCommand(goCommand(), ["mod", "download", o.module], { cwd: dir, env });
      progress(`${key}: go build ${o.pkg} (cold builds take minutes)`);
      const ldflags = o.ldflags ?? DEFAULT_GO_LDFLAGS;
      const args = ["build", "-trimpath", ...(o.goFlags ?? []), "-ldflags", ldflags, "-o", tmp, o.pkg];
      await runCommand(goCommand(), args, { cwd: dir, env });
    },
    (pid) => progress(`${key}: waiting for pid ${pid}, which is building it`),
  );
  if (!done) return { path: out, built: false, buildMs: 0 };
  progress(`${key}: built in ${(done.buildMs / 1000).toFixed(0)} s -> ${out}`);
  return { path: out, built: true, buildMs: done.buildMs };
}

/** The module cache escapes upper-case letters as "!" + lower-case. */
function escapeModulePath(p: string): string {
  return p.replace(/[A-Z]/g, (c) => `!${c.toLowerCase()}`);
}

let modCacheDir: string | undefined;
async function goModCache(): Promise<string> {
  modCacheDir ??= (await runCommand(goCommand(), ["env", "GOMODCACHE"], { env: goEnv() })).trim();
  return modCacheDir;
}

/**
 * Directory of a pinned module version in the Go module cache, downloading it when absent
 * (`go mod download`). `expect` names a file that must be inside (checked on disk first, so a warm
 * start runs only `go env`). The go command locks the module cache itself, so parallel callers are safe.
 */
export async function goModuleDir(module: string, version: string, expect = "go.mod"): Promise<string> {
  const guess = join(await goModCache(), `${escapeModulePath(module)}@${escapeModulePath(version)}`);
  if (existsSync(join(guess, expect))) return guess;
  const json = await runCommand(goCommand(), ["mod", "download", "-json", `${module}@${version}`], {
    cwd: tmpdir(),
    env: { ...goEnv(), GOFLAGS: "" },
  }).catch((err: Error) => {
    throw new Error(`go mod download ${module}@${version} failed: ${err.message}`, { cause: err });
  });
  const info = JSON.parse(json) as { Dir?: string; Error?: string };
  if (!info.Dir) throw new Error(`go mod download ${module}@${version}: ${info.Error ?? "no directory"}`);
  if (!existsSync(join(info.Dir, expect)))
    throw new Error(`${module}@${version} has no ${expect} (looked in ${info.Dir})`);
  return info.Dir;
}

export interface BuildRepoGoBinaryOptions {
  /** Binary name; the cached file is <name>-<hash of the sources>. */
  name: string;
  /** Directory of a Go main module in this repo (go.mod, go.sum, *.go). */
  dir: string;
  onProgress?: (line: string) => void;
}

function goSources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return goSources(p);
    return /\.go$|^go\.(mod|sum)$/.test(n) && !n.endsWith("_test.go") ? [p] : [];
  });
}

/**
 * Builds a Go main module kept in this repo (the MCM bridge, the benchmarks' load generator) into
 * ~/.cache/metal-kube/bin, once per state of its sources: an edit gets a new binary, a rerun none.
 */
export async function buildRepoGoBinary(o: BuildRepoGoBinaryOptions): Promise<string> {
  const hash = createHash("sha256");
  for (const f of goSources(o.dir).sort()) hash.update(relative(o.dir, f)).update(readFileSync(f));
  const out = join(binDir(), `${o.name}-${hash.digest("hex").slice(0, 16)}`);
  if (existsSync(out)) return out;
  const progress = o.onProgress ?? (() => {});
  const done = await buildOnce(
    out,
    o.name,
    async (tmp) => {
      progress(`building ${o.name} (cold builds take minutes)`);
      await runCommand(goCommand(), ["build", "-trimpath", "-ldflags", DEFAULT_GO_LDFLAGS, "-o", tmp, "."], {
        cwd: o.dir,
        env: { ...process.env, GOTOOLCHAIN: "local", GOFLAGS: "-buildvcs=false" },
      });
    },
    (pid) => progress(`${o.name}: waiting for pid ${pid}, which is building it`),
  );
  if (done) progress(`${o.name} built in ${Math.round(done.buildMs / 1000)} s`);
  return out;
}
