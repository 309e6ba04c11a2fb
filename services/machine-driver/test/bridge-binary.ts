// Builds the bridge (MCM's machine controller with the gRPC driver) once per source state and caches
// the binary under ~/.cache/metal-kube/bin, like the test bed's Go builds.

import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import { binDir, cacheRoot, goCommand, withFileLock } from "@metal-kube/e2e";

const run = promisify(execFile);
export const BRIDGE_DIR = join(import.meta.dirname, "../bridge");

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return sources(p);
    return /\.go$|^go\.(mod|sum)$/.test(n) && !n.endsWith("_test.go") ? [p] : [];
  });
}

/** Path of the bridge binary, built when its sources changed since the last build. */
export async function ensureBridgeBinary(onProgress: (line: string) => void = () => {}): Promise<string> {
  const hash = createHash("sha256");
  for (const f of sources(BRIDGE_DIR).sort()) hash.update(relative(BRIDGE_DIR, f)).update(readFileSync(f));
  const out = join(binDir(), `machine-controller-metal-${hash.digest("hex").slice(0, 16)}`);
  if (existsSync(out)) return out;
  mkdirSync(binDir(), { recursive: true });
  return withFileLock(join(cacheRoot(), "locks", "machine-controller-metal.lock"), async () => {
    if (existsSync(out)) return out;
    onProgress("building the machine-driver bridge (cold builds take minutes)");
    const started = Date.now();
    const tmp = `${out}.tmp-${process.pid}`;
    try {
      await run(goCommand(), ["build", "-trimpath", "-ldflags", "-s -w", "-o", tmp, "."], {
        cwd: BRIDGE_DIR,
        env: { ...process.env, GOTOOLCHAIN: "local", GOFLAGS: "-buildvcs=false" },
        maxBuffer: 16 << 20,
      });
      renameSync(tmp, out);
    } finally {
      rmSync(tmp, { force: true });
    }
    onProgress(`bridge built in ${Math.round((Date.now() - started) / 1000)} s`);
    return out;
  });
}
