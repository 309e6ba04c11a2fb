#!/usr/bin/env node
// Installs what `npm start` / `npm test` need and is missing: npm packages, Debian packages, Go-built test
// binaries. Plain Node with no dependencies, because it runs before `npm install` on a fresh clone; the
// Debian and Go steps come after it and call TypeScript in e2e/src through tsx, so that code is not copied.
// Idempotent: a second run only checks.
//   node scripts/ensure.mjs start|test|testbed [--testbed]   (start --testbed: what the test bed needs too)
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const mode = process.argv[2] ?? "start";
if (!["start", "test", "testbed"].includes(mode)) {
  console.error(`ensure: unknown mode "${mode}" (allowed: start, test, testbed)`);
  process.exit(2);
}
const unknownFlags = process.argv.slice(3).filter((a) => a !== "--testbed");
if (unknownFlags.length > 0) {
  console.error(`ensure: unknown argument ${unknownFlags.join(" ")} (allowed after the mode: --testbed)`);
  process.exit(2);
}

/**
 * The arguments npm appended to the script (`npm start -- --testbed`). npm adds them to the script's last
 * command (start.ts) only, so they never reach this step's argv; it runs the script as
 * `sh -c "<script> <args>"`, so they are read back from that shell's command line (Linux's /proc; the
 * Debian packages below make this Linux-only anyway).
 */
function npmAppendedArgs() {
  const script = process.env.npm_lifecycle_script;
  if (!script) return [];
  let shellArgv;
  try {
    shellArgv = readFileSync(`/proc/${process.ppid}/cmdline`, "utf8").split("\0");
  } catch {
    return [];
  }
  const line = shellArgv.find((a) => a.startsWith(script));
  if (line === undefined) return [];
  return line
    .slice(script.length)
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map((a) => a.replace(/^(['"])(.*)\1$/, "$2"));
}

// `npm start -- --testbed` starts the test bed too: install and build what it runs here, where a cold
// kube-apiserver build is reported as such, not inside the stack's startup.
const startTestbed =
  mode === "start" && (process.argv.includes("--testbed") || npmAppendedArgs().includes("--testbed"));

/** Debian package -> a binary it provides; checked by PATH lookup (sbin included). */
const DEBIAN_START = { "nats-server": "nats-server" };
/** What startTestbed runs (e2e/src/binaries.ts ensureSystemTools checks the same at run time). */
const DEBIAN_TESTBED = { ...DEBIAN_START, "etcd-server": "etcd", openssl: "openssl" };
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
  // One implementation with the test bed's own checks (root: apt-get; otherwise sudo -n; a clear error
  // naming the command to run by hand). It is TypeScript, which runs now that ensureNpm put tsx in place.
  const cli = join(ROOT, "e2e", "src", "install-debian-cli.ts");
  const r = spawnSync(process.execPath, ["--import", "tsx", cli, ...missing], {
    stdio: "inherit",
    cwd: ROOT,
  });
  if (r.error) throw r.error;
  // The CLI printed why and what to run by hand.
  if (r.status !== 0) throw new Error(`Debian packages not installed: ${missing.join(" ")}`);
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
  const what = {
    "--grpcurl-only": "grpcurl",
    "--testbed": "the test bed's Go-built binaries (kube-apiserver, grpcurl, CRD modules)",
  };
  log(
    only
      ? `checking ${what[only]} (built from Go modules into ~/.cache/metal-kube)`
      : "checking Go-built test binaries (kube-apiserver, grpcurl, MCM, gardener-apiserver, CRD modules; cached under ~/.cache/metal-kube)",
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
  if (mode === "test") {
    ensureDebian(DEBIAN_TEST);
    ensureGoBinaries();
  } else if (mode === "testbed" || startTestbed) {
    ensureDebian(DEBIAN_TESTBED);
    // Not optional as for plain `start`: the test bed cannot run without kube-apiserver.
    ensureGoBinaries("--testbed");
  } else {
    ensureDebian(DEBIAN_START);
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
