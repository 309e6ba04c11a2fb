#!/usr/bin/env node
// Generates TypeScript from proto/ with buf + ts-proto, and a descriptor set for gRPC reflection.
// Skips the work when the protos have not changed since the last run (a hash is kept next to the output).
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "libs/proto/src/gen");
const stamp = join(out, ".hash");
const buf = join(root, "node_modules/.bin/buf");
if (!existsSync(buf)) process.exit(0); // first install pass, before dependencies exist

function walk(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}
const hash = createHash("sha256");
for (const f of [...walk(join(root, "proto")), join(root, "buf.yaml"), join(root, "buf.gen.yaml")].sort()) {
  hash.update(f.slice(root.length)).update(readFileSync(f));
}
hash.update(readFileSync(join(root, "node_modules/ts-proto/package.json")));
// grpc.health.v1 as grpc-health-check ships it: served by reflection beside our own protos.
const healthProtoDir = join(root, "node_modules/grpc-health-check/proto");
if (existsSync(healthProtoDir)) for (const f of walk(healthProtoDir).sort()) hash.update(readFileSync(f));
const digest = hash.digest("hex");
if (!process.argv.includes("--force") && existsSync(stamp) && readFileSync(stamp, "utf8") === digest)
  process.exit(0);

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
execFileSync(buf, ["generate"], { cwd: root, stdio: "inherit" });
execFileSync(buf, ["build", "-o", join(out, "descriptor.binpb")], { cwd: root, stdio: "inherit" });
if (existsSync(healthProtoDir)) {
  // Built from a copy outside the repo: buf would otherwise treat it as part of this workspace.
  const tmp = mkdtempSync(join(tmpdir(), "health-proto-"));
  try {
    cpSync(healthProtoDir, tmp, { recursive: true });
    execFileSync(buf, ["build", tmp, "-o", join(out, "health.binpb")], { cwd: tmp, stdio: "inherit" });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
writeFileSync(stamp, digest);
console.log("generated TypeScript from proto/");
