#!/usr/bin/env node
// Installs what `npm start` / `npm test` need and is missing: npm packages, Debian packages, Go-built test
// binaries. Plain Node with no dependencies, because it runs before `npm install` on a fresh clone.
// Idempotent: a second run only checks.
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const mode = process.argv[2] ?? "start";
if (!["start", "test", "testbed"].includes(mode)) {
  console.error(`ensure: unknown mode "${mode}" (allowed: start, test, testbed)`);
  process.exit(2);
}

/** Debian package -> a binary it provides; checked by PATH lookup (sbin included). */
const DEBIAN_START = { "nats-server": "nats-server" };
const DEBIAN_TEST = {
  ...DEBIAN_START,
  "etcd-server": "etcd",
  nftables: "nft",
  ignition: "ignition-validate",
  iproute2: "ip",
  openssl: "openssl",
};

const log = (msg) => console.log(`ensure: ${msg}`);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: "inherit", cwd: ROOT, ...opts });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited with ${r.status}`);
}

function onPath(bin) {
  const dirs = `${process.env.PATH ?? ""}:/usr/sbin:/sbin:/usr/local/sbin:/usr/local/bin:/usr/bin`.split(":");
  return dirs.some((d) => d && existsSync(join(d, bin)));
}

function ensureNpm() {
  const marker = join(ROOT, "node_modules", ".package-lock.json");
  const lock = join(ROOT, "package-lock.json");
  const stale =
    !existsSync(marker) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(marker).mtimeMs);
  if (!stale) return;
  log("installing npm packages");
  // `npm ci` on a fresh clone reproduces the lock file exactly; `install` when a lock was edited locally.
  const useCi = !existsSync(join(ROOT, "node_modules"));
  run("npm", [useCi ? "ci" : "install", "--no-audit", "--no-fund"]);
}

function ensureDebian(wanted) {
  const missing = Object.entries(wanted)
    .filter(([, bin]) => !onPath(bin))
    .map(([pkg]) => pkg);
  if (missing.length === 0) return;
  log(`installing Debian packages: ${missing.join(" ")}`);
  const sudo = process.getuid?.() === 0 ? [] : ["sudo", "-n"];
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const aptGet = (args) => {
    const argv = [...sudo, "apt-get", ...args];
    run(argv[0], argv.slice(1), { env });
  };
  const install = ["install", "-y", "-qq", "--no-install-recommends", ...missing];
  try {
    aptGet(install);
  } catch {
    // Package lists are absent on a fresh machine: refresh once and retry.
    aptGet(["update", "-qq"]);
    aptGet(install);
  }
  const still = Object.entries(wanted).filter(([, bin]) => !onPath(bin));
  if (still.length)
    throw new Error(`still missing after apt-get: ${still.map(([p, b]) => `${b} (${p})`).join(", ")}`);
}

function ensureGoBinaries(only) {
  const cli = join(ROOT, "e2e", "src", "ensure-cli.ts");
  if (!existsSync(cli)) return;
  if (!onPath("go") && !existsSync("/usr/local/go/bin/go")) {
    throw new Error("Go is needed to build kube-apiserver and grpcurl for the tests; install Go >= 1.24");
  }
  log(
    only
      ? "checking grpcurl (built from its Go module into ~/.cache/metal-kube)"
      : "checking Go-built test binaries (kube-apiserver, grpcurl, MCM, CRD modules; cached under ~/.cache/metal-kube)",
  );
  const env = { ...process.env, PATH: `${process.env.PATH}:/usr/local/go/bin` };
  run(process.execPath, ["--import", "tsx", cli, ...(only ? [only] : [])], { env });
  if (only) return;
  // Services with Go parts of their own (the MCM bridge) build them here too, outside any test timeout.
  const bridge = join(ROOT, "services", "machine-driver", "test", "ensure-bridge-cli.ts");
  if (existsSync(bridge)) run(process.execPath, ["--import", "tsx", bridge], { env });
}

try {
  ensureNpm();
  ensureDebian(mode === "start" ? DEBIAN_START : DEBIAN_TEST);
  if (mode !== "start") ensureGoBinaries();
  else {
    // The stack runs without grpcurl; its endpoint table points at it, so build it when Go is there.
    try {
      ensureGoBinaries("--grpcurl-only");
    } catch (err) {
      log(
        `grpcurl not built (${err instanceof Error ? err.message : String(err)}); the stack runs without it`,
      );
    }
  }
} catch (err) {
  console.error(`ensure: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
