#!/usr/bin/env node
// Generates the bridge's Go code from proto/metalstack/machinedriver with buf and the Go plugins
// (protoc-gen-go, protoc-gen-go-grpc), which are built from their Go modules into ~/.cache/metal-kube.
//   node services/machine-driver/src/adapter/generate.mjs          writes gen/
//   node services/machine-driver/src/adapter/generate.mjs --check  fails when gen/ is stale
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

export const PROTOC_GEN_GO = "google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12";
export const PROTOC_GEN_GO_GRPC = "google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "../../../..");
const genDir = join(here, "gen");
const cache = join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "metal-kube");
const pluginDir = join(
  cache,
  "bin",
  `protoc-plugins-${[PROTOC_GEN_GO, PROTOC_GEN_GO_GRPC].map((p) => p.split("@")[1]).join("-")}`,
);

function ensurePlugins() {
  for (const [pkg, bin] of [
    [PROTOC_GEN_GO, "protoc-gen-go"],
    [PROTOC_GEN_GO_GRPC, "protoc-gen-go-grpc"],
  ]) {
    if (existsSync(join(pluginDir, bin))) continue;
    execFileSync("go", ["install", pkg], {
      stdio: "inherit",
      env: { ...process.env, GOBIN: pluginDir, GOFLAGS: "", GOTOOLCHAIN: "local" },
    });
  }
}

function walk(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

function generate(outBase) {
  ensurePlugins();
  const buf = join(root, "node_modules/.bin/buf");
  execFileSync(
    buf,
    [
      "generate",
      "--template",
      relative(root, join(here, "buf.gen.yaml")),
      ...(outBase ? ["-o", outBase] : []),
    ],
    {
      cwd: root,
      stdio: "inherit",
      env: { ...process.env, PATH: `${pluginDir}:${process.env.PATH}` },
    },
  );
}

if (process.argv.includes("--check")) {
  const tmp = mkdtempSync(join(tmpdir(), "bridge-gen-"));
  try {
    generate(tmp);
    const fresh = join(tmp, relative(root, genDir));
    const want = walk(fresh)
      .map((f) => relative(fresh, f))
      .sort();
    const have = existsSync(genDir)
      ? walk(genDir)
          .map((f) => relative(genDir, f))
          .sort()
      : [];
    const stale = want.filter(
      (f) => !have.includes(f) || !readFileSync(join(fresh, f)).equals(readFileSync(join(genDir, f))),
    );
    const extra = have.filter((f) => !want.includes(f));
    if (stale.length || extra.length) {
      console.error(
        `bridge gen/ is stale: ${[...stale, ...extra].join(", ")}; run node ${relative(root, fileURLToPath(import.meta.url))}`,
      );
      process.exit(1);
    }
    console.log("bridge gen/ is up to date");
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
} else {
  rmSync(genDir, { recursive: true, force: true });
  generate(undefined);
  console.log("generated the bridge's Go code");
}
